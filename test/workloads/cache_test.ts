/**
 * WorkloadCache against the fake API server: list, watch, resume, relist and indexes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { kindNamed, WORKLOAD_KINDS } from "../../lib/workloads/kinds.ts";
import { WorkloadCache } from "../../lib/workloads/cache.ts";
import {
  capture,
  deployment,
  type FakeCluster,
  startFakeCluster,
  waitFor,
} from "../support/fake_cluster.ts";

const DEPLOYMENT = kindNamed("Deployment")!;
const NGINX = "docker.io/library/nginx";
const REDIS = "docker.io/library/redis";

const web = (image = "nginx:1.27.0", extra: Partial<Parameters<typeof deployment>[0]> = {}) =>
  deployment({ name: "web", policy: "minor", containers: [{ name: "app", image }], ...extra });

/** Names of the cached workloads, sorted, as `Kind/ns/name`. */
const keys = (cache: WorkloadCache) =>
  cache.all().map((w) => `${w.kind.type.kind}/${w.namespace}/${w.name}`).sort();

const lists = (c: FakeCluster) =>
  c.fake.requests.filter((r) => r.method === "GET" && !r.query.has("watch")).length;

async function withCache(
  seed: (c: FakeCluster) => void,
  opts: { namespaces?: string[]; kinds?: typeof WORKLOAD_KINDS },
  fn: (cache: WorkloadCache, c: FakeCluster, lines: string[]) => Promise<void>,
): Promise<void> {
  const cluster = await startFakeCluster();
  const { logger, lines } = capture();
  const cache = new WorkloadCache(cluster.client, {
    kinds: opts.kinds ?? [DEPLOYMENT],
    namespaces: opts.namespaces,
    logger,
  });
  try {
    seed(cluster);
    cache.start();
    await cache.synced;
    await fn(cache, cluster, lines);
  } finally {
    await cache.stop();
    await cluster.stop();
  }
}

Deno.test("initial list: labelled workloads of every kind, indexed by repository", async () => {
  const seed = (c: FakeCluster) => {
    c.fake.put(web());
    c.fake.put(deployment({ name: "plain", containers: [{ name: "app", image: "nginx:1" }] }));
    c.fake.put(deployment({
      name: "db",
      kind: "StatefulSet",
      policy: "patch",
      containers: [{ name: "redis", image: "redis:7.2.0" }],
      initContainers: [{ name: "init", image: "nginx:1.27.0" }],
    }));
    c.fake.put(deployment({
      name: "job",
      namespace: "batch",
      kind: "CronJob",
      policy: "all",
      containers: [{ name: "run", image: "redis:latest" }],
    }));
  };
  await withCache(seed, { kinds: WORKLOAD_KINDS }, (cache) => {
    assert.equal(cache.isSynced, true);
    assert.deepEqual(keys(cache), [
      "CronJob/batch/job",
      "Deployment/default/web",
      "StatefulSet/default/db",
    ]);
    assert.deepEqual(cache.byRepository(NGINX).map((w) => w.name).sort(), ["db", "web"]);
    assert.deepEqual(cache.byRepository(REDIS).map((w) => w.name).sort(), ["db", "job"]);
    assert.deepEqual(cache.repositories().sort(), [NGINX, REDIS]);
    assert.equal(cache.get("CronJob/batch/job")?.containers[0].image, "redis:latest");
    return Promise.resolve();
  });
});

Deno.test("watch: ADDED, MODIFIED (image change re-indexes) and DELETED", async () => {
  await withCache(() => {}, {}, async (cache, c) => {
    assert.equal(cache.size, 0);
    c.fake.put(web());
    await waitFor(() => cache.get("Deployment/default/web"), "ADDED");
    assert.deepEqual(cache.byRepository(NGINX).map((w) => w.name), ["web"]);

    c.fake.put(web("redis:7.2.0"));
    await waitFor(() => cache.byRepository(REDIS).length === 1, "MODIFIED");
    assert.deepEqual(cache.byRepository(NGINX), []);
    assert.deepEqual(cache.repositories(), [REDIS]);

    c.fake.remove("apps/v1", "Deployment", "default", "web");
    await waitFor(() => cache.size === 0, "DELETED");
    assert.deepEqual(cache.repositories(), []);
  });
});

