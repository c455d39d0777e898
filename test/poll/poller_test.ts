import assert from "node:assert/strict";
import { STATE_ANNOTATION } from "../../lib/policy/state.ts";
import {
  type CycleStats,
  FULL_LOOK_MS,
  POLL_INTERVAL_ANNOTATION,
  Poller,
} from "../../lib/poll/poller.ts";
import { deliverPushes } from "../../lib/reconcile/deliver.ts";
import { RepositoryFacts } from "../../lib/reconcile/facts.ts";
import { WorkQueue } from "../../lib/reconcile/queue.ts";
import { Reconciler, type ReconcileResult } from "../../lib/reconcile/reconciler.ts";
import { TagVerifier } from "../../lib/registry/tag_verifier.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { type Outcome, Rollout } from "../../lib/rollout/rollout.ts";
import { WorkloadCache } from "../../lib/workloads/cache.ts";
import { WORKLOAD_KINDS } from "../../lib/workloads/kinds.ts";
import { workloadKey } from "../../lib/workloads/workload.ts";
import { startStubRegistry, type StubRegistry } from "../../bench/stub_registry.ts";
import { closedPort, startStub } from "../registry/stub_registry.ts";
import {
  capture,
  type CapturedLog,
  deployment,
  type FakeCluster,
  imagesOf,
  startFakeCluster,
  waitFor,
} from "../support/fake_cluster.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

const INTERVAL = 300_000;
const T0 = 1_700_000_000_000;

interface Harness {
  cluster: FakeCluster;
  cache: WorkloadCache;
  poller: Poller;
  /** What the webhook does with a push: record it, reconcile its workloads. */
  push(repository: string, tag: string): Promise<unknown>;
  log: CapturedLog;
  outcomes: Outcome[];
  /** Registries by name, started before the cache. */
  registries: StubRegistry[];
  patches(): { path: string; contentType: string | null }[];
  /** PATCHes that replaced an image. */
  imagePatches(): number;
  images(name: string): string[];
  stop(): Promise<void>;
}

interface HarnessOptions {
  /** Workload objects to seed before the cache lists. */
  seed?: (registries: StubRegistry[]) => Record<string, unknown>[];
  registries?: number;
  dryRun?: boolean;
  isLeader?: () => boolean;
  onCycle?: (stats: CycleStats) => void;
  /** The registry client's per-request timeout. */
  timeoutMs?: number;
  intervalMs?: number;
  /** How long registry answers are reused; default 0 (tests move tags between cycles). */
  verifyTtlMs?: number;
}

async function start(opts: HarnessOptions = {}): Promise<Harness> {
  const cluster = await startFakeCluster();
  const registries = Array.from({ length: opts.registries ?? 1 }, () => startStubRegistry());
  const log = capture();
  const outcomes: Outcome[] = [];
  for (const obj of opts.seed?.(registries) ?? []) cluster.fake.put(obj);
  const cache = new WorkloadCache(cluster.client, { kinds: WORKLOAD_KINDS, logger: log.logger });
  const rollout = new Rollout({
    client: cluster.client,
    cache,
    logger: log.logger,
    dryRun: opts.dryRun,
    onReport: (r) => outcomes.push(r.outcome),
  });
  const registry = new RegistryClient({
    ...PLAIN_LOOPBACK,
    logger: log.logger,
    timeoutMs: opts.timeoutMs,
  });
  const facts = new RepositoryFacts();
  const credentialsOf = () => Promise.resolve(new Map());
  const reconciler = new Reconciler({
    cache,
    facts,
    verifier: new TagVerifier(registry, { ttlMs: opts.verifyTtlMs ?? 0 }),
    rollout,
    credentialsOf,
    runningDigestsOf: () => Promise.resolve(new Map()),
    logger: log.logger,
  });
  const queue = new WorkQueue<ReconcileResult>({ reconcile: (k) => reconciler.reconcile(k) });
  const poller = new Poller({
    cache,
    registry,
    facts,
    enqueue: (key) => queue.add(key),
    credentialsOf,
    intervalMs: opts.intervalMs ?? INTERVAL,
    isLeader: opts.isLeader,
    logger: log.logger,
    onCycle: opts.onCycle,
  });
  cache.start();
  await cache.synced;
  return {
    cluster,
    cache,
    poller,
    push: (repository, tag) =>
      deliverPushes({ facts, cache, queue }, [{
        repository,
        tag,
        pushedAt: Date.now(),
        source: "distribution",
      }], 5_000),
    log,
    outcomes,
    registries,
    patches: () =>
      cluster.fake.requests.filter((r) => r.method === "PATCH").map((r) => ({
        path: r.path,
        contentType: r.contentType,
      })),
    imagePatches: () =>
      cluster.fake.requests.filter((r) =>
        r.method === "PATCH" &&
        (r.body as { op: string; path: string }[]).some((o) =>
          o.op === "replace" && o.path.endsWith("/image")
        )
      ).length,
    images: (name) => imagesOf(cluster.fake.get("apps/v1", "Deployment", "default", name)),
    async stop() {
      await poller.stop();
      await queue.stop();
      registry.close();
      await cache.stop();
      await cluster.stop();
      await Promise.all(registries.map((r) => r.close()));
    },
  };
}

