/**
 * Around the request handler: a deadline on reading the body, a cap on requests that
 * carry one (deliveries) handled at once, and a failed upload answered as one logged line
 * instead of a 500 with a stack trace.
 *
 * @module
 */

import { type Logger, silentLogger } from "../log/logger.ts";
import { redactPath } from "../webhook/sources/routes.ts";
import { type FastAnswer, receivedWhole } from "./front.ts";

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

/**
 * The cap on requests with a body handled at once, one for every way in: the guard's, and the
 * front's fast path (see {@linkcode guardFast}).
 *
 * @example
 * ```ts
 * import { InFlightCap } from "./guard.ts";
 * const cap = new InFlightCap(1);
 * cap.enter(); // true
 * cap.enter(); // false: one in progress
 * cap.leave();
 * ```
 */
export class InFlightCap {
  #count = 0;
  /** At most `max` at once (default 32). */
  constructor(readonly max = 32) {}

  /** Whether one more may start now; if so, `leave` once it ended. */
  enter(): boolean {
    if (this.#count >= this.max) return false;
    this.#count++;
    return true;
  }

  leave(): void {
    this.#count--;
  }

  /** The one-line reason a request over the cap is answered 503. */
  get busy(): string {
    return `busy: ${this.max} deliveries in progress, retry\n`;
  }
}

/** Options of {@linkcode guardHandler}. */
export interface GuardOptions {
  /** Time from the request's arrival to the end of its body; default 10 s. */
  bodyTimeoutMs?: number;
  /**
   * Most requests with a body handled at once, shared with {@linkcode guardFast}; default 32.
   * Beyond it: 503 + Retry-After.
   */
  cap?: InFlightCap;
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

/** A plain-text answer of the guard, as the fast path writes it. */
const plain = (status: number, body: string, headers: Record<string, string> = {}): FastAnswer => ({
  status,
  body,
  headers: { "content-type": "text/plain", ...headers },
});

const text = (status: number, body: string, headers: Record<string, string> = {}) => {
  const answer = plain(status, body, headers);
  return new Response(answer.body, { status, headers: answer.headers });
};

/** The first UploadCut in an error's cause chain. */
function uploadCutIn(err: unknown): UploadCut | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof UploadCut) return e;
  }
  return undefined;
}

/**
 * Wrap `handler`: bodies read within `bodyTimeoutMs`, at most `cap.max` requests with a
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
  const cap = opts.cap ?? new InFlightCap();
  return async (req) => {
    // Before `req.body` is read, which makes a stream of a body held whole.
    const whole = receivedWhole(req);
    if (!whole && !req.body) return await handler(req).catch((err) => failed(err, req));
    if (!cap.enter()) {
      if (!whole) await req.body!.cancel().catch(() => {});
      opts.onCut?.("busy");
      return text(503, cap.busy, BUSY_HEADERS);
    }
    try {
      // A body received whole needs no deadline.
      if (whole) return await handler(req);
      const body = timedBody(req.body!, performance.now() + bodyTimeoutMs);
      // Built from `req` (its method and headers): copying them by hand costs twice as much.
      return await handler(new Request(req, { body }));
    } catch (err) {
      return failed(err, req);
    } finally {
      cap.leave();
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
    return text(500, INTERNAL_ERROR);
  }
}

const INTERNAL_ERROR = "internal error\n";

const BUSY_HEADERS = { "retry-after": "1" };

/**
 * Runs an answer of the front's fast path for `pathname`: within the cap when the request has
 * a body (`counted`), as the guard counts.
 */
export type FastAdmit = (
  pathname: string,
  run: () => Promise<FastAnswer>,
  counted: boolean,
) => Promise<FastAnswer>;

/**
 * The guard of the front's fast path: `run` answers a request received whole (so no upload
 * can be cut) within `opts.cap`, shared with {@linkcode guardHandler}'s, when it has a body;
 * over it, 503 and Retry-After; a failure is answered 500 and logged once, with the path
 * redacted.
 *
 * @example
 * ```ts ignore
 * import { guardFast, InFlightCap } from "./guard.ts";
 * const admit = guardFast({ cap: new InFlightCap(32) });
 * const answer = await admit("/event", () => Promise.resolve({ status: 200, headers: {}, body: "{}" }), true);
 * ```
 */
export function guardFast(
  opts: { cap: InFlightCap } & Pick<GuardOptions, "logger" | "onCut">,
): FastAdmit {
  const log = (opts.logger ?? silentLogger).with({ component: "http" });
  return async (pathname, run, counted) => {
    if (counted && !opts.cap.enter()) {
      opts.onCut?.("busy");
      return plain(503, opts.cap.busy, BUSY_HEADERS);
    }
    try {
      return await run();
    } catch (err) {
      const path = redactPath(pathname);
      log.error("request failed", { path, error: (err as Error)?.message ?? String(err) });
      return plain(500, INTERNAL_ERROR);
    } finally {
      if (counted) opts.cap.leave();
    }
  };
}