Deno.test("watch: a change keeps the index of repositories other workloads share", async () => {
  const sidecar = (name: string, app: string) =>
    deployment({
      name,
      policy: "minor",
      containers: [{ name: "app", image: app }, { name: "proxy", image: "nginx:1.27.0" }],
    });
  const seed = (c: FakeCluster) => {
    c.fake.put(sidecar("web", "redis:7.2.0"));
    c.fake.put(sidecar("api", "redis:7.2.0"));
  };
  await withCache(seed, {}, async (cache, c) => {
    const names = (repository: string) => cache.byRepository(repository).map((w) => w.name).sort();
    assert.deepEqual(names(NGINX), ["api", "web"]);
    // A new tag of the app: both repositories stay indexed, with the changed workload's entry.
    c.fake.put(sidecar("web", "redis:7.4.0"));
    await waitFor(() => cache.get("Deployment/default/web")?.containers[0].image === "redis:7.4.0");
    assert.deepEqual(names(REDIS), ["api", "web"]);
    assert.equal(
      cache.byRepository(REDIS).find((w) => w.name === "web")?.containers[0].image,
      "redis:7.4.0",
    );
    // The sidecar dropped by one: the other is its repository's only user.
    c.fake.put(deployment({
      name: "web",
      policy: "minor",
      containers: [{ name: "app", image: "redis:7.4.0" }],
    }));
    await waitFor(() => cache.get("Deployment/default/web")?.containers.length === 1);
    assert.deepEqual(names(NGINX), ["api"]);
    assert.deepEqual(names(REDIS), ["api", "web"]);
    assert.deepEqual(cache.repositories().sort(), [NGINX, REDIS]);
  });
});

Deno.test("watch: a workload whose policy label is removed leaves the cache", async () => {
  await withCache((c) => void c.fake.put(web()), {}, async (cache, c) => {
    assert.equal(cache.size, 1);
    c.fake.put(deployment({ name: "web", containers: [{ name: "app", image: "nginx:1.27.0" }] }));
    await waitFor(() => cache.size === 0, "the unlabelled workload to go");
    assert.deepEqual(cache.byRepository(NGINX), []);
  });
});

Deno.test("a dropped watch stream is resumed without listing again", async () => {
  await withCache((c) => void c.fake.put(web()), {}, async (cache, c) => {
    const listed = lists(c);
    await waitFor(() => c.fake.watchCount === 1, "the watch");
    c.fake.closeWatches();
    c.fake.put(
      deployment({ name: "api", policy: "major", containers: [{ name: "a", image: "redis:7" }] }),
    );
    await waitFor(() => cache.get("Deployment/default/api"), "the change after the drop");
    assert.equal(lists(c), listed, "no relist");
    assert.equal(cache.size, 2);
  });
});

Deno.test("an expired watch (410) is followed by a relist that drops what was missed", async () => {
  const seed = (c: FakeCluster) => {
    c.fake.put(web());
    c.fake.put(
      deployment({
        name: "old",
        policy: "patch",
        containers: [{ name: "a", image: "redis:7.0.0" }],
      }),
    );
  };
  await withCache(seed, {}, async (cache, c, lines) => {
    assert.equal(cache.size, 2);
    await waitFor(() => c.fake.watchCount === 1, "the watch");
    // Refuse the next watch once so changes happen while nobody watches, then forget history.
    c.fake.fail({ method: "GET", path: "/apis/apps/v1/deployments", status: 500 });
    const mark = c.fake.requests.length;
    c.fake.closeWatches();
    await waitFor(() => c.fake.requests.length > mark, "the refused re-watch");
    c.fake.remove("apps/v1", "Deployment", "default", "old");
    c.fake.put(web("redis:7.2.0"));
    c.fake.put(
      deployment({ name: "new", policy: "all", containers: [{ name: "a", image: "nginx:2" }] }),
    );
    c.fake.compact();
    const listed = lists(c);

    await waitFor(() => lists(c) > listed, "the relist");
    await waitFor(() => cache.get("Deployment/default/new"), "the relisted state");
    assert.deepEqual(keys(cache), ["Deployment/default/new", "Deployment/default/web"]);
    assert.deepEqual(cache.byRepository(REDIS).map((w) => w.name), ["web"]);
    assert.deepEqual(cache.byRepository(NGINX).map((w) => w.name), ["new"]);
    assert.ok(lines.some((l) => JSON.parse(l).msg === "watch expired, listing again"));
  });
});

