import assert from "node:assert/strict";
import { type FakeApiServer, startFakeApiServer } from "./mod.ts";
import { call, WatchReader } from "./test_client.ts";

function put(
  api: FakeApiServer,
  name: string,
  labels: Record<string, string> = {},
  ns = "default",
) {
  return api.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, labels },
    spec: {},
  }) as { metadata: { resourceVersion: string } };
}

const summary = (events: { type: string; object: { metadata: { name: string } } }[]) =>
  events.map((e) => `${e.type} ${e.object.metadata.name}`);

Deno.test("watch without resourceVersion sends current state then changes", async () => {
  const api = await startFakeApiServer();
  const watch = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1");
  try {
    assert.equal(watch.response.status, 200);
    assert.equal(watch.response.headers.get("content-type"), "application/json");
    put(api, "a");
    const events = await watch.take(1);
    assert.deepEqual(summary(events), ["ADDED a"]);
    assert.equal(events[0].object.kind, "Deployment", "watch objects carry kind");
    assert.equal(events[0].object.apiVersion, "apps/v1");
    const second = await WatchReader.open(
      api,
      "/apis/apps/v1/deployments?watch=true&resourceVersion=0",
    );
    try {
      assert.equal(api.watchCount, 2);
      assert.deepEqual(summary(await second.take(1)), ["ADDED a"]);
    } finally {
      await second.close();
    }
    put(api, "a", { x: "1" });
    api.remove("apps/v1", "Deployment", "default", "a");
    assert.deepEqual(summary(await watch.take(2)), ["MODIFIED a", "DELETED a"]);
  } finally {
    await watch.close();
    await api.stop();
  }
});

Deno.test("watch resumes after a resourceVersion, per namespace", async () => {
  const api = await startFakeApiServer();
  try {
    const first = put(api, "a");
    put(api, "b");
    put(api, "other", {}, "elsewhere");
    put(api, "a", { v: "2" });
    const watch = await WatchReader.open(
      api,
      `/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=${first.metadata.resourceVersion}`,
    );
    try {
      const events = await watch.take(2);
      assert.deepEqual(summary(events), ["ADDED b", "MODIFIED a"]);
      assert.equal(events[1].object.metadata.resourceVersion, "4");
    } finally {
      await watch.close();
    }
  } finally {
    await api.stop();
  }
});

Deno.test("watch from before a compaction gets one 410 ERROR event and ends", async () => {
  const api = await startFakeApiServer();
  try {
    put(api, "a");
    put(api, "b");
    api.compact();
    const watch = await WatchReader.open(
      api,
      "/apis/apps/v1/deployments?watch=1&resourceVersion=1",
    );
    assert.equal(watch.response.status, 200);
    const events = await watch.take(2);
    assert.deepEqual(events, [{
      type: "ERROR",
      object: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "too old resource version: 1 (2)",
        reason: "Expired",
        code: 410,
      },
    }]);
    assert.equal(api.watchCount, 0);
    // Resuming from the compaction point itself is still fine.
    const ok = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1&resourceVersion=2");
    put(api, "c");
    assert.deepEqual(summary(await ok.take(1)), ["ADDED c"]);
    await ok.close();
  } finally {
    await api.stop();
  }
});

Deno.test("watch with a label selector turns label transitions into ADDED/DELETED", async () => {
  const api = await startFakeApiServer();
  const watch = await WatchReader.open(
    api,
    "/apis/apps/v1/deployments?watch=1&labelSelector=argoos.io%2Fpolicy",
  );
  try {
    put(api, "a");
    put(api, "a", { "argoos.io/policy": "minor" });
    put(api, "a", { "argoos.io/policy": "major" });
    put(api, "a", {});
    put(api, "b", { "argoos.io/policy": "all" });
    const events = await watch.take(4);
    assert.deepEqual(summary(events), ["ADDED a", "MODIFIED a", "DELETED a", "ADDED b"]);
    assert.deepEqual(events[2].object.metadata.labels, {}, "DELETED carries the new state");
  } finally {
    await watch.close();
    await api.stop();
  }
});

Deno.test("closeWatches ends every stream; stop() ends the rest", async () => {
  const api = await startFakeApiServer();
  const a = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1");
  const b = await WatchReader.open(api, "/api/v1/namespaces/default/secrets?watch=1");
  assert.equal(api.watchCount, 2);
  api.closeWatches();
  assert.equal(await a.next(), undefined);
  assert.equal(await b.next(), undefined);
  assert.equal(api.watchCount, 0);
  const c = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1");
  assert.equal(api.watchCount, 1);
  await api.stop();
  assert.equal(await c.next(), undefined);
});

Deno.test("a client that goes away unregisters its watch", async () => {
  const api = await startFakeApiServer();
  try {
    const watch = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1");
    await watch.close();
    for (let i = 0; i < 50 && api.watchCount > 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(api.watchCount, 0);
  } finally {
    await api.stop();
  }
});

Deno.test("timeoutSeconds ends the stream, after a bookmark when allowed", async () => {
  const api = await startFakeApiServer();
  try {
    put(api, "a");
    const watch = await WatchReader.open(
      api,
      "/apis/apps/v1/deployments?watch=1&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=1",
    );
    const events = await watch.take(2);
    assert.deepEqual(events, [{
      type: "BOOKMARK",
      object: {
        kind: "Deployment",
        apiVersion: "apps/v1",
        metadata: { resourceVersion: "1", creationTimestamp: null },
      },
    }]);
    assert.equal(api.watchCount, 0);
  } finally {
    await api.stop();
  }
});

Deno.test("timeoutSeconds=0 means the server's default, not an immediate end", async () => {
  const api = await startFakeApiServer();
  const watch = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1&timeoutSeconds=0");
  try {
    assert.equal(watch.response.status, 200);
    put(api, "a");
    put(api, "b");
    assert.deepEqual(summary(await watch.take(2)), ["ADDED a", "ADDED b"]);
    assert.equal(api.watchCount, 1, "still open");
  } finally {
    await watch.close();
    await api.stop();
  }
});

Deno.test("watch one object through fieldSelector, legacy path and object path", async () => {
  const api = await startFakeApiServer();
  try {
    put(api, "a");
    put(api, "b");
    for (
      const path of [
        "/apis/apps/v1/namespaces/default/deployments?watch=1&fieldSelector=metadata.name%3Db",
        "/apis/apps/v1/watch/namespaces/default/deployments/b",
        "/apis/apps/v1/namespaces/default/deployments/b?watch=1",
      ]
    ) {
      const watch = await WatchReader.open(api, path);
      try {
        assert.deepEqual(summary(await watch.take(1)), ["ADDED b"], path);
      } finally {
        await watch.close();
      }
    }
    const bad = await call(api, "GET", "/apis/apps/v1/deployments?watch=1&labelSelector=%3D%3D");
    assert.equal(bad.status, 400);
  } finally {
    await api.stop();
  }
});
