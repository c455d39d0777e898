/**
 * Delivering notifications to one sink without ever holding up a reconcile: a bounded queue
 * (the oldest dropped first when full), one request at a time, a timeout per request, and
 * retries with back-off on network errors, 5xx and 429 (honouring `Retry-After`) for a few
 * minutes at most. Logs name the sink, never its URL (a Slack or Teams URL is a credential).
 *
 * @module
 */

import { sleep } from "../async/sleep.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { parseRetryAfter } from "../registry/retry_after.ts";
import { payloadOf } from "./formats.ts";
import type { Notification } from "./notification.ts";
import { secretKey, signatureHeaders } from "./signature.ts";
import type { SinkSpec } from "./sinks.ts";

/** What became of a notification at one sink (the `outcome` label of the metric). */
export type DeliveryOutcome = "delivered" | "retried" | "failed" | "dropped";

/** Options of {@linkcode SinkQueue}. */
export interface SinkQueueOptions {
  /** Notifications waiting at most; beyond it the oldest is dropped. Default 100. */
  maxQueued?: number;
  /** Time per request. Default 10 s. */
  timeoutMs?: number;
  /** Time from enqueueing after which a notification is no longer retried. Default 3 min. */
  retryForMs?: number;
  /** First back-off, doubled per retry up to a minute. Default 1 s. */
  firstBackoffMs?: number;
  /** Told of every outcome (metrics). */
  onOutcome?: (outcome: DeliveryOutcome) => void;
  logger?: Logger;
  fetch?: typeof fetch;
  now?: () => number;
}

const MAX_BACKOFF_MS = 60_000;

/** Removes URLs from error text: a fetch error names the URL it failed on. */
const withoutUrls = (text: string) => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<sink URL>");

/**
 * One sink's delivery queue.
 *
 * @example
 * ```ts ignore
 * import { SinkQueue } from "./delivery.ts";
 * const ops = new SinkQueue({ name: "ops", format: "cloudevents", url: "https://hooks.example.com/" });
 * ops.push(notification); // returns at once
 * await ops.stop();
 * ```
 */
export class SinkQueue {
  readonly name: string;
  #spec: SinkSpec;
  #key?: Uint8Array;
  #opts: SinkQueueOptions;
  #log: Logger;
  #queue: { n: Notification; at: number }[] = [];
  #running?: Promise<void>;
  #stopping = new AbortController();

  constructor(spec: SinkSpec, opts: SinkQueueOptions = {}) {
    this.name = spec.name;
    this.#spec = spec;
    this.#key = spec.secret === undefined ? undefined : secretKey(spec.secret);
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "notify", sink: spec.name });
  }

  /** Notifications waiting (not counting the one being sent). */
  get length(): number {
    return this.#queue.length;
  }

  /** Queue a notification; returns at once. When full, the oldest waiting is dropped. */
  push(n: Notification): void {
    if (this.#stopping.signal.aborted) return;
    if (this.#queue.length >= (this.#opts.maxQueued ?? 100)) {
      const dropped = this.#queue.shift()!;
      this.#outcome("dropped");
      this.#log.warn("notification queue full, oldest dropped", { type: dropped.n.type });
    }
    this.#queue.push({ n, at: this.#now() });
    this.#running ??= this.#drain().finally(() => this.#running = undefined);
  }

  /** Resolves when nothing is waiting or being sent (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stop: the request in flight is cut short and what waits is dropped (both counted). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.idle();
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  #outcome(outcome: DeliveryOutcome): void {
    this.#opts.onOutcome?.(outcome);
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && !this.#stopping.signal.aborted) {
      await this.#deliver(this.#queue.shift()!);
    }
    if (this.#queue.length) {
      for (const _ of this.#queue) this.#outcome("dropped");
      this.#log.warn("stopping: notifications not sent", { count: this.#queue.length });
      this.#queue = [];
    }
  }

  async #deliver({ n, at }: { n: Notification; at: number }): Promise<void> {
    const { contentType, body } = payloadOf(this.#spec.format, n);
    const retryUntil = at + (this.#opts.retryForMs ?? 180_000);
    let backoff = this.#opts.firstBackoffMs ?? 1_000;
    const line = { type: n.type, subject: n.subject, id: n.id };
    for (let attempt = 1;; attempt++) {
      const tried = await this.#send(n.id, contentType, body);
      if (tried.ok) {
        this.#outcome("delivered");
        this.#log.debug("notification delivered", { ...line, attempt });
        return;
      }
      const wait = tried.retryAfterMs ?? backoff;
      const last = !tried.retry || this.#stopping.signal.aborted || this.#now() + wait > retryUntil;
      if (last) {
        this.#outcome("failed");
        this.#log.warn("notification not delivered", { ...line, attempt, why: tried.why });
        return;
      }
      this.#outcome("retried");
      // Told once per series: each try at debug level, the failure at the end as a warning.
      this.#log.debug("notification not delivered yet, retrying", {
        ...line,
        attempt,
        why: tried.why,
        retryInMs: wait,
      });
      await sleep(wait, this.#stopping.signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** One request: delivered, or why not and whether trying again may help. */
  async #send(
    id: string,
    contentType: string,
    body: string,
  ): Promise<{ ok: true } | { ok: false; retry: boolean; why: string; retryAfterMs?: number }> {
    const headers: Record<string, string> = { "content-type": contentType };
    if (this.#key) {
      Object.assign(
        headers,
        await signatureHeaders(this.#key, id, Math.floor(this.#now() / 1000), body),
      );
    }
    let res: Response;
    try {
      res = await (this.#opts.fetch ?? fetch)(this.#spec.url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.any([
          AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
          this.#stopping.signal,
        ]),
      });
    } catch (err) {
      const e = err as Error;
      const why = e.name === "TimeoutError"
        ? "timed out"
        : e.name === "AbortError"
        ? "stopping"
        : withoutUrls(e.message ?? String(err));
      return { ok: false, retry: true, why };
    }
    await res.body?.cancel().catch(() => {});
    if (res.ok) return { ok: true };
    const retry = res.status === 429 || res.status >= 500;
    const retryAfterMs = retry
      ? parseRetryAfter(res.headers.get("retry-after"), this.#now())
      : undefined;
    return {
      ok: false,
      retry,
      why: `HTTP ${res.status}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
}
