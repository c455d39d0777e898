/**
 * Webhook throughput with 10,000 rollouts in progress (issue 18: "rollouts in progress cost
 * nothing while nothing changes"), against `argoos serve` in a process of its own and the fake
 * cluster in another (child_processes.ts), 32 deliveries in flight as in `bench/webhook.ts
 * --throughput`:
 *
 * 1. 10,000 deliveries, one per Deployment: each starts a rollout the fake cluster never
 *    progresses (no controller runs there), so 10,000 rollouts stay in progress;
 * 2. a pause (`--pause <s>`, default 15 s: longer than the old 10 s recheck, so a timer-driven
 *    follow-up is in its steady state);
 * 3. 10,000 more deliveries to 10,000 other Deployments, measured with the 10,000 rollouts in
 *    progress, and what the service asked the API server meanwhile (pod LISTs: one per look at
 *    a rollout).
 *
 * Phase 1 starts with no rollout in progress, phase 3 with 10,000: their rates side by side.
 * Arguments after `--` go to `argoos serve`: `-- --health-recheck 10s` follows rollouts on the
 * timer of before (a look every 10 s each); the default follows them from watch events with a
 * 2 m safety net.
 *
 * A phase stops sending after `--limit <s>` (default 120 s) and counts what was delivered by
 * then; `--rollouts <n>` (default 10,000) sizes both phases.
 *
 * Run: `deno task bench:rollouts [--pause 15] [--limit 120] [-- --health-recheck 10s]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cpuMs, startClusterProcess, startServiceProcess } from "./child_processes.ts";
import { type ClusterReport, seededDigest, seededName as repo } from "./fake_cluster_process.ts";

const { values } = parseArgs({
  args: Deno.args.includes("--") ? Deno.args.slice(0, Deno.args.indexOf("--")) : Deno.args,
  options: {
    pause: { type: "string", default: "15" },
    rollouts: { type: "string", default: "10000" },
    limit: { type: "string", default: "120" },
  },
});
const ROLLOUTS = Number(values.rollouts);
const NAMESPACES = 500;
const IN_FLIGHT = 32;
const TOKEN = "bench-token";
const TARGET = 1_000;

const serviceArgs = Deno.args.includes("--") ? Deno.args.slice(Deno.args.indexOf("--") + 1) : [];
const pauseMs = Number(values.pause) * 1000;
/** A phase stops sending after this long; its rate counts what was delivered by then. */
const limitMs = Number(values.limit) * 1000;

const cluster = await startClusterProcess(2 * ROLLOUTS, NAMESPACES);
const host = cluster.urls.registry;
const argoos = await startServiceProcess(cluster.urls, { token: TOKEN, args: serviceArgs })
  .catch(async (err) => {
    await cluster.stop();
    throw err;
  });

/** Deliver the push of `1.0.1` of app-i (served from the start); resolves once answered 200. */
async function deliver(i: number): Promise<void> {
  const body = JSON.stringify({
    events: [{
      id: `bench-${i}-1.0.1`,
      timestamp: new Date().toISOString(),
      action: "push",
      target: {
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        repository: repo(i),
        digest: seededDigest(i, 1),
        tag: "1.0.1",
      },
      request: { host },
    }],
  });
  for (let broken = 0;;) {
    let res: Response;
    try {
      res = await fetch(`${argoos.url}/event`, {
        method: "POST",
        headers: {
          "content-type": "application/vnd.docker.distribution.events.v1+json",
          "x-argoos-token": TOKEN,
        },
        body,
      });
    } catch (err) {
      // A kept-alive connection the service closed as this request went out: sent again.
      if (++broken > 3) throw err;
      redelivered++;
      continue;
    }
    const text = await res.text();
    if (res.status === 200) return;
    // The service's cap on deliveries at once, or reconciles not done within the delivery
    // deadline: sent again, as a registry would (counted).
    if (res.status === 503) {
      redelivered++;
      continue;
    }
    throw new Error(`delivery for ${repo(i)}:1.0.1 answered ${res.status}: ${text}`);
  }
}

