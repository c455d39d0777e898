/**
 * The webhook routes, triggers all of one shape: authenticate, bound, parse and validate a
 * registry's notification (each route with its source's receiver), record its pushes and wait
 * for the reconciles they cause, answering so that the sender's retries do the rest: 200 once
 * those reconciles finished (applied, no-op, refused by admission, or met a registry answer
 * no retry can fix: reported and retried from the work queue), 503 only when they could not
 * finish in time for a reason that passes (the API server or a registry unavailable, the cache
 * not synced), 4xx for deliveries that can never succeed.
 *
 * @module
 */

import { type Logger, silentLogger } from "../log/logger.ts";
import type { RecordedPush } from "../image/push.ts";
import type { DeliverySummary } from "../reconcile/deliver.ts";
import { BodyTooLargeError, readBodyLimited } from "./body.ts";
import type { RegistryAliases } from "./sources/registry_name.ts";
import type { HeaderReader } from "./sources/types.ts";
import { authorized, authRefusal } from "./auth.ts";
import { receive } from "./sources/receive.ts";
import { type ReceiverRoute, redactPath } from "./sources/routes.ts";
import type { TokenSource } from "./token.ts";

/** Largest body accepted: real notifications hold one event of a few KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** How long a delivery waits for its reconciles: a little under the registry's usual 5 s. */
export const DEFAULT_DELIVERY_DEADLINE_MS = 4_000;

/** How a delivery ended, for metrics. */
export type DeliveryOutcome =
  /** At least one workload was rolled out (or would be, in a dry run). */
  | "applied"
  /** Pushes handled, nothing to roll out (no workload, or none the policy moves). */
  | "unchanged"
  /** Some workload's write was refused (admission): answered 200, reported, retried. */
  | "refused"
  /** Some workload's registry answered for good (`isFinal`): answered 200, reported, retried. */
  | "rejected"
  /** No event to act on (pulls, blob pushes, pushes by digest, deletes, …). */
  | "ignored"
  /** A sender checking the route (GitHub's `ping`). */
  | "ping"
  | "unauthorized"
  | "malformed"
  | "too-large"
  | "retry";

/** Options of {@linkcode deliveryHandler}, shared by every route. */
export interface WebhookOptions {
  /**
   * The token every route checks its own way, read per delivery (a rotated token file takes
   * effect at once; an unreadable one refuses every delivery); undefined accepts all.
   */
  token?: TokenSource;
  aliases?: RegistryAliases;
  /**
   * Records the pushes and waits for the reconciles they cause (`deliverPushes`); rejects
   * when they could not finish (unavailable API server or registry, deadline).
   */
  deliver: (pushes: RecordedPush[], deadlineMs: number) => Promise<DeliverySummary>;
  /**
   * Whether the workload cache is in sync and watching. Until it is, deliveries are answered
   * 503 and left to the sender's retries: an empty cache would wrongly decide "nothing to do".
   */
  ready?: () => boolean;
  logger?: Logger;
  maxBodyBytes?: number;
  /** How long to wait for the reconciles; default {@linkcode DEFAULT_DELIVERY_DEADLINE_MS}. */
  deadlineMs?: number;
  /** Called once per delivery with the route's source (`distribution`, `dockerhub`, …). */
  onDelivery?: (route: string, outcome: DeliveryOutcome, seconds: number) => void;
  /** Told of each delivery refused as malformed, with why (a metrics label). */
  onRefused?: (refusal: string) => void;
}

/** Handles one route's deliveries; `pathToken` is the token segment of a token-in-path route. */
export type RouteHandler = (req: Request, pathToken?: string) => Promise<Response>;

/**
 * A delivery as a route reads it: from a `Request`, or from the bytes the front received whole
 * (no request object to build: see serveFront's `fast`).
 *
 * @example
 * ```ts
 * import type { DeliveryRequest } from "./handler.ts";
 * const d: DeliveryRequest = {
 *   pathname: "/event",
 *   headers: new Headers({ "x-argoos-token": "s3cret" }),
 *   text: () => Promise.resolve('{"events":[]}'),
 *   discard: () => Promise.resolve(),
 * };
 * ```
 */
export interface DeliveryRequest {
  /** The request's path (logged redacted: a token-in-path route's path is its secret). */
  pathname: string;
  headers: HeaderReader;
  /** The body as text; rejects with {@linkcode BodyTooLargeError} past `maxBytes`. */
  text(maxBytes: number): Promise<string>;
  /** Lets go of a body that will not be read. */
  discard(): Promise<void>;
}

/**
 * How a route answers a delivery: a status and a JSON body, never cached.
 *
 * @example
 * ```ts
 * import type { DeliveryAnswer } from "./handler.ts";
 * const busy: DeliveryAnswer = { status: 503, body: { error: "not ready" } };
 * ```
 */
export interface DeliveryAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Handles one route's deliveries, whatever they were read from. */
export type DeliveryHandler = (d: DeliveryRequest, pathToken?: string) => Promise<DeliveryAnswer>;

const EMPTY: DeliverySummary = { applied: 0, unchanged: 0, refused: 0, rejected: 0 };

const json = (status: number, body: Record<string, unknown>): DeliveryAnswer => ({ status, body });

/** The headers of every answer to a delivery, beside its JSON body. */
const ANSWER_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json",
  "cache-control": "no-store",
};

