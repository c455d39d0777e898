/**
 * Memory of a running Argoos, started as `deno task start` starts it (cli/main.ts, its V8
 * flags), with 10,000 labelled Deployments in 500 namespaces served by the fake cluster in a
 * process of its own (so the figures are Argoos's alone):
 *
 * - idle: the lowest resident set size (RSS) within 30 s of ready;
 * - after 100,000 deliveries that each push the next patch tag of a Deployment (ten rounds
 *   over the 10,000, every one verified against the stub registry and rolled out), with the
 *   10,000 rollouts still in progress (the fake cluster never completes them, so Argoos keeps
 *   following them): the lowest RSS within 30 s of the last delivery; and the highest while
 *   delivering.
 *
 * Targets: idle <= 80 MB; after the deliveries, within 32 MB of idle.
 *
 * Run: `deno task bench:memory` (RSS read with `ps`; prints a final JSON line). DELIVERIES
 * (a multiple of 10,000, at most 990,000) and QUIET_MS change the run.
 *
 * @module
 */

import { getOnce, startClusterProcess, startServiceProcess } from "./child_processes.ts";
import { PushClient } from "./push_client.ts";

const WORKLOADS = 10_000;
const NAMESPACES = 500;
const DELIVERIES = Number(Deno.env.get("DELIVERIES") ?? 100_000);
const ROUNDS = Math.ceil(DELIVERIES / WORKLOADS);
const IN_FLIGHT = 32;
const QUIET_MS = Number(Deno.env.get("QUIET_MS") ?? 30_000);
const TOKEN = "bench-token";
const MB = 1024 * 1024;

const cluster = await startClusterProcess(WORKLOADS, NAMESPACES, ROUNDS);
const service = await startServiceProcess(cluster.urls, { token: TOKEN, readyWithinMs: 60_000 })
  .catch(async (err) => {
    await cluster.stop();
    throw err;
  });

/** The service's RSS in bytes, as `ps` reports it (reading /proc needs --allow-all). */
async function rss(): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(service.pid)] })
    .output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !kb) throw new Error(`ps could not read the RSS of ${service.pid}`);
  return kb * 1024;
}

/** What the service's JavaScript heap holds (its `/metrics`): the rest of RSS is not data. */
async function heapUsed(): Promise<number> {
  const { text } = await getOnce(`${service.url}/metrics`);
  const line = text.split("\n").find((l) => l.startsWith("argoos_heap_used_bytes "));
  if (!line) throw new Error("argoos_heap_used_bytes missing from /metrics");
  return Number(line.split(" ")[1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RSS at rest: the lowest of samples a second apart over QUIET_MS without deliveries. V8
 * gives back the heap a burst grew only once allocation has stayed low for a while (its
 * memory reducer, seen here after 10 to 30 s).
 */
async function settledRss(): Promise<number> {
  let lowest = Infinity;
  for (let waited = 0; waited < QUIET_MS; waited += 1_000) {
    await sleep(1_000);
    lowest = Math.min(lowest, await rss());
  }
  return lowest;
}

/** The highest RSS sampled every 250 ms until `done` settles: what a memory limit must allow. */
async function peakRss(done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let over = false;
  done.finally(() => over = true);
  while (!over) {
    peak = Math.max(peak, await rss());
    await sleep(250);
  }
  return peak;
}

/** Deployment PATCHes the cluster received so far. */
async function patches(): Promise<number> {
  const res = await fetch(`${cluster.urls.control}/report?patches=0&timeoutMs=0`);
  return (await res.json()).patches;
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);

try {
  const idle = await settledRss();
  const idleHeap = await heapUsed();
  console.log(
    `idle, ${WORKLOADS} labelled workloads: RSS ${mb(idle)} MB (heap in use ${mb(idleHeap)} MB)`,
  );

  const client = new PushClient(service.url, TOKEN, cluster.urls.registry);
  const patchesBefore = await patches();
  let next = 0;
  let done = 0;
  const started = performance.now();
  // Round r pushes 1.0.r of every repository: each one newer than what its Deployment runs.
  const load = Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < DELIVERIES) {
      const n = next++;
      await client.push(n % WORKLOADS, 1 + Math.floor(n / WORKLOADS));
      if (++done % WORKLOADS === 0) {
        const s = (performance.now() - started) / 1000;
        console.log(`  ${done} delivered in ${s.toFixed(0)} s, RSS ${mb(await rss())} MB`);
      }
    }
  }));
  const peak = await peakRss(load);
  await load.finally(() => client.close());
  const seconds = (performance.now() - started) / 1000;
  const rollouts = await patches() - patchesBefore;
  const after = await settledRss();
  const afterHeap = await heapUsed();
  const grew = after - idle;
  console.log(
    `after ${DELIVERIES} deliveries in ${seconds.toFixed(0)} s (${
      (DELIVERIES / seconds).toFixed(0)
    }/s, ${client.retried} sent again after a 503 or a failed connection), ${rollouts} Deployment PATCHes: RSS ${
      mb(after)
    } MB, ${grew >= 0 ? "+" : ""}${mb(grew)} MB (heap in use ${mb(afterHeap)} MB); ` +
      `peak while delivering ${mb(peak)} MB`,
  );
  const idleMet = idle <= 80 * MB;
  const growthMet = grew <= 32 * MB;
  console.log(
    `targets: idle ${mb(idle)} MB <= 80 MB: ${idleMet ? "met" : "MISSED"}; growth ${
      mb(grew)
    } MB <= 32 MB: ${growthMet ? "met" : "MISSED"}`,
  );
  console.log(JSON.stringify({
    workloads: WORKLOADS,
    deliveries: DELIVERIES,
    deploymentPatches: rollouts,
    idleRssMB: +mb(idle),
    afterRssMB: +mb(after),
    growthMB: +mb(grew),
    peakRssMB: +mb(peak),
    deliveriesPerSecond: Math.round(DELIVERIES / seconds),
    retried: client.retried,
    idleHeapMB: +mb(idleHeap),
    afterHeapMB: +mb(afterHeap),
  }));
} finally {
  await service.stop();
  await cluster.stop();
}
