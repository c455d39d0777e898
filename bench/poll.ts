/**
 * Poll cycle cost: 2,000 labelled Deployments (fake API server, real workload
 * cache) over 200 repositories of 1,000 tags each (plus one sidecar
 * repository they all share), served by a local stub registry. Prints the registry requests of each cycle against the target (one
 * listing per repository plus the digest HEADs the decisions need), the cycle
 * wall time, and the CPU time of the decisions alone (pollVerdicts over the
 * same offers, no I/O). Every workload carries an `argoos.io/tag-pattern` (issue 9), so the
 * choosing CPU per workload includes running the pattern on every listed tag.
 *
 * Run: `deno task bench:poll` (prints the figures and a final JSON line).
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { KubeClient } from "../lib/kube/client.ts";
import { silentLogger } from "../lib/log/logger.ts";
import { usersByRepository } from "../lib/poll/offers.ts";
import { type CycleStats, Poller } from "../lib/poll/poller.ts";
import { candidatesFor } from "../lib/policy/decide.ts";
import { rulesOf } from "../lib/policy/rules.ts";
import { RepositoryFacts } from "../lib/reconcile/facts.ts";
import { WorkQueue } from "../lib/reconcile/queue.ts";
import { Reconciler, type ReconcileResult } from "../lib/reconcile/reconciler.ts";
import { TagVerifier } from "../lib/registry/tag_verifier.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { Rollout } from "../lib/rollout/rollout.ts";
import { WorkloadCache } from "../lib/workloads/cache.ts";
import { WORKLOAD_KINDS } from "../lib/workloads/kinds.ts";
import { workloadKey } from "../lib/workloads/workload.ts";
import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";
import { fakeDigest, startStubRegistry } from "./stub_registry.ts";
import { PLAIN_LOOPBACK } from "../test/support/loopback.ts";

const WORKLOADS_N = 2_000;
const REPOSITORIES_N = 200;
const TAGS_N = 1_000;
const NAMESPACES_N = 20;
const DECISION_RUNS = 7;
const NON_VERSIONS = ["latest", "stable", "edge", "nightly", "main"];
/**
 * On every workload: versions (any form) and the two word tags the mix runs on, so the pattern
 * runs on every listed tag and admits what each policy then judges.
 */
const TAG_PATTERN = "v?[0-9]+\\.[0-9]+(\\.[0-9]+)?|latest|stable";

/** The workload mix per repository (10 each): what each needs from the registry differs. */
const MIX: { policy: string; image: (repo: string) => string }[] = [
  { policy: "patch", image: (r) => `${r}:1.2.3` },
  { policy: "patch", image: (r) => `${r}:1.9.0` },
  { policy: "minor", image: (r) => `${r}:1.2.3` },
  { policy: "minor", image: (r) => `${r}:v1.0` },
  { policy: "major", image: (r) => `${r}:1.0.0` },
  { policy: "all", image: (r) => `${r}:1.5.0` },
  { policy: "all", image: (r) => `${r}:latest` },
  { policy: "minor", image: (r) => `${r}:1.2.3@${fakeDigest(1)}` },
  { policy: "major", image: (r) => `${r}:stable` },
  { policy: "patch", image: (r) => `${r}:1.9.94` },
];

const registry = startStubRegistry();
const tags: string[] = [...NON_VERSIONS];
for (let minor = 0; tags.length < TAGS_N; minor++) {
  for (let patch = 0; patch < 100 && tags.length < TAGS_N; patch++) {
    tags.push(`1.${minor}.${patch}`);
  }
}
// Registries list tags in storage order, not version order.
tags.sort();
/** Tags by repository path, as the stub lists them. */
const listed = new Map<string, string[]>([["bench/envoy", ["v1.30.0", "v1.31.0", "latest"]]]);
for (let r = 0; r < REPOSITORIES_N; r++) listed.set(`bench/app-${r}`, tags);
for (const [path, pathTags] of listed) {
  for (const tag of pathTags) registry.push(path, tag);
}

