/**
 * The Prometheus text format (0.0.4) as rendered by counters, gauges and histograms.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, MetricsRegistry } from "../../lib/metrics/registry.ts";

Deno.test("a counter renders one line per label set, in first-seen order", () => {
  const c = new Counter("argoos_events_total", "Deliveries.");
  c.inc({ outcome: "applied" });
  c.inc({ outcome: "ignored" });
  c.inc({ outcome: "applied" }, 2);
  assert.equal(c.value({ outcome: "applied" }), 3);
  assert.equal(c.value({ outcome: "retry" }), 0);
  assert.equal(
    c.render(),
    [
      "# HELP argoos_events_total Deliveries.",
      "# TYPE argoos_events_total counter",
      'argoos_events_total{outcome="applied"} 3',
      'argoos_events_total{outcome="ignored"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("a counter without labels and a gauge render bare series", () => {
  const c = new Counter("x_total", "X.");
  c.inc();
  let size = 2;
  const g = new Gauge("argoos_cache_workloads", "Cached.", () => size);
  size = 5;
  assert.equal(c.render(), "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n");
  assert.equal(
    g.render(),
    "# HELP argoos_cache_workloads Cached.\n# TYPE argoos_cache_workloads gauge\n" +
      "argoos_cache_workloads 5\n",
  );
});

Deno.test("label values escape backslash, double quote and newline", () => {
  const table: [string, string][] = [
    ["plain", "plain"],
    ["a\\b", "a\\\\b"],
    ['say "hi"', 'say \\"hi\\"'],
    ["two\nlines", "two\\nlines"],
    ['\\"\n', '\\\\\\"\\n'],
  ];
  for (const [value, escaped] of table) {
    const c = new Counter("e_total", "E.");
    c.inc({ v: value });
    assert.ok(c.render().includes(`e_total{v="${escaped}"} 1\n`), JSON.stringify(value));
  }
});

Deno.test("a histogram renders cumulative buckets, +Inf, sum and count", () => {
  const h = new Histogram("d_seconds", "D.", [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(3);
  h.observe(0.2, { route: "event" });
  assert.equal(
    h.render(),
    [
      "# HELP d_seconds D.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="0.1"} 1',
      'd_seconds_bucket{le="1"} 2',
      'd_seconds_bucket{le="+Inf"} 3',
      "d_seconds_sum 3.55",
      "d_seconds_count 3",
      'd_seconds_bucket{route="event",le="0.1"} 0',
      'd_seconds_bucket{route="event",le="1"} 1',
      'd_seconds_bucket{route="event",le="+Inf"} 1',
      'd_seconds_sum{route="event"} 0.2',
      'd_seconds_count{route="event"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("a registry renders its metrics in registration order", () => {
  const registry = new MetricsRegistry();
  const b = registry.add(new Counter("b_total", "B."));
  registry.add(new Gauge("a", "A.", () => 1));
  b.inc();
  assert.equal(
    registry.render(),
    "# HELP b_total B.\n# TYPE b_total counter\nb_total 1\n# HELP a A.\n# TYPE a gauge\na 1\n",
  );
});

Deno.test("label values are escaped as the text format says, labels in the order given", () => {
  const c = new Counter("x_total", "X.");
  const cases: [Record<string, string>, string][] = [
    [{ host: "registry:5000", status: "200" }, 'x_total{host="registry:5000",status="200"} 1'],
    [{ v: 'a"b' }, 'x_total{v="a\\"b"} 1'],
    [{ v: "a\\b" }, 'x_total{v="a\\\\b"} 1'],
    [{ v: "a\nb" }, 'x_total{v="a\\nb"} 1'],
    [{ v: '\\"\n' }, 'x_total{v="\\\\\\"\\n"} 1'],
    [{ v: "" }, 'x_total{v=""} 1'],
  ];
  for (const [labels] of cases) c.inc(labels);
  const lines = c.render().split("\n").slice(2, -1);
  assert.deepEqual(lines, cases.map(([, line]) => line));
});