function app(name: string, policy: string, image: string, annotations?: Record<string, string>) {
  return deployment({ name, policy, annotations, containers: [{ name: "app", image }] });
}

function pushAll(registry: StubRegistry, path: string, tags: string[]): void {
  for (const tag of tags) registry.push(path, tag);
}

/** Wait until the cache holds what the API server has (a write made outside Rollout). */
function cached(h: Harness, name: string, has: (annotations: Record<string, string>) => boolean) {
  return waitFor(
    () => {
      const w = h.cache.get(workloadKey("Deployment", "default", name));
      return w !== undefined && has({ ...w.annotations });
    },
    `cache to see ${name}`,
  );
}

function warnings(h: Harness, msg: string): Record<string, unknown>[] {
  return h.log.records().filter((r) => r.msg === msg);
}

Deno.test("Poller: a cycle rolls out minor to the greatest minor, the next one is a no-op", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.2.4", "1.3.0", "2.0.0", "latest"]);
      return [app("web", "minor", `${reg.host}/team/app:1.2.3`)];
    },
  });
  try {
    const [reg] = h.registries;
    const first = await h.poller.cycle(T0);
    assert.deepEqual(h.images("web"), [`app=${reg.host}/team/app:1.3.0`]);
    assert.deepEqual(
      { repositories: first.repositories, listings: first.listings },
      { repositories: 1, listings: 1 },
    );
    assert.equal(first.workloads, 1);
    assert.deepEqual(h.patches().map((p) => p.contentType), ["application/json-patch+json"]);
    assert.deepEqual(h.outcomes, ["applied"]);

    const second = await h.poller.cycle(T0 + INTERVAL);
    assert.equal(second.listings, 1);
    assert.equal(h.patches().length, 1, "no PATCH when nothing changed");
    assert.deepEqual(h.images("web"), [`app=${reg.host}/team/app:1.3.0`]);
    // Two listings and the one manifest GET that confirmed 1.3.0 before it was written.
    assert.deepEqual(reg.counts(), { listings: 2, heads: 0, total: 3 });
  } finally {
    await h.stop();
  }
});

/** Manifest requests (HEAD or GET) the registry answered, as `METHOD tag`. */
function manifestRequests(reg: StubRegistry): string[] {
  return reg.requests.filter((r) => r.url.pathname.includes("/manifests/"))
    .map((r) => `${r.method} ${r.url.pathname.slice(r.url.pathname.lastIndexOf("/") + 1)}`);
}