const fake = await startFakeApiServer();
for (let i = 0; i < WORKLOADS_N; i++) {
  const repo = `${registry.host}/bench/app-${i % REPOSITORIES_N}`;
  const { policy, image } = MIX[Math.floor(i / REPOSITORIES_N) % MIX.length];
  fake.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `app-${i}`,
      namespace: `ns-${i % NAMESPACES_N}`,
      labels: { "argoos.io/policy": policy },
      annotations: { "argoos.io/tag-pattern": TAG_PATTERN },
    },
    spec: {
      template: {
        spec: {
          containers: [
            { name: "app", image: image(repo) },
            // One sidecar repository shared by every workload: still one listing.
            { name: "sidecar", image: `${registry.host}/bench/envoy:v1.30.0` },
          ],
        },
      },
    },
  });
}
const client = new KubeClient({
  server: fake.url,
  authHeaders: () => Promise.resolve({ authorization: `Bearer ${fake.token}` }),
  description: "fake API server",
  close() {},
});
const cache = new WorkloadCache(client, { kinds: WORKLOAD_KINDS, logger: silentLogger });
cache.start();
await cache.synced;
const registryClient = new RegistryClient({ ...PLAIN_LOOPBACK, logger: silentLogger });
const facts = new RepositoryFacts();
const credentialsOf = () => Promise.resolve(new Map());
const reconciler = new Reconciler({
  cache,
  facts,
  verifier: new TagVerifier(registryClient),
  rollout: new Rollout({ client, cache, logger: silentLogger }),
  credentialsOf,
  runningDigestsOf: () => Promise.resolve(new Map()),
});
const queue = new WorkQueue<ReconcileResult>({ reconcile: (k) => reconciler.reconcile(k) });
const poller = new Poller({
  cache,
  registry: registryClient,
  facts,
  enqueue: (key) => queue.add(key),
  credentialsOf,
  intervalMs: 300_000,
  logger: silentLogger,
});

/** The registry listings a cycle should make, from the cache as it is now. */
function target() {
  const users = usersByRepository(cache.all(), (w) => rulesOf(w).errors.length === 0);
  return { listings: users.size };
}

interface CycleFigures {
  label: string;
  seconds: number;
  cpuSeconds: number;
  listings: number;
  /** Manifest requests: the truth check of each tag written (HEAD once its manifest was seen). */
  manifests: number;
  /** Of those, GETs: the ones Docker Hub counts as pulls. */
  manifestGets: number;
  targetListings: number;
  targetMet: boolean;
  imagePatches: number;
  baselinePatches: number;
  stats: CycleStats;
}

async function measuredCycle(label: string, now: number): Promise<CycleFigures> {
  const want = target();
  registry.resetCounts();
  const firstRequest = fake.requests.length;
  const cpu = cpuUsage();
  const started = performance.now();
  const stats = await poller.cycle(now);
  const seconds = (performance.now() - started) / 1000;
  const used = cpuUsage(cpu);
  const { listings } = registry.counts();
  const manifests = registry.requests.filter((r) => r.url.pathname.includes("/manifests/")).length;
  const patches = fake.requests.slice(firstRequest).filter((r) => r.method === "PATCH");
  const imagePatches =
    patches.filter((p) =>
      (p.body as { op: string; path: string }[]).some((o) =>
        o.op === "replace" && o.path.endsWith("/image")
      )
    ).length;
  return {
    label,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    listings,
    manifests,
    manifestGets: registry.manifestGets(),
    targetListings: want.listings,
    targetMet: listings === want.listings,
    imagePatches,
    baselinePatches: patches.length - imagePatches,
    stats,
  };
}

function print(f: CycleFigures): void {
  console.log(
    `${f.label}: ${f.seconds.toFixed(3)} s wall (${f.cpuSeconds.toFixed(3)} s CPU, whole process)` +
      ` | listings ${f.listings} (target ${f.targetListings})` +
      ` | manifest requests ${f.manifests} (GETs ${f.manifestGets})` +
      ` | target ${f.targetMet ? "met" : "MISSED"}` +
      ` | PATCH images ${f.imagePatches}, state only ${f.baselinePatches}`,
  );
}

