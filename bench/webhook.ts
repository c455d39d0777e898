/**
 * Webhook benchmarks against `argoos serve` (cli/main.ts) in a process of its own, with the
 * fake API server and stub registry in another (fake_cluster_process.ts) and this process as
 * the load client, so what is measured is Argoos and not a thread it shares with the harness:
 *
 * - latency (default): with 5,000 labelled Deployments in 500 namespaces (each with a
 *   ReplicaSet and a Pod reporting what it runs), one delivery at a time, the time from a
 *   delivery sent to the PATCH of its Deployment received by the API server, beside the bare
 *   cost of that work: a manifest GET to the stub registry plus the PATCH round trip. Target:
 *   p99 within 2x the bare p99.
 * - throughput (`--throughput`): 10,000 labelled Deployments, 32 deliveries in flight, one
 *   push per Deployment; deliveries per second beside the rate of the bare work at 32 in
 *   flight, over the whole runs and after the first 1,000 of each (target, warm: at least 0.5
 *   times it), CPU ms per delivery of each process, and a check
 *   (counted by the API server) that every Deployment got exactly one PATCH and ends on the
 *   pushed tag.
 *
 * Each delivery names a tag the stub registry serves (seeded before, as a registry notifies
 * after the push), so the reconcile's truth check finds it. The bare work runs once the
 * service is stopped. `ARGOOS_DENO_FLAGS` passes flags to the service's `deno run` (e.g.
 * `--inspect=127.0.0.1:9229`, then profile_process.ts profiles it), `ARGOOS_ARGS` arguments to `argoos serve` (e.g.
 * `--health-recheck 10m`, to leave out the rechecks of rollouts in progress).
 *
 * Run: `deno task bench:webhook [--throughput]` (prints the figures and a final JSON line).
 *
 * @module
 */

import process from "node:process";
import { KubeClient } from "../lib/kube/client.ts";
import { DEPLOYMENTS } from "../lib/kube/resource.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { cpuMs, startClusterProcess, startServiceProcess } from "./child_processes.ts";
import { type ClusterReport, seededName as repo, seededNamespace } from "./fake_cluster_process.ts";
import { PushClient } from "./push_client.ts";
import { PLAIN_LOOPBACK } from "../test/support/loopback.ts";

const THROUGHPUT = Deno.args.includes("--throughput");
const DEPLOYMENTS_N = THROUGHPUT ? 10_000 : 5_000;
const NAMESPACES_N = 500;
const WARMUP = 200;
/**
 * Throughput: deliveries (and bare ops) left out of the rate at its start, as in any steady
 * state measure: both sides start with their code not yet compiled (the first half second of
 * deliveries ran at about 40% of the later rate; the bare work's first quarter second at 65%).
 * Both rates, whole and warm, are printed.
 */
const WARMED_UP = 1_000;
const SAMPLES = 2_000;
const IN_FLIGHT = 32;
const TOKEN = "bench-token";
/** How long to wait for PATCHes still on their way after the last delivery was answered. */
const SETTLE_MS = 30_000;
/** `ARGOOS_DENO_FLAGS="--inspect=127.0.0.1:9229"`: flags for the service's `deno run`. */
const SERVICE_FLAGS = Deno.env.get("ARGOOS_DENO_FLAGS")?.split(" ").filter(Boolean);
/** `ARGOOS_ARGS="--health-recheck 10m"`: more arguments for `argoos serve`. */
const SERVICE_ARGS = Deno.env.get("ARGOOS_ARGS")?.split(" ").filter(Boolean);

const ns = (i: number) => seededNamespace(i, NAMESPACES_N);
const cluster = await startClusterProcess(DEPLOYMENTS_N, NAMESPACES_N);
const host = cluster.urls.registry;
const argoos = await startServiceProcess(cluster.urls, {
  token: TOKEN,
  denoFlags: SERVICE_FLAGS,
  args: SERVICE_ARGS,
})
  .catch(async (err) => {
    await cluster.stop();
    throw err;
  });

const client = new KubeClient({
  server: cluster.urls.apiServer,
  authHeaders: () => Promise.resolve({ authorization: `Bearer ${cluster.urls.token}` }),
  description: "fake API server",
  close() {},
});
const registryClient = new RegistryClient(PLAIN_LOOPBACK);
/** performance.now() on the clock the cluster process reports PATCH arrivals on. */
const now = () => performance.timeOrigin + performance.now();

const pushes = new PushClient(argoos.url, TOKEN, host);

/**
 * Deliver the push of `1.0.1` of app-i (the cluster's registry serves it from the start, as
 * a registry notifies after the push); resolves with the time it was sent once answered 200.
 */
async function deliver(i: number): Promise<number> {
  const sent = now();
  await pushes.push(i, 1);
  return sent;
}

