/**
 * Counters, gauges and histograms rendered in the Prometheus text format (0.0.4).
 *
 * @module
 */

/** Label name → value of one series. */
export type Labels = Record<string, string>;

/** Anything {@linkcode MetricsRegistry} can render. */
export interface Metric {
  /** The metric in the Prometheus text format, its HELP and TYPE lines first. */
  render(): string;
}

/** What a label value must escape in the text format. */
const UNSAFE = /[\\\n"]/;

/** `{k="v",…}` (values escaped), or "" without labels: built per update, so kept cheap. */
function labelText(labels: Labels): string {
  let out = "";
  for (const k in labels) {
    const v = labels[k];
    const escaped = UNSAFE.test(v)
      ? v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"')
      : v;
    out += `${out === "" ? "{" : ","}${k}="${escaped}"`;
  }
  return out === "" ? out : `${out}}`;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/**
 * A monotonically increasing count per label set.
 *
 * @example
 * ```ts
 * import { Counter } from "./registry.ts";
 * const c = new Counter("argoos_events_total", "Events received.");
 * c.inc({ outcome: "applied" });
 * c.render(); // includes 'argoos_events_total{outcome="applied"} 1'
 * ```
 */
export class Counter implements Metric {
  #values = new Map<string, number>();
  /** A counter called `name`, described by `help`. */
  constructor(readonly name: string, readonly help: string) {}

  /** Add `by` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** The current value of one series. */
  value(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  /** Text format lines. */
  render(): string {
    let out = header(this.name, this.help, "counter");
    for (const [k, v] of this.#values) out += `${this.name}${k} ${v}\n`;
    return out;
  }
}

/**
 * A value read when scraped.
 *
 * @example
 * ```ts
 * import { Gauge } from "./registry.ts";
 * const g = new Gauge("argoos_cache_workloads", "Cached workloads.", () => 3);
 * g.render(); // includes "argoos_cache_workloads 3"
 * ```
 */
export class Gauge implements Metric {
  /** A gauge called `name` whose value `read` gives when rendered. */
  constructor(readonly name: string, readonly help: string, readonly read: () => number) {}

  /** Text format lines. */
  render(): string {
    return header(this.name, this.help, "gauge") + `${this.name} ${this.read()}\n`;
  }
}

/**
 * Values read when scraped, one per label set.
 *
 * @example
 * ```ts
 * import { LabelledGauge } from "./registry.ts";
 * const g = new LabelledGauge("argoos_updates_pending", "Held updates.", () => [[{ gate: "window" }, 2]]);
 * g.render(); // includes 'argoos_updates_pending{gate="window"} 2'
 * ```
 */
export class LabelledGauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => Iterable<[Labels, number]>,
  ) {}

  /** Text format lines. */
  render(): string {
    let out = header(this.name, this.help, "gauge");
    for (const [labels, v] of this.read()) out += `${this.name}${labelText(labels)} ${v}\n`;
    return out;
  }
}

/**
 * Observations in cumulative buckets, per label set.
 *
 * @example
 * ```ts
 * import { Histogram } from "./registry.ts";
 * const h = new Histogram("argoos_webhook_seconds", "Webhook latency.", [0.005, 0.05]);
 * h.observe(0.002);
 * h.render(); // includes 'argoos_webhook_seconds_bucket{le="0.005"} 1'
 * ```
 */
export class Histogram implements Metric {
  #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  /** A histogram called `name` with upper bounds `buckets` (seconds). */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  /** Record one observation (in seconds, by convention). */
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.#series.get(key);
    if (!s) {
      this.#series.set(
        key,
        s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 },
      );
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]++;
    });
    s.sum += value;
    s.count++;
  }

  /** Text format lines. */
  render(): string {
    let out = header(this.name, this.help, "histogram");
    for (const [key, s] of this.#series) {
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}\n`;
      out += `${this.name}_sum${key} ${s.sum}\n${this.name}_count${key} ${s.count}\n`;
    }
    return out;
  }
}

/**
 * A set of metrics rendered together for `GET /metrics`.
 *
 * @example
 * ```ts
 * import { Counter, MetricsRegistry } from "./registry.ts";
 * const registry = new MetricsRegistry();
 * const c = registry.add(new Counter("x_total", "X."));
 * c.inc();
 * registry.render();
 * ```
 */
export class MetricsRegistry {
  #metrics: Metric[] = [];

  /** Register a metric and return it. */
  add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** The whole exposition text. */
  render(): string {
    return this.#metrics.map((m) => m.render()).join("");
  }
}

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
