/**
 * WorkloadCache.observe: PATCH and GET answers must not bring back an older state, an
 * opted-out workload or one the watch already deleted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import type { KubeObject } from "../../lib/workloads/workload.ts";
import {
  capture,
  deployment,
  type FakeCluster,
  startFakeCluster,
  waitFor,
} from "../support/fake_cluster.ts";

const DEPLOYMENT = kindNamed("Deployment")!;
const NGINX = "docker.io/library/nginx";
const IMAGE = "/spec/template/spec/containers/0/image";

const workload = (name: string, image: string, opts: { optedOut?: boolean } = {}) =>
  deployment({
    name,
    policy: opts.optedOut ? undefined : "minor",
    containers: [{ name: "app", image }],
  });

/** `obj` with another resourceVersion and image, as an answer from another moment. */
function variant(obj: KubeObject, resourceVersion: string, image: string): KubeObject {
  const copy = structuredClone(obj) as KubeObject & {
    spec: { template: { spec: { containers: { image: string }[] } } };
  };
  copy.metadata!.resourceVersion = resourceVersion;
  copy.spec.template.spec.containers[0].image = image;
  return copy;
}

async function withCache(fn: (cache: WorkloadCache, c: FakeCluster) => Promise<void>) {
  const c = await startFakeCluster();
  const cache = new WorkloadCache(c.client, { kinds: [DEPLOYMENT] });
  try {
    cache.start();
    await cache.synced;
    await fn(cache, c);
  } finally {
    await cache.stop();
    await c.stop();
  }
}

const stored = (c: FakeCluster, name: string) =>
  c.fake.get("apps/v1", "Deployment", "default", name) as KubeObject;

Deno.test("observe: a PATCH answer after the policy label was removed does not re-add it", () =>
  withCache(async (cache, c) => {
    c.fake.put(workload("web", "nginx:1.27.0"));
    await waitFor(() => cache.size === 1, "the labelled workload");
    c.fake.put(workload("web", "nginx:1.27.0", { optedOut: true })); // the user opts out
    await waitFor(() => cache.size === 0, "the DELETED from the label selector");
    // An in-flight PATCH (testing only the image) still lands; its answer has no label.
    const written = await c.client.patch<KubeObject>(DEPLOYMENT.type, "default", "web", [
      { op: "test", path: IMAGE, value: "nginx:1.27.0" },
      { op: "replace", path: IMAGE, value: "nginx:1.27.1" },
    ], "json");
    cache.observe(DEPLOYMENT, written);
    assert.equal(cache.size, 0);
    assert.deepEqual(cache.byRepository(NGINX), []);
  }));

Deno.test("observe: an unlabelled answer newer than the cached entry removes it", () =>
  withCache(async (cache, c) => {
    c.fake.put(workload("web", "nginx:1.27.0"));
    await waitFor(() => cache.size === 1, "the labelled workload");
    const current = stored(c, "web");
    const next = Number(current.metadata!.resourceVersion) + 1;
    const unlabelled = variant(current, String(next), "nginx:1.27.0");
    delete unlabelled.metadata!.labels!["argoos.io/policy"];
    cache.observe(DEPLOYMENT, unlabelled);
    assert.equal(cache.get("Deployment/default/web"), undefined);
    assert.deepEqual(cache.byRepository(NGINX), []);
  }));

Deno.test("observe: a late answer for a workload the watch deleted is ignored", () =>
  withCache(async (cache, c) => {
    c.fake.put(workload("api", "nginx:1.27.0"));
    await waitFor(() => cache.size === 1, "the workload");
    const written = await c.client.patch<KubeObject>(DEPLOYMENT.type, "default", "api", [
      { op: "replace", path: IMAGE, value: "nginx:1.27.1" },
    ], "json");
    c.fake.remove("apps/v1", "Deployment", "default", "api");
    await waitFor(() => cache.size === 0, "the DELETED event");
    cache.observe(DEPLOYMENT, written); // the PATCH answer, processed late
    assert.equal(cache.get("Deployment/default/api"), undefined);

    // Re-created later: the watch brings it back, and newer answers are taken again.
    c.fake.put(workload("api", "nginx:1.28.0"));
    await waitFor(() => cache.get("Deployment/default/api"), "the re-created workload");
    const again = stored(c, "api");
    const newer = String(Number(again.metadata!.resourceVersion) + 1);
    cache.observe(DEPLOYMENT, variant(again, newer, "nginx:1.28.1"));
    assert.equal(cache.get("Deployment/default/api")?.containers[0].image, "nginx:1.28.1");
  }));