Deno.test("a namespace-restricted cache lists and watches only its namespaces", async () => {
  const seed = (c: FakeCluster) => {
    c.fake.put(web("nginx:1", { namespace: "team-a" }));
    c.fake.put(web("nginx:1", { namespace: "team-b" }));
  };
  await withCache(seed, { namespaces: ["team-a", "team-c"] }, async (cache, c) => {
    assert.deepEqual(keys(cache), ["Deployment/team-a/web"]);
    assert.ok(
      c.fake.requests.every((r) => r.path.includes("/namespaces/team-")),
      "no cluster-wide request",
    );
    c.fake.put(
      deployment({
        name: "x",
        namespace: "team-b",
        policy: "all",
        containers: [{ name: "a", image: "redis:1" }],
      }),
    );
    c.fake.put(
      deployment({
        name: "y",
        namespace: "team-c",
        policy: "all",
        containers: [{ name: "a", image: "redis:1" }],
      }),
    );
    await waitFor(() => cache.get("Deployment/team-c/y"), "team-c's workload");
    assert.deepEqual(keys(cache), ["Deployment/team-a/web", "Deployment/team-c/y"]);
  });
});

Deno.test("synced resolves once every kind and namespace is listed", async () => {
  const cluster = await startFakeCluster();
  // The CronJob list fails once, so sync waits for its retry.
  cluster.fake.fail({ method: "GET", path: "/namespaces/a/cronjobs", status: 503 });
  const cache = new WorkloadCache(cluster.client, {
    kinds: WORKLOAD_KINDS,
    namespaces: ["a", "b"],
  });
  try {
    assert.equal(cache.isSynced, false);
    let synced = false;
    cache.synced.then(() => (synced = true));
    cache.start();
    await waitFor(
      () => cluster.fake.requests.filter((r) => r.query.has("watch")).length >= 7,
      "the other seven scopes to be listed and watched",
    );
    assert.equal(synced, false);
    assert.equal(cache.isSynced, false);
    await cache.synced;
    assert.equal(cache.isSynced, true);
  } finally {
    await cache.stop();
    await cluster.stop();
  }
  const empty = new WorkloadCache(cluster.client, { kinds: [] });
  assert.equal(empty.isSynced, true);
  await empty.synced;
});

Deno.test("observe records a written object before the watch delivers it", async () => {
  await withCache((c) => void c.fake.put(web()), {}, (cache) => {
    cache.observe(DEPLOYMENT, web("redis:7.2.0") as Parameters<typeof cache.observe>[1]);
    assert.deepEqual(cache.byRepository(REDIS).map((w) => w.name), ["web"]);
    assert.deepEqual(cache.byRepository(NGINX), []);
    return Promise.resolve();
  });
});

Deno.test("a long list is cached, then told a slice at a time: the event loop turns between", async () => {
  const N = 1_200;
  const cluster = await startFakeCluster();
  let told = 0;
  let toldWhenTimerRan: number | undefined;
  const cache = new WorkloadCache(cluster.client, {
    kinds: [DEPLOYMENT],
    onUpsert: () => {
      const until = performance.now() + 0.25; // 300 ms in all, none of it awaiting
      while (performance.now() < until) { /* spin */ }
      told++;
    },
  });
  try {
    for (let i = 0; i < N; i++) cluster.fake.put(web(undefined, { name: `web-${i}` }));
    cache.start();
    await cache.synced;
    // Every workload is cached once synced; telling them is still under way.
    assert.equal(cache.size, N);
    setTimeout(() => toldWhenTimerRan = told, 0);
    await waitFor(() => told === N, "every listed workload told");
    assert.ok(
      toldWhenTimerRan !== undefined && toldWhenTimerRan < N / 4,
      `the timer ran after ${toldWhenTimerRan} of ${N} were told`,
    );
  } finally {
    await cache.stop();
    await cluster.stop();
  }
});

Deno.test("a namespace named twice is listed and watched once; every listed workload is told", async () => {
  const cluster = await startFakeCluster();
  const told: string[] = [];
  const cache = new WorkloadCache(cluster.client, {
    kinds: [DEPLOYMENT, DEPLOYMENT],
    namespaces: ["default", "default"],
    onUpsert: (w) => {
      told.push(w.name);
      if (w.name === "web-0") throw new Error("this one's trouble"); // the rest are still told
    },
  });
  try {
    for (let i = 0; i < 3; i++) cluster.fake.put(web(undefined, { name: `web-${i}` }));
    cache.start();
    await cache.synced;
    await waitFor(() => told.length === 3, "every listed workload told");
    assert.deepEqual(told.toSorted(), ["web-0", "web-1", "web-2"]);
    assert.equal(lists(cluster), 1, "one list");
  } finally {
    await cache.stop();
    await cluster.stop();
  }
});