Deno.test("Poller: an unchanged listing asks no manifest for version policies; a new tag still rolls out", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0", "2.0.0", "latest"]);
      return [
        app("patch", "patch", `${reg.host}/team/app:1.2.3`),
        app("minor", "minor", `${reg.host}/team/app:1.2.3`),
        app("major", "major", `${reg.host}/team/app:1.2.3`),
        app("edge", "all", `${reg.host}/team/app:latest`),
      ];
    },
  });
  try {
    const [reg] = h.registries;
    await h.poller.cycle(T0);
    assert.deepEqual(h.images("minor"), [`app=${reg.host}/team/app:1.3.0`]);
    assert.deepEqual(h.images("major"), [`app=${reg.host}/team/app:2.0.0`]);
    await cached(h, "edge", (a) => STATE_ANNOTATION in a);
    await waitFor(
      () =>
        h.images("minor")[0] === h.cache.get(workloadKey("Deployment", "default", "minor"))
          ?.containers.map((c) => `${c.name}=${c.image}`)[0],
      "cache to see the rollouts",
    );
    // Argoos's writes changed the workloads: each is looked at once more.
    const after = await h.poller.cycle(T0 + INTERVAL);
    assert.equal(after.workloads + after.unchanged, 4);

    reg.resetCounts();
    const patches = h.patches().length;
    const steady = await h.poller.cycle(T0 + 2 * INTERVAL);
    assert.deepEqual({ workloads: steady.workloads, unchanged: steady.unchanged }, {
      workloads: 1,
      unchanged: 3,
    });
    // Only `all` asks: whether latest moved shows in no listing.
    assert.deepEqual(manifestRequests(reg), ["HEAD latest"]);
    assert.equal(h.patches().length, patches);

    // A new tag is a new listing: every workload on it is decided again.
    reg.push("team/app", "1.4.0");
    reg.resetCounts();
    const listed = await h.poller.cycle(T0 + 3 * INTERVAL);
    assert.equal(listed.workloads, 4);
    assert.deepEqual(h.images("minor"), [`app=${reg.host}/team/app:1.4.0`]);
    assert.deepEqual(h.images("patch"), [`app=${reg.host}/team/app:1.2.3`]);
    assert.deepEqual(manifestRequests(reg).sort(), ["GET 1.4.0", "HEAD latest"]);

    // `all` on a moved tag, with the listing as it was: still rolled out.
    await waitFor(
      () =>
        h.cache.get(workloadKey("Deployment", "default", "minor"))?.containers[0].image.endsWith(
          ":1.4.0",
        ) ?? false,
      "cache to see 1.4.0",
    );
    await h.poller.cycle(T0 + 4 * INTERVAL);
    const moved = reg.push("team/app", "latest");
    await h.poller.cycle(T0 + 5 * INTERVAL);
    assert.deepEqual(h.images("edge"), [`app=${reg.host}/team/app:latest@${moved}`]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: a workload changed under an unchanged listing is decided again", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0", "2.0.0"]);
      return [app("web", "patch", `${reg.host}/team/app:1.2.3`)];
    },
  });
  try {
    const [reg] = h.registries;
    assert.equal((await h.poller.cycle(T0)).workloads, 1);
    assert.equal((await h.poller.cycle(T0 + INTERVAL)).unchanged, 1, "nothing to decide");
    // A person widens the policy (the service's watch enqueues it too; the poll does not rely
    // on that).
    const stored = h.cluster.fake.get("apps/v1", "Deployment", "default", "web") as {
      metadata: { labels: Record<string, string> };
    };
    stored.metadata.labels["argoos.io/policy"] = "major";
    h.cluster.fake.put(stored);
    await waitFor(
      () => h.cache.get(workloadKey("Deployment", "default", "web"))?.policyLabel === "major",
      "cache to see the new policy",
    );
    const changed = await h.poller.cycle(T0 + 2 * INTERVAL);
    assert.equal(changed.workloads, 1);
    assert.deepEqual(h.images("web"), [`app=${reg.host}/team/app:2.0.0`]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: a workload skipped as unchanged is still looked at after FULL_LOOK_MS", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3"]);
      return [app("web", "minor", `${reg.host}/team/app:1.2.3`)];
    },
  });
  try {
    assert.equal((await h.poller.cycle(T0)).workloads, 1);
    assert.equal((await h.poller.cycle(T0 + INTERVAL)).unchanged, 1);
    assert.equal((await h.poller.cycle(T0 + FULL_LOOK_MS - INTERVAL)).unchanged, 1);
    assert.equal((await h.poller.cycle(T0 + FULL_LOOK_MS)).workloads, 1);
    assert.equal((await h.poller.cycle(T0 + FULL_LOOK_MS + INTERVAL)).unchanged, 1);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: one listing per repository with ten workloads on it", async () => {
  const h = await start({
    verifyTtlMs: 60_000,
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.2.4", "1.3.0"]);
      return Array.from(
        { length: 10 },
        (_, i) => app(`web${i}`, i % 2 ? "minor" : "patch", `${reg.host}/team/app:1.2.3`),
      );
    },
  });
  try {
    const [reg] = h.registries;
    const stats = await h.poller.cycle(T0);
    assert.equal(stats.listings, 1);
    assert.equal(stats.workloads, 10);
    // One listing, and one manifest GET per distinct tag written (1.2.4, 1.3.0).
    assert.equal(reg.counts().listings, 1);
    assert.equal(reg.requests.filter((r) => r.url.pathname.includes("/manifests/")).length, 2);
    assert.equal(h.patches().length, 10);
    for (let i = 0; i < 10; i++) {
      const want = i % 2 ? "1.3.0" : "1.2.4";
      assert.deepEqual(h.images(`web${i}`), [`app=${reg.host}/team/app:${want}`]);
    }
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: a registry that is down is logged once per cycle, others still served", async () => {
  const down = `127.0.0.1:${closedPort()}`;
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0"]);
      return [
        app("live", "minor", `${reg.host}/team/app:1.2.3`),
        app("d1", "minor", `${down}/team/a:1.0.0`),
        app("d2", "minor", `${down}/team/a:1.0.0`),
        app("d3", "patch", `${down}/team/b:1.0.0`),
      ];
    },
  });
  try {
    const [reg] = h.registries;
    const first = await h.poller.cycle(T0);
    assert.deepEqual(h.images("live"), [`app=${reg.host}/team/app:1.3.0`]);
    assert.equal(first.failedRepositories, 2);
    assert.equal(first.workloads, 1);
    const lines = warnings(h, "registry unavailable this cycle");
    assert.equal(lines.length, 1);
    assert.equal(lines[0].host, down);
    assert.equal(lines[0].repositories, 2);
    assert.equal(lines[0].level, "warn");

    // A failed repository is not marked polled: it is tried again next cycle, and told again once.
    const second = await h.poller.cycle(T0 + 1);
    assert.equal(second.repositories, 2);
    assert.equal(warnings(h, "registry unavailable this cycle").length, 2);
    assert.deepEqual(h.images("d1"), [`app=${down}/team/a:1.0.0`]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: a 429 with Retry-After on one host; the other host carries on", async () => {
  const h = await start({
    registries: 2,
    seed: ([limited, other]) => {
      pushAll(limited, "team/app", ["1.2.3", "1.3.0"]);
      pushAll(other, "team/app", ["1.2.3", "1.3.0"]);
      return [
        app("limited", "minor", `${limited.host}/team/app:1.2.3`),
        app("other", "minor", `${other.host}/team/app:1.2.3`),
      ];
    },
  });
  try {
    const [limited, other] = h.registries;
    limited.fail({ status: 429, retryAfter: "120" });
    const first = await h.poller.cycle(T0);
    assert.equal(first.failedRepositories, 1);
    assert.deepEqual(h.images("other"), [`app=${other.host}/team/app:1.3.0`]);
    assert.deepEqual(h.images("limited"), [`app=${limited.host}/team/app:1.2.3`]);
    const lines = warnings(h, "registry unavailable this cycle");
    assert.deepEqual(lines.map((l) => l.host), [limited.host]);

    // Within the Retry-After window the limited host is not asked at all.
    limited.resetCounts();
    await h.poller.cycle(T0 + 1);
    assert.equal(limited.counts().total, 0);
    assert.deepEqual(h.images("limited"), [`app=${limited.host}/team/app:1.2.3`]);
    assert.equal(warnings(h, "registry unavailable this cycle").length, 2);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: a replica that is not the leader polls nothing", async () => {
  let asked = 0;
  const h = await start({
    isLeader: () => (asked++, false),
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0"]);
      return [app("web", "minor", `${reg.host}/team/app:1.2.3`)];
    },
  });
  try {
    h.poller.start();
    await waitFor(() => asked > 0, "the loop to ask for leadership");
    await h.poller.stop();
    assert.equal(h.registries[0].counts().total, 0);
    assert.equal(h.patches().length, 0);
    assert.deepEqual(h.images("web"), [`app=${h.registries[0].host}/team/app:1.2.3`]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: the leader's loop polls once the cache is synced", async () => {
  const cycles: CycleStats[] = [];
  const h = await start({
    isLeader: () => true,
    onCycle: (s) => cycles.push(s),
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0"]);
      return [app("web", "minor", `${reg.host}/team/app:1.2.3`)];
    },
  });
  try {
    h.poller.start();
    await waitFor(() => cycles.length > 0, "a first cycle");
    await h.poller.stop();
    assert.deepEqual(h.images("web"), [`app=${h.registries[0].host}/team/app:1.3.0`]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: argoos.io/poll-interval makes a repository due sooner", async () => {
  const h = await start({
    seed: ([reg]) => {
      for (const path of ["team/fast", "team/slow", "team/shared", "team/bad"]) {
        pushAll(reg, path, ["1.0.0"]);
      }
      return [
        app("fast", "minor", `${reg.host}/team/fast:1.0.0`, { [POLL_INTERVAL_ANNOTATION]: "1m" }),
        app("slow", "minor", `${reg.host}/team/slow:1.0.0`),
        app("shared-default", "minor", `${reg.host}/team/shared:1.0.0`),
        app("shared-fast", "minor", `${reg.host}/team/shared:1.0.0`, {
          [POLL_INTERVAL_ANNOTATION]: "30s",
        }),
        app("bad", "minor", `${reg.host}/team/bad:1.0.0`, { [POLL_INTERVAL_ANNOTATION]: "soon" }),
      ];
    },
  });
  try {
    const [reg] = h.registries;
    const listed = () =>
      reg.requests.filter((r) => r.method === "GET").map((r) => r.url.pathname.split("/")[3])
        .sort();
    await h.poller.cycle(T0);
    assert.deepEqual(listed(), ["bad", "fast", "shared", "slow"]);

    reg.resetCounts();
    await h.poller.cycle(T0 + 2 * 60_000);
    assert.deepEqual(listed(), ["fast", "shared"]);

    reg.resetCounts();
    await h.poller.cycle(T0 + INTERVAL);
    assert.deepEqual(listed(), ["bad", "fast", "shared", "slow"]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: dry run patches nothing, not even baselines", async () => {
  const h = await start({
    dryRun: true,
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0", "latest"]);
      return [
        app("web", "minor", `${reg.host}/team/app:1.2.3`),
        app("edge", "all", `${reg.host}/team/app:latest`),
      ];
    },
  });
  try {
    await h.poller.cycle(T0);
    assert.equal(h.patches().length, 0);
    assert.deepEqual(h.outcomes, ["dry-run"]);
    const decisions = h.log.records().filter((r) => r.msg === "decision");
    assert.deepEqual(decisions.map((d) => [d.workload, d.reason]).sort(), [
      ["Deployment default/edge", "baseline"],
      ["Deployment default/web", "update"],
    ]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: `all` records what it saw, then rolls out a re-push by digest", async () => {
  const h = await start({
    seed: ([reg]) => {
      reg.push("team/app", "latest");
      return [app("edge", "all", `${reg.host}/team/app:latest`)];
    },
  });
  try {
    const [reg] = h.registries;
    const image = `${reg.host}/team/app:latest`;
    const first = reg.digestOf("team/app", "latest")!;

    await h.poller.cycle(T0);
    // Pods unknown, nothing recorded: the digest is recorded through the one write path.
    assert.deepEqual(h.patches().map((p) => p.contentType), ["application/json-patch+json"]);
    const stored = h.cluster.fake.get("apps/v1", "Deployment", "default", "edge") as {
      metadata: { annotations: Record<string, string> };
    };
    assert.deepEqual(JSON.parse(stored.metadata.annotations[STATE_ANNOTATION]), {
      app: { image, digest: first },
    });
    assert.deepEqual(h.images("edge"), [`app=${image}`], "first sight rolls nothing out");
    await cached(h, "edge", (a) => STATE_ANNOTATION in a);

    await h.poller.cycle(T0 + INTERVAL);
    assert.equal(h.patches().length, 1, "same digest: nothing to write");

    const second = reg.push("team/app", "latest");
    await h.poller.cycle(T0 + 2 * INTERVAL);
    assert.deepEqual(h.images("edge"), [`app=${image}@${second}`]);
    assert.equal(h.patches().length, 2);

    await h.poller.cycle(T0 + 3 * INTERVAL);
    assert.equal(h.patches().length, 2, "pinned to the listed digest: nothing to write");
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: after the webhook rolled a push out, polling makes no second PATCH", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3"]);
      pushAll(reg, "team/edge", ["latest"]);
      return [
        app("web", "minor", `${reg.host}/team/app:1.2.3`),
        app("edge", "all", `${reg.host}/team/edge:latest`),
      ];
    },
  });
  try {
    const [reg] = h.registries;
    reg.push("team/app", "1.3.0");
    const latest = reg.push("team/edge", "latest");
    await h.push(`${reg.host}/team/app`, "1.3.0");
    await h.push(`${reg.host}/team/edge`, "latest");
    assert.deepEqual(h.images("web"), [`app=${reg.host}/team/app:1.3.0`]);
    assert.deepEqual(h.images("edge"), [`app=${reg.host}/team/edge:latest@${latest}`]);
    assert.equal(h.patches().length, 2);

    const mark = h.log.lines.length;
    await h.poller.cycle(T0);
    assert.equal(h.patches().length, 2);
    const decisions = h.log.records().slice(mark).filter((r) => r.msg === "decision");
    assert.deepEqual(decisions.map((d) => [d.workload, d.reason]).sort(), [
      ["Deployment default/edge", "same-image"],
      ["Deployment default/web", "same-image"],
    ]);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: workloads with an invalid policy cause no registry request", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.2.3", "1.3.0"]);
      return [app("web", "Minor", `${reg.host}/team/app:1.2.3`)];
    },
  });
  try {
    const stats = await h.poller.cycle(T0);
    assert.equal(stats.repositories, 0);
    assert.equal(h.registries[0].counts().total, 0);
    assert.equal(h.patches().length, 0);
  } finally {
    await h.stop();
  }
});

