/**
 * Webhook benchmarks against the service as `argoos serve` starts it (lib/service/argoos.ts),
 * a fake API server and a stub registry, all on this machine:
 *
 * - latency (default): with 5,000 labelled Deployments in 500 namespaces (each with a
 *   ReplicaSet and a Pod reporting what it runs), one delivery at a time, the time from a
 *   delivery sent to the PATCH of its Deployment received by the API server, beside the bare
 *   cost of that work: a manifest GET to the stub registry plus the PATCH round trip. Target:
 *   p99 within 2x the bare p99.
 * - throughput (`--throughput`): 10,000 labelled Deployments, 32 deliveries in flight, one
 *   push per Deployment; deliveries per second (target >= 2,000), and a check that every
 *   Deployment got exactly one PATCH and ends on the pushed tag.
 *
 * Each delivery names a tag the stub registry serves (pushed just before, as a registry
 * notifies after the push), so the reconcile's truth check finds it.
 *
 * Run: `deno task bench:webhook [--throughput]` (prints the figures and a final JSON line).
 *
 * @module
 */

import process from "node:process";
import { readInvocation } from "../cli/config.ts";
import { KubeClient } from "../lib/kube/client.ts";
import { DEPLOYMENTS } from "../lib/kube/resource.ts";
import { silentLogger } from "../lib/log/logger.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { startArgoos } from "../lib/service/argoos.ts";
import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";
import { seedPods } from "../test/support/pods.ts";
import { startStubRegistry } from "./stub_registry.ts";
import { PLAIN_LOOPBACK } from "../test/support/loopback.ts";

const THROUGHPUT = Deno.args.includes("--throughput");
const DEPLOYMENTS_N = THROUGHPUT ? 10_000 : 5_000;
const NAMESPACES_N = 500;
const WARMUP = 200;
const SAMPLES = 2_000;
const IN_FLIGHT = 32;
const TOKEN = "bench-token";
/** How long to wait for PATCHes still on their way after the last delivery was answered. */
const SETTLE_MS = 30_000;

const registry = startStubRegistry();
const host = registry.host;
const ns = (i: number) => `ns-${i % NAMESPACES_N}`;
const repo = (i: number) => `app-${i}`;

const fake = await startFakeApiServer();
registry.push("envoy", "1.0.0");
for (let i = 0; i < DEPLOYMENTS_N; i++) {
  const digest = registry.push(repo(i), "1.0.0");
  const stored = fake.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: repo(i), namespace: ns(i), labels: { "argoos.io/policy": "patch" } },
    spec: {
      selector: { matchLabels: { app: repo(i) } },
      template: {
        metadata: { labels: { app: repo(i) } },
        spec: {
          containers: [
            { name: "app", image: `${host}/${repo(i)}:1.0.0` },
            { name: "sidecar", image: `${host}/envoy:1.0.0` },
          ],
        },
      },
    },
  });
  seedPods(fake, stored, {
    imageID: {
      app: `${host}/${repo(i)}@${digest}`,
      sidecar: `${host}/envoy@${registry.digestOf("envoy", "1.0.0")}`,
    },
  });
}
const client = new KubeClient({
  server: fake.url,
  authHeaders: () => Promise.resolve({ authorization: `Bearer ${fake.token}` }),
  description: "fake API server",
  close() {},
});
const { config } = await readInvocation(
  ["serve", "--listen", "127.0.0.1:0", "--token", TOKEN, "--poll-interval", "0", "--no-events"],
  () => undefined,
);
const argoos = await startArgoos(config, { client, logger: silentLogger });
await argoos.cache.synced;

/** PATCH arrivals per Deployment name (one entry per Deployment at most). */
const patches = new Map<string, number[]>();
const waiting = new Map<string, (at: number) => void>(); // at most IN_FLIGHT entries
fake.onRequest = (r) => {
  if (r.method !== "PATCH" || !r.path.includes("/deployments/")) return;
  const name = r.path.slice(r.path.lastIndexOf("/") + 1);
  patches.set(name, [...patches.get(name) ?? [], r.at]);
  waiting.get(name)?.(r.at);
  waiting.delete(name);
};

