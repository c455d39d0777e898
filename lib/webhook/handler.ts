/**
 * `POST /event`, a trigger: authenticate, bound, parse and validate a registry notification,
 * record its pushes and wait for the reconciles they cause, answering so that the registry's
 * retries do the rest: 200 once those reconciles finished (applied, no-op, or refused by
 * admission: reported and retried from the work queue), 503 when they could not finish in
 * time because the API server or a registry is unavailable or the cache is not synced, 4xx
 * for deliveries that can never succeed.
 *
 * @module
 */

import { repositoryKey } from "../image/reference.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { RecordedPush } from "../reconcile/facts.ts";
import type { DeliverySummary } from "../reconcile/deliver.ts";
import { BodyTooLargeError, readBodyLimited } from "./body.ts";
import { EnvelopeError, parseEnvelope, type RefusalReason } from "./envelope.ts";
import { type RegistryAliases, registryNameOf } from "./registry_name.ts";
import { tokenMatches } from "./token.ts";

/** Header carrying the shared secret, as in the original Argoos. */
export const TOKEN_HEADER = "X-Argoos-Token";
/** Header naming the registry's public host, when the registry config sets it. */
export const REGISTRY_NAME_HEADER = "X-Argoos-Registry-Name";
/** Largest body accepted: real envelopes hold one event of about 1 KiB. */
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
  /** No event to act on (pulls, blob pushes, pushes by digest, …). */
  | "ignored"
  | "unauthorized"
  | "malformed"
  | "too-large"
  | "retry";

/** Options of {@linkcode webhookHandler}. */
export interface WebhookOptions {
  /** Expected `X-Argoos-Token`; undefined accepts every delivery. */
  token?: string;
  aliases?: RegistryAliases;
  /**
   * Records the pushes and waits for the reconciles they cause (`deliverPushes`); rejects
   * when they could not finish (unavailable API server or registry, deadline).
   */
  deliver: (pushes: RecordedPush[], deadlineMs: number) => Promise<DeliverySummary>;
  /**
   * Whether the workload cache is in sync and watching. Until it is, deliveries are answered
   * 503 and left to the registry's retries: an empty cache would wrongly decide "nothing to do".
   */
  ready?: () => boolean;
  logger?: Logger;
  maxBodyBytes?: number;
  /** How long to wait for the reconciles; default {@linkcode DEFAULT_DELIVERY_DEADLINE_MS}. */
  deadlineMs?: number;
  onDelivery?: (outcome: DeliveryOutcome, seconds: number) => void;
  /** Told of each delivery refused as malformed, with why (a metrics label). */
  onRefused?: (reason: RefusalReason) => void;
}

const EMPTY: DeliverySummary = { applied: 0, unchanged: 0, refused: 0 };

const json = (status: number, body: Record<string, unknown>) =>
  Response.json(body, { status, headers: { "cache-control": "no-store" } });

/**
 * The request handler for `POST /event`.
 *
 * @example
 * ```ts ignore
 * import { webhookHandler } from "./handler.ts";
 * const handle = webhookHandler({ token: "s3cret", deliver: (pushes, ms) => deliverPushes(deps, pushes, ms) });
 * const res = await handle(request);
 * ```
 */
export function webhookHandler(opts: WebhookOptions): (req: Request) => Promise<Response> {
  const log = (opts.logger ?? silentLogger).with({ component: "webhook" });
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DELIVERY_DEADLINE_MS;
  const aliases = opts.aliases ?? new Map();
  const maxBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;

  async function handle(req: Request): Promise<[DeliveryOutcome, Response]> {
    if (
      opts.token !== undefined && !tokenMatches(opts.token, req.headers.get(TOKEN_HEADER))
    ) {
      await req.body?.cancel();
      log.warn("delivery refused: missing or wrong token");
      return ["unauthorized", json(401, { error: `missing or wrong ${TOKEN_HEADER} header` })];
    }
    if (opts.ready && !opts.ready()) {
      await req.body?.cancel();
      log.info("delivery deferred: workload cache not in sync, or not watching");
      return [
        "retry",
        json(503, {
          error: "not ready: the workload cache is not in sync yet, or cannot watch",
        }),
      ];
    }
    let envelope;
    try {
      envelope = parseEnvelope(await readBodyLimited(req, maxBytes));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        log.warn("delivery refused: too large", { error: err });
        return ["too-large", json(413, { error: err.message })];
      }
      if (err instanceof EnvelopeError) {
        log.warn("delivery refused: malformed", { error: err, reason: err.reason });
        opts.onRefused?.(err.reason);
        return ["malformed", json(400, { error: err.message })];
      }
      throw err;
    }
    for (const ev of envelope.ignored) log.debug("event ignored", { ...ev });
    if (envelope.pushes.length === 0) {
      return ["ignored", json(200, { ...EMPTY, ignored: envelope.ignored.length })];
    }
    const header = req.headers.get(REGISTRY_NAME_HEADER);
    const received = Date.now();
    const pushes: RecordedPush[] = envelope.pushes.map((p) => {
      const at = Date.parse(p.timestamp);
      return {
        repository: repositoryKey(registryNameOf(p.requestHost, header, aliases), p.repository),
        tag: p.tag,
        digest: p.digest,
        // The registry's push time orders pushes (the last push wins), whatever order
        // deliveries arrive in; the time received only when the event has none.
        pushedAt: Number.isNaN(at) ? received : at,
        source: "distribution",
      };
    });
    let summary: DeliverySummary;
    try {
      summary = await opts.deliver(pushes, deadlineMs);
    } catch (err) {
      log.warn("pushes recorded, reconciles not finished: asking the registry to deliver again", {
        pushes: pushes.map((p) => `${p.repository}:${p.tag}`),
        error: err,
      });
      return ["retry", json(503, { error: `not finished yet: ${(err as Error).message}` })];
    }
    log.info("delivery handled", {
      ids: envelope.pushes.map((p) => p.id),
      pushes: pushes.map((p) => `${p.repository}:${p.tag}`),
      ...summary,
    });
    const outcome = summary.applied ? "applied" : summary.refused ? "refused" : "unchanged";
    return [outcome, json(200, { ...summary, ignored: envelope.ignored.length })];
  }

  return async (req) => {
    const started = performance.now();
    const [outcome, res] = await handle(req);
    opts.onDelivery?.(outcome, (performance.now() - started) / 1000);
    return res;
  };
}