/** A registry host that accepts connections and never answers; counts the requests sent. */
function hungRegistry(): { host: string; requests: () => number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  let requests = 0;
  (async () => {
    try {
      for await (const c of listener) {
        conns.push(c);
        // A connection opened and closed unused is no request.
        c.read(new Uint8Array(1)).then((n) => n && requests++, () => {});
      }
    } catch { /* closed */ }
  })();
  return {
    host: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests: () => requests,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed by the client */ }
      }
    },
  };
}

Deno.test("Poller: a webhook rollout made while the poll waits is not undone by its listing", async () => {
  const slowAnswer = Promise.withResolvers<void>();
  const slow = startStub(async () => {
    await slowAnswer.promise;
    return Response.json({ name: "team/other", tags: ["1.0.0"] });
  });
  let first = "";
  const h = await start({
    seed: ([reg]) => {
      first = reg.push("team/app", "latest");
      // One workload over two registries: it is reconciled once both have answered.
      return [deployment({
        name: "edge",
        policy: "all",
        containers: [
          { name: "app", image: `${reg.host}/team/app:latest@${first}` },
          { name: "other", image: `${slow.host}/team/other:1.0.0` },
        ],
      })];
    },
  });
  try {
    const [reg] = h.registries;
    const cycle = h.poller.cycle(T0);
    await waitFor(() => reg.counts().listings > 0, "the poll to list latest");
    // latest is pushed again and the webhook pins it while the other registry is slow.
    const second = reg.push("team/app", "latest");
    await h.push(`${reg.host}/team/app`, "latest");
    slowAnswer.resolve();
    await cycle;
    assert.deepEqual(h.images("edge"), [
      `app=${reg.host}/team/app:latest@${second}`,
      `other=${slow.host}/team/other:1.0.0`,
    ]);
    assert.equal(h.imagePatches(), 1, "only the webhook's");
  } finally {
    slowAnswer.resolve();
    await h.stop();
    await slow.close();
  }
});