/**
 * The handler of one webhook route over `Request` and `Response`, as `routes` mounts it.
 *
 * @example
 * ```ts ignore
 * import { deliveryHandler, requestHandler } from "./handler.ts";
 * const handle = requestHandler(deliveryHandler(route, opts));
 * const res = await handle(new Request("http://argoos/event", { method: "POST", body }));
 * ```
 */
export function requestHandler(deliveries: DeliveryHandler): RouteHandler {
  return async (req, pathToken) => {
    const answer = await deliveries({
      pathname: new URL(req.url).pathname,
      headers: req.headers,
      text: (maxBytes) => readBodyLimited(req, maxBytes),
      discard: async () => {
        if (!req.bodyUsed) await req.body?.cancel();
      },
    }, pathToken);
    const { status, headers, body } = encodeAnswer(answer);
    return new Response(body, { status, headers });
  };
}

/**
 * An answer as written (JSON, not to be cached): one encoding for both ways in.
 *
 * @example
 * ```ts
 * import { encodeAnswer } from "./handler.ts";
 * encodeAnswer({ status: 200, body: { applied: 1 } }).body; // '{"applied":1}'
 * ```
 */
export function encodeAnswer(answer: DeliveryAnswer): {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
} {
  return { status: answer.status, headers: ANSWER_HEADERS, body: JSON.stringify(answer.body) };
}

/**
 * The deliveries of one webhook route (`POST /event`, `/event/dockerhub/<token>`, …), read from
 * a `Request` ({@linkcode requestHandler}) or from the front's bytes.
 *
 * @example
 * ```ts ignore
 * import { deliveryHandler } from "./handler.ts";
 * const handle = deliveryHandler(route, { token, deliver });
 * const { status, body } = await handle(delivery, pathToken);
 * ```
 */
export function deliveryHandler(route: ReceiverRoute, opts: WebhookOptions): DeliveryHandler {
  const base = (opts.logger ?? silentLogger).with({ component: "webhook" });
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DELIVERY_DEADLINE_MS;
  const aliases = opts.aliases ?? new Map();
  const maxBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;

  async function handle(
    req: DeliveryRequest,
    pathToken?: string,
  ): Promise<[DeliveryOutcome, DeliveryAnswer]> {
    // Logged as the route, never the path: a token-in-path route's path is its secret.
    const log = base.with({ route: redactPath(req.pathname) });
    const refuse = async (why: string): Promise<[DeliveryOutcome, DeliveryAnswer]> => {
      await req.discard();
      log.warn("delivery refused: missing or wrong token", { reason: why });
      return ["unauthorized", json(401, { error: why })];
    };
    // The token is checked once: every proof but GitHub's signature before the body is read,
    // GitHub's signature (of the body) after.
    const signed = route.auth === "github-signature";
    // null: a token is configured but cannot be read now (its file is unusable): refuse all.
    const token = opts.token ? await opts.token.current().catch(() => null) : undefined;
    if (token === null) return await refuse(authRefusal(route.auth));
    if (
      !signed && !await authorized(route.auth, token, { headers: req.headers, body: "", pathToken })
    ) {
      return await refuse(authRefusal(route.auth));
    }
    if (opts.ready && !opts.ready()) {
      await req.discard();
      log.info("delivery deferred: workload cache not in sync, or not watching");
      return [
        "retry",
        json(503, {
          error: "not ready: the workload cache is not in sync yet, or cannot watch",
        }),
      ];
    }
    let body: string;
    try {
      body = await req.text(maxBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      log.warn("delivery refused: too large", { error: err });
      return ["too-large", json(413, { error: err.message })];
    }
    if (signed && !await authorized(route.auth, token, { headers: req.headers, body })) {
      return await refuse(authRefusal(route.auth));
    }
    const received = receive(route, {
      headers: req.headers,
      body,
      receivedAt: Date.now(),
      aliases,
    });
    switch (received.outcome) {
      case "malformed":
        log.warn("delivery refused: malformed", {
          reason: received.reason,
          refusal: received.refusal,
        });
        opts.onRefused?.(received.refusal);
        return ["malformed", json(400, { error: received.reason })];
      case "ping":
        log.info("ping answered");
        return ["ping", json(200, { ...EMPTY, ignored: 0 })];
    }
    const { pushes, ignored } = received;
    for (const why of ignored) log.debug("event ignored", { reason: why });
    if (pushes.length === 0) {
      return ["ignored", json(200, { ...EMPTY, ignored: ignored.length })];
    }
    const names = pushes.map((p) => `${p.repository}:${p.tag}`);
    let summary: DeliverySummary;
    try {
      summary = await opts.deliver(pushes, deadlineMs);
    } catch (err) {
      log.warn("pushes recorded, reconciles not finished: asking the sender to deliver again", {
        pushes: names,
        error: err,
      });
      return ["retry", json(503, { error: `not finished yet: ${(err as Error).message}` })];
    }
    log.info("delivery handled", { pushes: names, ...summary });
    const outcome = summary.applied
      ? "applied"
      : summary.refused
      ? "refused"
      : summary.rejected
      ? "rejected"
      : "unchanged";
    return [outcome, json(200, { ...summary, ignored: ignored.length })];
  }

  return async (req, pathToken) => {
    const started = performance.now();
    const [outcome, res] = await handle(req, pathToken);
    opts.onDelivery?.(route.source, outcome, (performance.now() - started) / 1000);
    return res;
  };
}
