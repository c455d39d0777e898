/**
 * `GET /metrics` of a running service after a delivery and a poll cycle.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushEnvelope } from "../service/push_envelope.ts";
import { startService } from "../support/argoos_service.ts";
import { deployment, waitFor } from "../support/fake_cluster.ts";

/** The value of one series in exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("/metrics counts deliveries, rollouts, registry requests and poll cycles", async () => {
  const reg = { host: "127.0.0.1:5000" };
  const svc = await startService({
    args: ["--poll-interval", "1h"],
    seed: ({ fake }, registry) => {
      // 1.2.4 is pushed after the first poll cycle, so only the webhook moves `web`.
      registry.push("myapp", "1.2.3");
      for (const tag of ["1.2.3", "1.3.0"]) registry.push("svc", tag);
      fake.put(deployment({
        name: "web",
        policy: "patch",
        containers: [{ name: "app", image: `${reg.host}/myapp:1.2.3` }],
      }));
      fake.put(deployment({
        kind: "StatefulSet",
        name: "polled",
        policy: "minor",
        containers: [{ name: "app", image: `${reg.host}/svc:1.2.3` }],
      }));
    },
  });
  const { argoos } = svc;
  const scrape = async () => {
    const res = await fetch(`${argoos.url}/metrics`);
    return { type: res.headers.get("content-type"), text: await res.text() };
  };
  try {
    await argoos.cache.synced;
    // The poll loop's first cycle runs once the cache is in sync.
    await waitFor(async () => {
      const s = await scrape();
      return (sample(s.text, "argoos_poll_cycle_seconds_count") ?? 0) >= 1;
    }, "a poll cycle");
    svc.registry.push("myapp", "1.2.4");
    const { status } = await svc.post(
      pushEnvelope({ host: reg.host, repository: "myapp", tag: "1.2.4" }),
    );
    assert.equal(status, 200);
    const scraped = await scrape();
    const { type, text } = scraped;

    assert.ok(type?.startsWith("text/plain; version=0.0.4"), type ?? "no content-type");
    assert.equal(sample(text, 'argoos_events_total{outcome="applied"}'), 1);
    assert.equal(
      sample(text, 'argoos_rollouts_total{policy="patch",kind="Deployment",outcome="applied"}'),
      1,
    );
    assert.equal(
      sample(text, 'argoos_rollouts_total{policy="minor",kind="StatefulSet",outcome="applied"}'),
      1,
    );
    assert.equal(sample(text, "argoos_webhook_duration_seconds_count"), 1);
    assert.equal(sample(text, "argoos_cache_workloads"), 2);
    // This process's own memory: more than a bare runtime, less than anything absurd.
    const rss = sample(text, "process_resident_memory_bytes") ?? 0;
    const heap = sample(text, "argoos_heap_used_bytes") ?? 0;
    assert.ok(rss > 20e6 && rss < 4e9, `rss ${rss}`);
    assert.ok(heap > 1e6 && heap < rss, `heap ${heap}, rss ${rss}`);
    assert.ok(
      (sample(text, `argoos_registry_requests_total{host="${reg.host}",status="200"}`) ?? 0) >= 2,
      "tags listings of myapp and svc counted",
    );
    for (const name of ["argoos_poll_cycle_seconds", "argoos_webhook_duration_seconds"]) {
      assert.ok(text.includes(`# TYPE ${name} histogram\n`), name);
      assert.ok(text.includes(`${name}_bucket{le="+Inf"} `), name);
    }
  } finally {
    await svc.stop();
  }
});