/** When the cluster received the first PATCH of app-i (waits for it there, at most 10 s). */
async function patchedAt(i: number): Promise<number> {
  const res = await fetch(`${cluster.urls.control}/patched?name=${repo(i)}&count=1`);
  if (res.status !== 200) throw new Error(`no PATCH of ${repo(i)} within 10 s`);
  return await res.json();
}

/** What the cluster counted, once `patches` PATCHes arrived or after `timeoutMs`. */
async function clusterReport(patches: number, timeoutMs: number): Promise<ClusterReport> {
  const res = await fetch(
    `${cluster.urls.control}/report?patches=${patches}&timeoutMs=${timeoutMs}`,
  );
  return await res.json();
}

/**
 * The bare cost of one delivery: what a reconcile cannot avoid, done straight from this
 * process to the cluster's: a manifest GET to the registry and a guarded JSON patch that
 * changes an image (the sidecar's, which no delivery changes, once per Deployment). It must
 * change it: the API server answers a patch that changes nothing without writing (a new
 * resourceVersion, an event), and a delivery's patch always writes. Run once Argoos is
 * stopped, so it does not compete for the CPU.
 */
async function bareWork(i: number): Promise<void> {
  await registryClient.manifest(host, repo(i), "1.0.0");
  await client.patch(DEPLOYMENTS, ns(i), repo(i), [
    { op: "test", path: "/spec/template/spec/containers/1/image", value: `${host}/envoy:1.0.0` },
    { op: "replace", path: "/spec/template/spec/containers/1/image", value: `${host}/envoy:1.0.1` },
  ], "json");
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(ms: number[]) {
  const sorted = ms.toSorted((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

const fmt = (x: number) => x.toFixed(3);

async function latency() {
  if (WARMUP + SAMPLES > DEPLOYMENTS_N) throw new Error("one delivery per Deployment at most");
  const eventMs: number[] = [];
  const cpuStart = await cpuMs(argoos.pid);
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const sent = await deliver(i);
    const ms = (await patchedAt(i)) - sent;
    if (i >= WARMUP) eventMs.push(ms);
  }
  const serviceCpu = await cpuMs(argoos.pid) - cpuStart;
  const seen = await clusterReport(0, 0);
  await argoos.stop();

  const bareMs: number[] = [];
  for (let n = 0; n < WARMUP + SAMPLES; n++) {
    const start = performance.now();
    await bareWork(n);
    if (n >= WARMUP) bareMs.push(performance.now() - start);
  }

  const result = {
    mode: "latency",
    deployments: DEPLOYMENTS_N,
    namespaces: NAMESPACES_N,
    samples: SAMPLES,
    eventToPatchMs: summary(eventMs),
    bareManifestGetPlusPatchMs: summary(bareMs),
    p99Ratio: 0,
    /** CPU ms of the service's process per delivery. */
    serviceCpuMsPerDelivery: serviceCpu / (WARMUP + SAMPLES),
    /** Manifest GETs and pod LISTs the service made during the deliveries. */
    serviceManifestGets: seen.manifestGets,
    servicePodLists: seen.podLists,
  };
  result.p99Ratio = result.eventToPatchMs.p99 / result.bareManifestGetPlusPatchMs.p99;
  const { eventToPatchMs: e, bareManifestGetPlusPatchMs: b } = result;
  console.log(`deployments ${DEPLOYMENTS_N} in ${NAMESPACES_N} namespaces, ${SAMPLES} samples`);
  console.log(`event received -> PATCH received:  p50 ${fmt(e.p50)} ms, p99 ${fmt(e.p99)} ms`);
  console.log(`bare manifest GET + PATCH:        p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms`);
  console.log(
    `the service made ${seen.manifestGets} manifest GETs, ${seen.podLists} pod LISTs ` +
      `for ${WARMUP + SAMPLES} deliveries, ${
        result.serviceCpuMsPerDelivery.toFixed(2)
      } CPU ms per delivery`,
  );
  console.log(
    `target p99 within 2x bare: ${result.p99Ratio <= 2 ? "met" : "MISSED"} (${
      result.p99Ratio.toFixed(2)
    }x)`,
  );
  return result;
}

/** CPU ms the service (0 once stopped), the cluster and this process used so far. */
async function cpuNow(service = true) {
  const { user, system } = process.cpuUsage();
  return {
    service: service ? await cpuMs(argoos.pid) : 0,
    cluster: await cpuMs(cluster.pid),
    client: (user + system) / 1000,
  };
}

/**
 * Run `work(i)` for i below DEPLOYMENTS_N, IN_FLIGHT at a time; resolves with when it started
 * and when the first WARMED_UP were done.
 */
async function runAll(work: (i: number) => Promise<unknown>) {
  let next = 0;
  let done = 0;
  const start = now();
  let warm = start;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < DEPLOYMENTS_N) {
      await work(next++);
      if (++done === WARMED_UP) warm = now();
    }
  }));
  return { start, warm };
}