/** Deliveries answered 503 (busy, or not finished within the deadline) and sent again. */
let redelivered = 0;

/** What the cluster counted once `patches` PATCHes arrived (at most 60 s). */
async function report(patches: number): Promise<ClusterReport> {
  const res = await fetch(`${cluster.urls.control}/report?patches=${patches}&timeoutMs=60000`);
  return await res.json();
}

/**
 * Deliver to app-from .. app-(from + ROLLOUTS - 1), IN_FLIGHT at once, until each is patched or
 * the phase's time limit.
 */
async function phase(from: number) {
  let next = from;
  let delivered = 0;
  const again = redelivered;
  const cpu = await cpuMs(argoos.pid);
  const before = await report(0);
  const start = performance.now();
  const progress = setInterval(() => console.error(`  ${delivered} delivered`), 10_000);
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < from + ROLLOUTS && performance.now() - start < limitMs) {
      await deliver(next++);
      delivered++;
    }
  }));
  clearInterval(progress);
  const after = await report(before.patches + delivered);
  const seconds = (performance.now() - start) / 1000;
  return {
    delivered,
    deliveriesPerSecond: delivered / seconds,
    seconds,
    podLists: after.podLists - before.podLists,
    manifestGets: after.manifestGets - before.manifestGets,
    serviceCpuMsPerDelivery: (await cpuMs(argoos.pid) - cpu) / ROLLOUTS,
    patches: after.patches - before.patches,
    redelivered: redelivered - again,
  };
}

let result;
try {
  console.error("phase 1: deliveries starting rollouts");
  const none = await phase(0);
  const paused = await report(0);
  console.error(`pause of ${pauseMs / 1000} s`);
  await new Promise((r) => setTimeout(r, pauseMs));
  const idle = await report(0);
  console.error(`phase 3: deliveries with ${none.delivered} rollouts in progress`);
  const busy = await phase(ROLLOUTS);
  result = {
    serviceArgs,
    rollouts: ROLLOUTS,
    inFlight: IN_FLIGHT,
    startingWithNone: none,
    /** Pod LISTs (looks at rollouts in progress) in the pause, nothing changing. */
    pause: {
      seconds: pauseMs / 1000,
      podLists: idle.podLists - paused.podLists,
      manifestGets: idle.manifestGets - paused.manifestGets,
    },
    with10000InProgress: busy,
    ratio: busy.deliveriesPerSecond / none.deliveriesPerSecond,
  };
  const f = (x: number) => x.toFixed(0);
  console.log(`argoos serve ${serviceArgs.join(" ") || "(defaults)"}, ${IN_FLIGHT} in flight`);
  console.log(
    `no rollout in progress at the start: ${f(none.deliveriesPerSecond)} deliveries/s ` +
      `(${none.delivered} in ${none.seconds.toFixed(1)} s), ` +
      `${none.podLists} pod LISTs, ${none.manifestGets} manifest GETs, ` +
      `${none.serviceCpuMsPerDelivery.toFixed(2)} CPU ms/delivery, ` +
      `${none.redelivered} answered 503 and sent again`,
  );
  console.log(
    `pause of ${pauseMs / 1000} s with ${ROLLOUTS} rollouts in progress, nothing changing: ` +
      `${result.pause.podLists} pod LISTs, ${result.pause.manifestGets} manifest GETs`,
  );
  console.log(
    `${ROLLOUTS} rollouts in progress: ${f(busy.deliveriesPerSecond)} deliveries/s ` +
      `(${busy.delivered} in ${busy.seconds.toFixed(1)} s) ` +
      `(target >= ${TARGET}: ${busy.deliveriesPerSecond >= TARGET ? "met" : "MISSED"}; ` +
      `${(100 * result.ratio).toFixed(0)}% of the rate with none), ${busy.podLists} pod LISTs, ` +
      `${busy.manifestGets} manifest GETs, ` +
      `${busy.serviceCpuMsPerDelivery.toFixed(2)} CPU ms/delivery, ` +
      `${busy.redelivered} answered 503 and sent again`,
  );
} finally {
  await argoos.stop();
  await cluster.stop();
}
console.log(JSON.stringify(result));
