/**
 * `POST /event`: authenticate, bound, parse and apply a registry notification,
 * answering so that the registry's retries do the rest: 2xx only once every
 * push is applied or decided to be a no-op, 5xx when a transient failure kept
 * one from being applied, 4xx for deliveries that can never succeed.
 *
 * @module
 */

import { repositoryKey } from "../image/reference.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { ApplyPush } from "./apply_push.ts";
import { BodyTooLargeError, readBodyLimited } from "./body.ts";
import { DeliveryLedger } from "./delivery_ledger.ts";
import { EnvelopeError, parseEnvelope } from "./envelope.ts";
import { type RegistryAliases, registryNameOf } from "./registry_name.ts";
import { tokenMatches } from "./token.ts";

/** Header carrying the shared secret, as in the original Argoos. */
export const TOKEN_HEADER = "X-Argoos-Token";
/** Header naming the registry's public host, when the registry config sets it. */
export const REGISTRY_NAME_HEADER = "X-Argoos-Registry-Name";
/** Largest body accepted: real envelopes hold one event of about 1 KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How a delivery ended, for metrics. */
export type DeliveryOutcome =
  /** At least one workload was rolled out (or would be, in a dry run). */
  | "applied"
  /** Pushes handled, nothing to roll out (no workload, or none the policy moves). */
  | "unchanged"
  /** No event to act on (pulls, blob pushes, pushes by digest, …). */
  | "ignored"
  | "duplicate"
  | "unauthorized"
  | "malformed"
  | "too-large"
  | "retry";

/** Options of {@linkcode webhookHandler}. */
export interface WebhookOptions {
  /** Expected `X-Argoos-Token`; undefined accepts every delivery. */
  token?: string;
  aliases?: RegistryAliases;
  applyPush: ApplyPush;
  /**
   * Whether the workload cache is in sync. Until it is, deliveries are answered 503 and
   * left to the registry's retries: an empty cache would wrongly decide "nothing to do".
   */
  ready?: () => boolean;
  logger?: Logger;
  ledger?: DeliveryLedger;
  maxBodyBytes?: number;
  onDelivery?: (outcome: DeliveryOutcome, seconds: number) => void;
}

const json = (status: number, body: Record<string, unknown>) =>
  Response.json(body, { status, headers: { "cache-control": "no-store" } });

/**
 * The request handler for `POST /event`.
 *
 * @example
 * ```ts ignore
 * import { webhookHandler } from "./handler.ts";
 * const handle = webhookHandler({ token: "s3cret", applyPush });
 * const res = await handle(request);
 * ```
 */
export function webhookHandler(opts: WebhookOptions): (req: Request) => Promise<Response> {
  const log = (opts.logger ?? silentLogger).with({ component: "webhook" });
  const ledger = opts.ledger ?? new DeliveryLedger();
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
      log.info("delivery deferred: workload cache not in sync yet");
      return ["retry", json(503, { error: "not ready: the workload cache is not in sync yet" })];
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
        log.warn("delivery refused: malformed", { error: err });
        return ["malformed", json(400, { error: err.message })];
      }
      throw err;
    }
    for (const ev of envelope.ignored) log.debug("event ignored", { ...ev });
    const header = req.headers.get(REGISTRY_NAME_HEADER);
    let applied = 0;
    let unchanged = 0;
    let duplicates = 0;
    // In order: with `all` the last push wins, so pushes are applied as they were made.
    for (const push of envelope.pushes) {
      const host = registryNameOf(push.requestHost, header, aliases);
      const target = {
        repository: repositoryKey(host, push.repository),
        tag: push.tag,
        digest: push.digest,
      };
      try {
        let changed = false;
        const ran = await ledger.once(push.id, async () => {
          const outcomes = await opts.applyPush(target);
          changed = outcomes.some((o) => o === "applied" || o === "dry-run");
          log.info("push handled", { id: push.id, ...target, workloads: outcomes.length });
        });
        if (!ran) duplicates++;
        else if (changed) applied++;
        else unchanged++;
      } catch (err) {
        log.error("push not applied, asking the registry to deliver it again", {
          id: push.id,
          ...target,
          error: err,
        });
        return ["retry", json(503, { error: `not applied yet: ${(err as Error).message}` })];
      }
    }
    const outcome = applied
      ? "applied"
      : unchanged
      ? "unchanged"
      : duplicates
      ? "duplicate"
      : "ignored";
    const counts = { applied, unchanged, duplicates, ignored: envelope.ignored.length };
    return [outcome, json(200, counts)];
  }

  return async (req) => {
    const started = performance.now();
    const [outcome, res] = await handle(req);
    opts.onDelivery?.(outcome, (performance.now() - started) / 1000);
    return res;
  };
}