Deno.test("Poller: a hung registry holds back only its own workloads, and stop() cancels it", async () => {
  const hung = hungRegistry();
  const cycles: CycleStats[] = [];
  const h = await start({
    onCycle: (s) => cycles.push(s),
    seed: ([reg]) => {
      pushAll(reg, "team/app", ["1.0.0", "1.1.0"]);
      return [
        app("healthy", "minor", `${reg.host}/team/app:1.0.0`),
        ...Array.from(
          { length: 8 },
          (_, i) => app(`h${i}`, "minor", `${hung.host}/team/a${i}:1.0.0`),
        ),
      ];
    },
  });
  try {
    h.poller.start();
    await waitFor(
      () => h.images("healthy")[0] === `app=${h.registries[0].host}/team/app:1.1.0`,
      "the healthy registry's workload to roll out while the other hangs",
    );
    assert.equal(cycles.length, 0, "the cycle is still waiting on the hung host");
    // The requests would wait out their 15 s timeout; stop() cancels them instead.
    const stopped = await Promise.race([
      h.poller.stop().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
    ]);
    assert.ok(stopped, "stop() returned while the registry still hung");
  } finally {
    await h.stop();
    hung.close();
  }
});

Deno.test("Poller: once a host times out, its other repositories are given up this cycle", async () => {
  const hung = hungRegistry();
  const h = await start({
    timeoutMs: 300,
    seed: () =>
      Array.from({ length: 8 }, (_, i) => app(`h${i}`, "minor", `${hung.host}/team/a${i}:1.0.0`)),
  });
  try {
    const stats = await h.poller.cycle(T0);
    assert.equal(stats.failedRepositories, 8);
    // Four requests at a time per host: the first four time out, the queued four send nothing.
    assert.equal(hung.requests(), 4);
    const warned = warnings(h, "registry unavailable this cycle");
    assert.equal(warned.length, 1);
    assert.match(String(warned[0].error), /timed out/);
  } finally {
    await h.stop();
    hung.close();
  }
});

Deno.test("Poller: an interval past the timer limit (720h) waits, it does not spin", async () => {
  const cycles: CycleStats[] = [];
  const h = await start({ intervalMs: 720 * 3_600_000, onCycle: (s) => cycles.push(s) });
  try {
    h.poller.start();
    await waitFor(() => cycles.length === 1, "the first cycle");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cycles.length, 1);
  } finally {
    await h.stop();
  }
});

Deno.test("Poller: an annotation interval below 10s counts as 10s", async () => {
  const h = await start({
    seed: ([reg]) => {
      pushAll(reg, "team/eager", ["1.0.0"]);
      return [
        app("eager", "minor", `${reg.host}/team/eager:1.0.0`, { [POLL_INTERVAL_ANNOTATION]: "1s" }),
      ];
    },
  });
  try {
    const [reg] = h.registries;
    await h.poller.cycle(T0);
    assert.equal(reg.counts().listings, 1);
    // 5 s later the repository is not due yet; 10 s later it is.
    await h.poller.cycle(T0 + 5_000);
    assert.equal(reg.counts().listings, 1);
    await h.poller.cycle(T0 + 10_000);
    assert.equal(reg.counts().listings, 2);
  } finally {
    await h.stop();
  }
});