/** Wait (bounded) until the watch has delivered every write, baselines included. */
async function cacheCaughtUp(): Promise<void> {
  const deadline = Date.now() + 30_000;
  const behind = () =>
    fake.list("apps/v1", "Deployment").some((o) => {
      const meta = o.metadata as { namespace: string; name: string; resourceVersion: string };
      const key = workloadKey("Deployment", meta.namespace, meta.name);
      return cache.get(key)?.resourceVersion !== meta.resourceVersion;
    });
  while (behind()) {
    if (Date.now() > deadline) throw new Error("the cache never caught up with the writes");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Candidates alone over the listings recorded: no I/O. Measured as this process's CPU time
 * (user + system), so other processes on the machine do not inflate it; wall time beside it.
 */
function decisionMs(): {
  medianMs: number;
  perWorkloadUs: number;
  wallMedianMs: number;
  verdicts: number;
} {
  const workloads = cache.all();
  const runs: number[] = [];
  const walls: number[] = [];
  let verdicts = 0;
  for (let run = 0; run < DECISION_RUNS; run++) {
    const cpu = cpuUsage();
    const started = performance.now();
    verdicts = 0;
    for (const w of workloads) {
      for (const c of w.containers) {
        const rules = rulesOf(w).rules.get(c.name);
        if (!rules || !c.ref || !c.repository) continue;
        const listing = facts.listing(c.repository)?.tags;
        candidatesFor({ rules, image: c.image, ref: c.ref, pushes: [], listing });
        verdicts++;
      }
    }
    walls.push(performance.now() - started);
    const used = cpuUsage(cpu);
    runs.push((used.user + used.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const medianMs = median(runs);
  return {
    medianMs,
    perWorkloadUs: (medianMs * 1000) / workloads.length,
    wallMedianMs: median(walls),
    verdicts,
  };
}

console.log(
  `poll bench: ${WORKLOADS_N} Deployments in ${NAMESPACES_N} namespaces over ` +
    `${REPOSITORIES_N} repositories × ${TAGS_N} tags on one stub registry (${registry.host})`,
);
const t0 = Date.now();
const first = await measuredCycle("cycle 1 (rollouts + baselines)", t0);
print(first);
await cacheCaughtUp();
const second = await measuredCycle("cycle 2 (after rollouts)", t0 + 300_000);
print(second);
await cacheCaughtUp();
const third = await measuredCycle("cycle 3 (steady state)", t0 + 600_000);
print(third);
const decisions = decisionMs();
console.log(
  `decisions alone (candidatesFor, ${WORKLOADS_N} workloads × ${TAGS_N} tags, pattern ` +
    `${JSON.stringify(TAG_PATTERN)} on every workload, median of ${DECISION_RUNS}): ` +
    `${decisions.medianMs.toFixed(1)} ms CPU, ${decisions.wallMedianMs.toFixed(1)} ms wall ` +
    `(choosing CPU ${decisions.perWorkloadUs.toFixed(1)} µs per workload, ` +
    `${decisions.verdicts} verdicts)`,
);

await poller.stop();
await queue.stop();
registryClient.close();
await cache.stop();
await fake.stop();
await registry.close();

console.log(JSON.stringify({
  bench: "poll",
  workloads: WORKLOADS_N,
  repositories: REPOSITORIES_N,
  tagsPerRepository: TAGS_N,
  tagPattern: TAG_PATTERN,
  cycles: [first, second, third].map(({ stats: _, ...f }) => f),
  decisions: {
    medianCpuMs: decisions.medianMs,
    medianWallMs: decisions.wallMedianMs,
    perWorkloadUs: decisions.perWorkloadUs,
    runs: DECISION_RUNS,
  },
}));
