/**
 * Sends each recorded decision to the sinks it is meant for: every sink, unless the workload
 * names its own with `argoos.io/notify: "chat,ops"`.
 *
 * @module
 */

import type { WorkloadEvent } from "../events/recorder.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { type DeliveryOutcome, SinkQueue, type SinkQueueOptions } from "./delivery.ts";
import { notificationOf, NOTIFY_ANNOTATION } from "./notification.ts";
import type { SinkSpec } from "./sinks.ts";

/** Unknown sink names remembered as warned of; beyond it the oldest is warned of again. */
const MAX_WARNED = 256;

/** Options of {@linkcode Notifier}. */
export interface NotifierOptions extends Omit<SinkQueueOptions, "onOutcome"> {
  /** CloudEvents `source`: `argoos/<cluster or host name>`. */
  source: string;
  /** Told of every delivery outcome, by sink (`argoos_notifications_total`). */
  onOutcome?: (sink: string, outcome: DeliveryOutcome) => void;
}

/**
 * The sinks and their queues. {@linkcode Notifier.notify} is the event recorder's `onFirst`.
 *
 * @example
 * ```ts ignore
 * import { Notifier } from "./notifier.ts";
 * const notifier = new Notifier(parseSinks(["ops=https://hooks.example.com/argoos"]), { source: "argoos/prod" });
 * const events = new EventRecorder(client, { instance, onFirst: (ev) => notifier.notify(ev) });
 * ```
 */
export class Notifier {
  #sinks: Map<string, SinkQueue>;
  #opts: NotifierOptions;
  #log: Logger;
  /** Names `argoos.io/notify` gave that are no sink, warned of once each (at most MAX_WARNED). */
  #warned = new Set<string>();

  constructor(sinks: readonly SinkSpec[], opts: NotifierOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "notify" });
    this.#sinks = new Map(sinks.map((s) => [
      s.name,
      new SinkQueue(s, { ...opts, onOutcome: (outcome) => opts.onOutcome?.(s.name, outcome) }),
    ]));
  }

  /** Queue the notification about a decision at the sinks it goes to; returns at once. */
  notify(ev: WorkloadEvent): void {
    if (this.#sinks.size === 0) return;
    const n = notificationOf(ev, {
      source: this.#opts.source,
      now: (this.#opts.now ?? Date.now)(),
    });
    if (!n) return;
    const names = n.sinks ?? [...this.#sinks.keys()];
    for (const name of names) {
      const sink = this.#sinks.get(name);
      if (sink) sink.push(n);
      else if (!this.#warned.has(name)) {
        this.#warned.add(name);
        if (this.#warned.size > MAX_WARNED) {
          this.#warned.delete(this.#warned.values().next().value!);
        }
        this.#log.warn(`${NOTIFY_ANNOTATION} names a sink that is not configured`, {
          workload: `${ev.workload.namespace}/${ev.workload.name}`,
          sink: name,
        });
      }
    }
  }

  /** Resolves when every sink has sent what it holds (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.#sinks.values()].map((s) => s.idle()));
  }

  /** Stop every sink (a request in flight is cut short, what waits is dropped). */
  async stop(): Promise<void> {
    await Promise.all([...this.#sinks.values()].map((s) => s.stop()));
  }
}