async function throughput() {
  const cpuStart = await cpuNow();
  const { start, warm } = await runAll(deliver);
  const lastAnswer = now();
  const seen = await clusterReport(DEPLOYMENTS_N, SETTLE_MS);
  const end = Math.max(lastAnswer, seen.lastPatchAt);
  const cpuEnd = await cpuNow();
  await argoos.stop();

  // The same work done bare, 32 at a time: its rate is the ceiling on this machine.
  const bareCpuStart = await cpuNow(false);
  const bare = await runAll(bareWork);
  const bareEnd = now();
  const bareCpuEnd = await cpuNow(false);
  const perOp = (a: number, b: number) => (b - a) / DEPLOYMENTS_N;
  const seconds = (end - start) / 1000;
  const bareSeconds = (bareEnd - bare.start) / 1000;
  const warmRate = (DEPLOYMENTS_N - WARMED_UP) / ((end - warm) / 1000);
  const bareWarmRate = (DEPLOYMENTS_N - WARMED_UP) / ((bareEnd - bare.warm) / 1000);
  const result = {
    mode: "throughput",
    deployments: DEPLOYMENTS_N,
    namespaces: NAMESPACES_N,
    inFlight: IN_FLIGHT,
    seconds,
    deliveriesPerSecond: DEPLOYMENTS_N / seconds,
    patches: seen.patches,
    patchedNotExactlyOnce: seen.notOnce,
    wrongImage: seen.wrongImage,
    bareOpsPerSecond: DEPLOYMENTS_N / bareSeconds,
    /** Deliveries per second over bare ops per second, whole runs (warm-up included). */
    ratio: bareSeconds / seconds,
    /**
     * After the first WARMED_UP of each (the compilers' warm-up): rates per second and their
     * ratio, the one the target (>= 0.5) is judged on.
     */
    warm: {
      deliveriesPerSecond: warmRate,
      bareOpsPerSecond: bareWarmRate,
      ratio: warmRate / bareWarmRate,
    },
    /** CPU ms per delivery of each process: the service's is the figure Argoos owns. */
    cpuMsPerDelivery: {
      service: perOp(cpuStart.service, cpuEnd.service),
      cluster: perOp(cpuStart.cluster, cpuEnd.cluster),
      client: perOp(cpuStart.client, cpuEnd.client),
    },
    /** CPU ms per bare op: the cluster's side and this process's (the caller's) side. */
    bareCpuMsPerOp: {
      cluster: perOp(bareCpuStart.cluster, bareCpuEnd.cluster),
      client: perOp(bareCpuStart.client, bareCpuEnd.client),
    },
    serviceManifestGets: seen.manifestGets,
    servicePodLists: seen.podLists,
    retried: pushes.retried,
    requestsByKind: seen.requestsByKind,
  };
  const cpu = result.cpuMsPerDelivery;
  console.log(
    `deployments ${DEPLOYMENTS_N} in ${NAMESPACES_N} namespaces, ${IN_FLIGHT} deliveries in flight`,
  );
  console.log(
    `${DEPLOYMENTS_N} deliveries in ${seconds.toFixed(2)} s: ${
      result.deliveriesPerSecond.toFixed(0)
    } deliveries/s; bare manifest GET + PATCH, same fakes, ${IN_FLIGHT} in flight: ${
      result.bareOpsPerSecond.toFixed(0)
    }/s; ratio ${result.ratio.toFixed(2)}`,
  );
  console.log(
    `after the first ${WARMED_UP} of each: ${warmRate.toFixed(0)} deliveries/s, bare ${
      bareWarmRate.toFixed(0)
    }/s; ratio ${result.warm.ratio.toFixed(2)} (target >= 0.5: ${
      result.warm.ratio >= 0.5 ? "met" : "MISSED"
    })`,
  );
  console.log(
    `the service made ${seen.manifestGets} manifest GETs, ${seen.podLists} pod LISTs; ${pushes.retried} deliveries answered 503 (or their connection failed) and sent again`,
  );
  console.log(`API requests by kind: ${JSON.stringify(seen.requestsByKind)}`);
  console.log(
    `CPU ms per delivery: service ${fmt(cpu.service)}, cluster ${fmt(cpu.cluster)}, client ${
      fmt(cpu.client)
    }; per bare op: cluster ${fmt(result.bareCpuMsPerOp.cluster)}, client ${
      fmt(result.bareCpuMsPerOp.client)
    } (the service alone on a core: ${(1000 / cpu.service).toFixed(0)}/s)`,
  );
  console.log(
    `every Deployment patched exactly once: ${
      seen.notOnce === 0 ? "yes" : `NO (${seen.notOnce} not)`
    }; ` +
      `ends on the pushed tag: ${seen.wrongImage === 0 ? "yes" : `NO (${seen.wrongImage} not)`}`,
  );
  return result;
}

let result: unknown;
try {
  result = THROUGHPUT ? await throughput() : await latency();
} finally {
  await argoos.stop();
  await cluster.stop();
  registryClient.close();
  pushes.close();
}
console.log(JSON.stringify(result));
