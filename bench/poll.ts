/**
 * Poll cycle cost: labelled Deployments (fake API server, real workload cache) over
 * repositories of many tags each (plus one sidecar repository they all share), served by the
 * stub registry in a process of its own (registry_process.ts: what a registry spends serving
 * is not the poll's). Prints, for the first cycle (rollouts and baselines), the one after and
 * steady cycles, the wall time, the registry requests (listings, manifest requests and GETs)
 * each beside its target, and the CPU time of the decisions alone (no I/O). Every workload
 * carries an `argoos.io/tag-pattern` (issue 9), so choosing runs the pattern on every listed tag.
 *
 * Run: `deno task bench:poll` (2,000 workloads over 200 repositories × 1,000 tags), or at the
 * size of issue 18:
 * `deno task bench:poll --repos 1000 --tags 1000 --workloads 10000 --namespaces 500`.
 * `--steady N` measures N steady cycles (default 3, the median is the figure);
 * `--cpu-prof DIR` writes `first.cpuprofile` and `steady.cpuprofile` there and prints the
 * functions with the most self time of each. A final JSON line carries every figure.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { type CpuProfile, formatTop, profiled, topSelf } from "./cpu_profile.ts";
import { KubeClient } from "../lib/kube/client.ts";
import { silentLogger } from "../lib/log/logger.ts";
import { usersByRepository } from "../lib/poll/offers.ts";
import { type CycleStats, Poller } from "../lib/poll/poller.ts";
import { currentTag } from "../lib/policy/candidates.ts";
import { type Answer, decideContainer } from "../lib/policy/decide.ts";
import { readState } from "../lib/policy/state.ts";
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
import { startRegistryProcess } from "./registry_process.ts";
import { fakeDigest } from "./stub_registry.ts";
import { PLAIN_LOOPBACK } from "../test/support/loopback.ts";

const { values: args } = parseArgs({
  args: Deno.args.filter((a) => a !== "--"),
  options: {
    workloads: { type: "string", default: "2000" },
    repos: { type: "string", default: "200" },
    tags: { type: "string", default: "1000" },
    namespaces: { type: "string", default: "20" },
    steady: { type: "string", default: "3" },
    "cpu-prof": { type: "string" },
  },
});
/** A positive whole number from a flag, or exit with why. */
function count(name: keyof typeof args): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: a whole number ≥ 1, not ${JSON.stringify(args[name])}`);
    Deno.exit(2);
  }
  return n;
}
const WORKLOADS_N = count("workloads");
const REPOSITORIES_N = count("repos");
const TAGS_N = count("tags");
const NAMESPACES_N = count("namespaces");
const STEADY_N = count("steady");
const PROFILE_DIR = args["cpu-prof"];
/** The steady cycle of issue 18: at most this long. */
const STEADY_TARGET_S = 1;
const DECISION_RUNS = 7;
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

// In a process of its own: what a registry spends serving is not the poll's.
const registry = await startRegistryProcess(REPOSITORIES_N, TAGS_N);

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

/**
 * What a cycle should ask, from the cache as it is now: one listing per repository; and, once
 * every workload runs what its policy chooses (steady state), a manifest request only where a
 * decision needs a digest: the tag each `all` container runs, once per repository and tag
 * (credentials are the same here), since a moved tag shows in no listing.
 */
function target(): { listings: number; steadyManifests: number } {
  const all = new Set<string>();
  const workloads = cache.all().filter((w) => rulesOf(w).errors.length === 0);
  for (const w of workloads) {
    for (const c of w.containers) {
      if (rulesOf(w).rules.get(c.name)?.policy !== "all" || !c.ref) continue;
      all.add(`${c.repository}:${currentTag(c.ref)}`);
    }
  }
  return { listings: usersByRepository(workloads).size, steadyManifests: all.size };
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
  /** Manifest requests the decisions need in a steady cycle (see {@linkcode target}). */
  targetSteadyManifests: number;
  imagePatches: number;
  baselinePatches: number;
  stats: CycleStats;
}

async function measuredCycle(label: string, now: number): Promise<CycleFigures> {
  const want = target();
  await registry.reset();
  const firstRequest = fake.requests.length;
  const cpu = cpuUsage();
  const started = performance.now();
  const stats = await poller.cycle(now);
  const seconds = (performance.now() - started) / 1000;
  const used = cpuUsage(cpu);
  const { listings, manifests, manifestGets } = await registry.counts();
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
    manifestGets,
    targetListings: want.listings,
    targetSteadyManifests: want.steadyManifests,
    imagePatches,
    baselinePatches: patches.length - imagePatches,
    stats,
  };
}

/** Runs a cycle, profiled into `DIR/<file>.cpuprofile` when `--cpu-prof DIR` is given. */
async function cycleMaybeProfiled(
  label: string,
  now: number,
  file: string,
): Promise<CycleFigures> {
  if (PROFILE_DIR === undefined) return await measuredCycle(label, now);
  const { result, profile } = await profiled(() => measuredCycle(label, now));
  await Deno.mkdir(PROFILE_DIR, { recursive: true });
  const path = `${PROFILE_DIR}/${file}.cpuprofile`;
  await Deno.writeTextFile(path, JSON.stringify(profile));
  printProfile(`${label}, top self time (${path})`, profile);
  return result;
}

function printProfile(title: string, profile: CpuProfile): void {
  console.log(title);
  for (const line of formatTop(topSelf(profile, 10))) console.log(line);
}

function print(f: CycleFigures, steady: boolean): void {
  const manifestTarget = steady ? ` (target ≤ ${f.targetSteadyManifests}, GETs 0)` : "";
  const timeTarget = steady ? ` (target ≤ ${STEADY_TARGET_S} s)` : "";
  console.log(
    `${f.label}: ${f.seconds.toFixed(3)} s wall${timeTarget}, ` +
      `${f.cpuSeconds.toFixed(3)} s CPU (whole process), ` +
      `${((f.seconds * 1e6) / WORKLOADS_N).toFixed(1)} µs per workload` +
      (steady ? ` (target ≤ ${((STEADY_TARGET_S * 1e6) / WORKLOADS_N).toFixed(1)} µs)` : "") +
      ` | listings ${f.listings} (target ${f.targetListings})` +
      ` | manifest requests ${f.manifests}, GETs ${f.manifestGets}${manifestTarget}` +
      ` | workloads reconciled ${f.stats.workloads}` +
      ` | PATCH images ${f.imagePatches}, state only ${f.baselinePatches}`,
  );
}

/** Wait (bounded) until the watch has delivered every write, baselines included. */
async function cacheCaughtUp(): Promise<void> {
  const deadline = Date.now() + 60_000;
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

/** No registry answers yet: the first step of each decision. */
const none: ReadonlyMap<string, Answer> = new Map();

/**
 * The first step of each decision (choosing among the listed tags) over the listings recorded:
 * no I/O. Measured as this process's CPU time
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
        const state = readState(w.annotations)[c.name];
        decideContainer({ rules, image: c.image, ref: c.ref, state, pushes: [], listing }, none);
        verdicts++;
      }
    }
    walls.push(performance.now() - started);
    const used = cpuUsage(cpu);
    runs.push((used.user + used.system) / 1000);
  }
  const medianMs = median(runs);
  return {
    medianMs,
    perWorkloadUs: (medianMs * 1000) / workloads.length,
    wallMedianMs: median(walls),
    verdicts,
  };
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

console.log(
  `poll bench: ${WORKLOADS_N} Deployments in ${NAMESPACES_N} namespaces over ` +
    `${REPOSITORIES_N} repositories × ${TAGS_N} tags on one stub registry (${registry.host})`,
);
const t0 = Date.now();
const first = await cycleMaybeProfiled("cycle 1 (rollouts + baselines)", t0, "first");
print(first, false);
await cacheCaughtUp();
const second = await measuredCycle("cycle 2 (after rollouts)", t0 + 300_000);
print(second, false);
await cacheCaughtUp();
const steady: CycleFigures[] = [];
for (let i = 0; i < STEADY_N; i++) {
  const label = `cycle ${3 + i} (steady state)`;
  const now = t0 + 300_000 * (2 + i);
  // The last steady cycle is the one profiled.
  const f = i === STEADY_N - 1
    ? await cycleMaybeProfiled(label, now, "steady")
    : await measuredCycle(label, now);
  print(f, true);
  steady.push(f);
  await cacheCaughtUp();
}
const steadySeconds = steady.map((f) => f.seconds);
const steadyMedian = median(steadySeconds);
console.log(
  `steady cycle: median ${steadyMedian.toFixed(3)} s of ${STEADY_N} ` +
    `(${Math.min(...steadySeconds).toFixed(3)}–${Math.max(...steadySeconds).toFixed(3)}), ` +
    `target ≤ ${STEADY_TARGET_S} s: ${steadyMedian <= STEADY_TARGET_S ? "met" : "MISSED"}; ` +
    `first cycle ${first.seconds.toFixed(3)} s`,
);
const decisions = decisionMs();
console.log(
  `decisions alone (decideContainer's first step, ${WORKLOADS_N} workloads × ${TAGS_N} tags, pattern ` +
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
await registry.stop();

console.log(JSON.stringify({
  bench: "poll",
  workloads: WORKLOADS_N,
  namespaces: NAMESPACES_N,
  repositories: REPOSITORIES_N,
  tagsPerRepository: TAGS_N,
  tagPattern: TAG_PATTERN,
  cycles: [first, second, ...steady].map(({ stats: _, ...f }) => f),
  steady: {
    medianSeconds: steadyMedian,
    targetSeconds: STEADY_TARGET_S,
    met: steadyMedian <= STEADY_TARGET_S,
  },
  decisions: {
    medianCpuMs: decisions.medianMs,
    medianWallMs: decisions.wallMedianMs,
    perWorkloadUs: decisions.perWorkloadUs,
    runs: DECISION_RUNS,
  },
}));