function delivery(i: number, tag: string, digest: string): string {
  return JSON.stringify({
    events: [{
      id: `bench-${i}-${tag}`,
      timestamp: new Date().toISOString(),
      action: "push",
      target: {
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        repository: repo(i),
        digest,
        tag,
      },
      request: { host },
    }],
  });
}

/** Push `tag` of app-i to the registry, deliver it; resolves when the delivery is answered. */
async function deliver(
  i: number,
  tag: string,
): Promise<{ sent: number; patched: Promise<number> }> {
  const digest = registry.push(repo(i), tag);
  const patched = new Promise<number>((resolve) => waiting.set(repo(i), resolve));
  const sent = performance.now();
  const res = await fetch(`${argoos.url}/event`, {
    method: "POST",
    headers: {
      "content-type": "application/vnd.docker.distribution.events.v1+json",
      "x-argoos-token": TOKEN,
    },
    body: delivery(i, tag, digest),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`delivery for ${repo(i)}:${tag} answered ${res.status}: ${text}`);
  }
  return { sent, patched };
}

const registryClient = new RegistryClient(PLAIN_LOOPBACK);

/**
 * The bare cost of one delivery: what a reconcile cannot avoid, done straight with the same
 * clients on the same machine: a manifest GET to the registry and a guarded JSON patch that
 * rewrites the image it tests.
 */
async function bareWork(i: number): Promise<void> {
  const w = fake.get("apps/v1", "Deployment", ns(i), repo(i))!;
  // deno-lint-ignore no-explicit-any
  const image = (w as any).spec.template.spec.containers[0].image as string;
  await registryClient.manifest(host, repo(i), "1.0.0");
  await client.patch(DEPLOYMENTS, ns(i), repo(i), [
    { op: "test", path: "/spec/template/spec/containers/0/image", value: image },
    { op: "replace", path: "/spec/template/spec/containers/0/image", value: image },
  ], "json");
}