Deno.test("observe: answers not newer than the cached entry are ignored", () =>
  withCache(async (cache, c) => {
    c.fake.put(workload("web", "nginx:1.27.0"));
    c.fake.put(workload("web", "nginx:1.27.1"));
    await waitFor(
      () => cache.get("Deployment/default/web")?.containers[0].image === "nginx:1.27.1",
      "the second version",
    );
    const current = stored(c, "web");
    const rv = Number(current.metadata!.resourceVersion);
    const image = () => cache.get("Deployment/default/web")?.containers[0].image;
    cache.observe(DEPLOYMENT, variant(current, String(rv - 1), "nginx:1.0.0"));
    assert.equal(image(), "nginx:1.27.1", "an older answer");
    cache.observe(DEPLOYMENT, variant(current, String(rv), "nginx:1.0.0"));
    assert.equal(image(), "nginx:1.27.1", "the same version");
    cache.observe(DEPLOYMENT, variant(current, String(rv + 1), "nginx:1.27.2"));
    assert.equal(image(), "nginx:1.27.2", "a newer answer");
  }));

Deno.test("observe: opaque resourceVersions are compared only for equality", () =>
  withCache(async (cache, c) => {
    c.fake.put(workload("web", "nginx:1.27.0"));
    await waitFor(() => cache.size === 1, "the workload");
    const current = stored(c, "web");
    const image = () => cache.get("Deployment/default/web")?.containers[0].image;
    cache.observe(DEPLOYMENT, variant(current, "opaque-a", "nginx:1.27.1"));
    assert.equal(image(), "nginx:1.27.1", "unordered and different: taken");
    cache.observe(DEPLOYMENT, variant(current, "opaque-a", "nginx:1.0.0"));
    assert.equal(image(), "nginx:1.27.1", "equal: ignored");
  }));

Deno.test("observe: an answer naming a parser not loaded yet (a range, a window) loads it first", async () => {
  // A process of its own: in this one another test may have loaded the parsers already.
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--enable-experimental-regexp-engine",
      "--allow-read",
      "--allow-env",
      new URL("./observe_in_fresh_process.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(child.stdout).trim();
  assert.equal(out, "told: []", new TextDecoder().decode(child.stderr));
});

Deno.test("observe: the watch event of a write whose answer was observed is not told again", async () => {
  const c = await startFakeCluster();
  const told: string[] = [];
  const cache = new WorkloadCache(c.client, {
    kinds: [DEPLOYMENT],
    onUpsert: (w) => told.push(`${w.name}@${w.resourceVersion}`),
  });
  try {
    cache.start();
    await cache.synced;
    c.fake.put(workload("web", "nginx:1.27.0"));
    await waitFor(() => cache.size === 1, "the labelled workload");
    const written = await c.client.patch<KubeObject>(DEPLOYMENT.type, "default", "web", [
      { op: "replace", path: IMAGE, value: "nginx:1.27.1" },
    ], "json");
    cache.observe(DEPLOYMENT, written);
    const held = cache.get("Deployment/default/web");
    // Events come in order: once the next workload is in, the write's event was read.
    c.fake.put(workload("next", "nginx:1.27.0"));
    await waitFor(() => cache.size === 2, "the workload put after the write");
    const version = written.metadata!.resourceVersion;
    assert.deepEqual(told.filter((t) => t === `web@${version}`), [`web@${version}`]);
    assert.equal(cache.get("Deployment/default/web"), held);
  } finally {
    await cache.stop();
    await c.stop();
  }
});

Deno.test("watch: a change that cannot be told is logged, held, and the watch goes on", async () => {
  const c = await startFakeCluster();
  const told: string[] = [];
  const log = capture();
  const cache = new WorkloadCache(c.client, {
    kinds: [DEPLOYMENT],
    logger: log.logger,
    onUpsert: (w) => {
      if (w.name === "web") throw new Error("the watch trigger failed");
      told.push(w.name);
    },
  });
  try {
    cache.start();
    await cache.synced;
    c.fake.put(workload("web", "nginx:1.27.0"));
    c.fake.put(workload("api", "nginx:1.27.0"));
    await waitFor(() => told.includes("api"), "the change after the one that failed");
    assert.equal(cache.get("Deployment/default/web")?.containers[0].image, "nginx:1.27.0");
    assert.equal(cache.byRepository(NGINX).length, 2);
    const errors = log.records().filter((l) => l.msg === "a workload change could not be told");
    assert.deepEqual(errors.map((l) => [l.key, l.error]), [
      ["Deployment/default/web", "the watch trigger failed"],
    ]);
  } finally {
    await cache.stop();
    await c.stop();
  }
});
