/**
 * Around the request handler: a deadline on reading the body, a cap on requests that
 * carry one (deliveries) handled at once, and a failed upload answered as one logged line
 * instead of a 500 with a stack trace.
 *
 * @module
 */

import { type Logger, silentLogger } from "../log/logger.ts";
import { redactPath } from "../webhook/sources/routes.ts";
import { receivedWhole } from "./front.ts";

/** Why an upload did not arrive whole. */
export type UploadCutReason = "body-timeout" | "aborted";

/** The request body did not arrive whole: too slow, or the client went away. */
export class UploadCut extends Error {
  override name = "UploadCut";
  constructor(readonly reason: UploadCutReason, cause?: unknown) {
    super(
      reason === "body-timeout"
        ? "request body not received in time"
        : "client went away during the upload",
      { cause },
    );
  }
}

/** Options of {@linkcode guardHandler}. */
export interface GuardOptions {
  /** Time from the request's arrival to the end of its body; default 10 s. */
  bodyTimeoutMs?: number;
  /** Most requests with a body handled at once; default 32. Beyond it: 503 + Retry-After. */
  maxInFlight?: number;
  logger?: Logger;
  /** Told about each upload cut. */
  onCut?: (reason: UploadCutReason | "busy") => void;
}

/** The body, erroring with {@linkcode UploadCut} when it is too slow or breaks off. */
function timedBody(body: ReadableStream<Uint8Array>, deadline: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  // One timer for the whole body (armed at the first read), not one per read.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timeout: Promise<never> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      timeout ??= new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new UploadCut("body-timeout")),
          Math.max(0, deadline - performance.now()),
        );
      });
      try {
        const { done, value } = await Promise.race([reader.read(), timeout]);
        if (done) {
          clearTimeout(timer);
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        clearTimeout(timer);
        reader.cancel().catch(() => {});
        controller.error(err instanceof UploadCut ? err : new UploadCut("aborted", err));
      }
    },
    cancel: (reason) => {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
}

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });

/** The first UploadCut in an error's cause chain. */
function uploadCutIn(err: unknown): UploadCut | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof UploadCut) return e;
  }
  return undefined;
}

/**
 * Wrap `handler`: bodies read within `bodyTimeoutMs`, at most `maxInFlight` requests with a
 * body at once, and an upload that fails answered (`408` too slow, `400` broken off) and
 * logged in one line. Any other error is logged in one line and answered `500`.
 *
 * @example
 * ```ts
 * import { guardHandler } from "./guard.ts";
 * const handle = guardHandler(async (req) => new Response(await req.text()));
 * await (await handle(new Request("http://x/", { method: "POST", body: "hi" }))).text(); // "hi"
 * ```
 */
export function guardHandler(
  handler: (req: Request) => Promise<Response>,
  opts: GuardOptions = {},
): (req: Request) => Promise<Response> {
  const log = (opts.logger ?? silentLogger).with({ component: "http" });
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 10_000;
  const maxInFlight = opts.maxInFlight ?? 32;
  let inFlight = 0;
  return async (req) => {
    // Before `req.body` is read, which makes a stream of a body held whole.
    const whole = receivedWhole(req);
    if (!whole && !req.body) return await handler(req).catch((err) => failed(err, req));
    if (inFlight >= maxInFlight) {
      if (!whole) await req.body!.cancel().catch(() => {});
      opts.onCut?.("busy");
      return text(503, `busy: ${maxInFlight} deliveries in progress, retry\n`, {
        "retry-after": "1",
      });
    }
    inFlight++;
    try {
      // A body received whole needs no deadline.
      if (whole) return await handler(req);
      const body = timedBody(req.body!, performance.now() + bodyTimeoutMs);
      // Built from `req` (its method and headers): copying them by hand costs twice as much.
      return await handler(new Request(req, { body }));
    } catch (err) {
      return failed(err, req);
    } finally {
      inFlight--;
    }
  };

  function failed(err: unknown, req: Request): Response {
    const cut = uploadCutIn(err);
    // A token-in-path route's path is its secret.
    const path = redactPath(new URL(req.url).pathname);
    if (cut) {
      opts.onCut?.(cut.reason);
      log.warn("upload cut", { path, reason: cut.reason });
      return cut.reason === "body-timeout"
        ? text(408, `${cut.message}\n`, { connection: "close" })
        : text(400, `${cut.message}\n`);
    }
    log.error("request failed", { path, error: (err as Error)?.message ?? String(err) });
    return text(500, "internal error\n");
  }
}