/** Pod LISTs the API server answered so far (runningDigests reads pods this way). */
const podLists = () =>
  fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/pods")).length;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(ms: number[]) {
  const sorted = ms.toSorted((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

const fmt = (x: number) => x.toFixed(3);

async function latency() {
  const eventMs: number[] = [];
  for (let n = 0; n < WARMUP + SAMPLES; n++) {
    const i = n % DEPLOYMENTS_N;
    const { sent, patched } = await deliver(i, `1.0.${1 + Math.floor(n / DEPLOYMENTS_N)}`);
    const ms = (await withDeadline(patched, `PATCH of ${repo(i)}`)) - sent;
    if (n >= WARMUP) eventMs.push(ms);
  }

  const serviceManifestGets = registry.manifestGets();
  const servicePodLists = podLists();
  const bareMs: number[] = [];
  for (let n = 0; n < WARMUP + SAMPLES; n++) {
    const start = performance.now();
    await bareWork(n % DEPLOYMENTS_N);
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
    /** Manifest GETs the service made (its truth checks) during the deliveries. */
    serviceManifestGets,
    servicePodLists,
  };
  result.p99Ratio = result.eventToPatchMs.p99 / result.bareManifestGetPlusPatchMs.p99;
  const { eventToPatchMs: e, bareManifestGetPlusPatchMs: b } = result;
  console.log(`deployments ${DEPLOYMENTS_N} in ${NAMESPACES_N} namespaces, ${SAMPLES} samples`);
  console.log(`event received -> PATCH received:  p50 ${fmt(e.p50)} ms, p99 ${fmt(e.p99)} ms`);
  console.log(`bare manifest GET + PATCH:        p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms`);
  console.log(
    `the service made ${serviceManifestGets} manifest GETs, ${servicePodLists} pod LISTs ` +
      `for ${WARMUP + SAMPLES} deliveries`,
  );
  console.log(
    `target p99 within 2x bare: ${result.p99Ratio <= 2 ? "met" : "MISSED"} (${
      result.p99Ratio.toFixed(2)
    }x)`,
  );
  return result;
}

/** CPU ms this process used (all its threads): a figure other load on the machine barely moves. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function throughput() {
  let next = 0;
  const answered: Promise<number>[] = []; // one per Deployment
  const start = performance.now();
  const cpuStart = cpuMs();
  const worker = async () => {
    while (next < DEPLOYMENTS_N) {
      const i = next++;
      const { patched } = await deliver(i, "1.0.1");
      answered.push(patched);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const lastAnswer = performance.now();
  const settled = await withDeadline(
    Promise.all(answered),
    "every PATCH",
    SETTLE_MS,
  ).catch(() => [] as number[]);
  const end = Math.max(lastAnswer, ...settled);
  const cpu = cpuMs() - cpuStart;
  const servicePodLists = podLists();
  const serviceManifestGets = registry.manifestGets();

  let notOnce = 0;
  let wrongImage = 0;
  for (let i = 0; i < DEPLOYMENTS_N; i++) {
    if ((patches.get(repo(i))?.length ?? 0) !== 1) notOnce++;
    const w = fake.get("apps/v1", "Deployment", ns(i), repo(i))!;
    // deno-lint-ignore no-explicit-any
    const [app, sidecar] = (w as any).spec.template.spec.containers as { image: string }[];
    const wanted = `${host}/${repo(i)}:1.0.1`;
    if (
      !(app.image === wanted || app.image.startsWith(`${wanted}@`)) ||
      sidecar.image !== `${host}/envoy:1.0.0`
    ) {
      wrongImage++;
    }
  }

  // The same work done bare, 32 at a time: its rate is the ceiling on this machine.
  let bareNext = 0;
  const bareStart = performance.now();
  const bareCpuStart = cpuMs();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (bareNext < DEPLOYMENTS_N) await bareWork(bareNext++);
  }));
  const bareSeconds = (performance.now() - bareStart) / 1000;
  const bareCpu = cpuMs() - bareCpuStart;
  const seconds = (end - start) / 1000;
  const result = {
    mode: "throughput",
    deployments: DEPLOYMENTS_N,
    namespaces: NAMESPACES_N,
    inFlight: IN_FLIGHT,
    seconds,
    deliveriesPerSecond: DEPLOYMENTS_N / seconds,
    patchedNotExactlyOnce: notOnce,
    wrongImage,
    bareOpsPerSecond: DEPLOYMENTS_N / bareSeconds,
    /** CPU ms of the whole process (client, fake API server, registry, service) per delivery. */
    cpuMsPerDelivery: cpu / DEPLOYMENTS_N,
    bareCpuMsPerOp: bareCpu / DEPLOYMENTS_N,
    serviceManifestGets,
    servicePodLists,
  };
  console.log(
    `deployments ${DEPLOYMENTS_N} in ${NAMESPACES_N} namespaces, ${IN_FLIGHT} deliveries in flight`,
  );
  console.log(
    `${DEPLOYMENTS_N} deliveries in ${seconds.toFixed(2)} s: ${
      result.deliveriesPerSecond.toFixed(0)
    } deliveries/s (target >= 2000: ${result.deliveriesPerSecond >= 2000 ? "met" : "MISSED"})`,
  );
  console.log(
    `bare manifest GET + PATCH, ${IN_FLIGHT} in flight: ${
      result.bareOpsPerSecond.toFixed(0)
    }/s; the service made ${result.serviceManifestGets} manifest GETs, ${servicePodLists} pod LISTs`,
  );
  console.log(
    `CPU per delivery ${result.cpuMsPerDelivery.toFixed(2)} ms, per bare op ${
      result.bareCpuMsPerOp.toFixed(2)
    } ms (2 cores: ceiling ${(2000 / result.cpuMsPerDelivery).toFixed(0)}/s)`,
  );
  console.log(
    `every Deployment patched exactly once: ${notOnce === 0 ? "yes" : `NO (${notOnce} not)`}; ` +
      `ends on the pushed tag: ${wrongImage === 0 ? "yes" : `NO (${wrongImage} not)`}`,
  );
  return result;
}

function withDeadline<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

let result: unknown;
try {
  result = THROUGHPUT ? await throughput() : await latency();
} finally {
  await argoos.stop();
  await fake.stop();
  await registry.close();
  registryClient.close();
}
console.log(JSON.stringify(result));
