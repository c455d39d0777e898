import assert from "node:assert/strict";
import { type FakeApiServer, startFakeApiServer } from "./mod.ts";
import { call } from "./test_client.ts";

const WEB = "/apis/apps/v1/namespaces/default/deployments/web";
const JSON_PATCH = "application/json-patch+json";
const MERGE_PATCH = "application/merge-patch+json";
const STRATEGIC = "application/strategic-merge-patch+json";

function seed(api: FakeApiServer) {
  return api.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      template: {
        spec: {
          containers: [{ name: "app", image: "nginx:1.25.0" }, { name: "side", image: "s:1" }],
        },
      },
    },
  }) as { metadata: { resourceVersion: string } };
}

Deno.test("json patch: replace an image with a resourceVersion test", async () => {
  const api = await startFakeApiServer();
  try {
    const stored = seed(api);
    const res = await call(api, "PATCH", WEB, [
      { op: "test", path: "/metadata/resourceVersion", value: stored.metadata.resourceVersion },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "nginx:1.26.0" },
    ], JSON_PATCH);
    assert.equal(res.status, 200);
    assert.equal(res.body.spec.template.spec.containers[0].image, "nginx:1.26.0");
    assert.equal(res.body.metadata.generation, 2, "a spec change bumps generation");
    assert.equal(res.body.kind, "Deployment");
  } finally {
    await api.stop();
  }
});

// kube-apiserver answers an unapplicable JSON patch with NewGenericServerResponse(422, …,
// isUnexpectedResponse=false), which drops the "testing value … failed" text: no causes.
Deno.test("json patch: a failed test is 422 Invalid with the real server's generic body", async () => {
  const api = await startFakeApiServer();
  try {
    seed(api);
    const res = await call(api, "PATCH", WEB, [
      { op: "test", path: "/spec/template/spec/containers/0/image", value: "nginx:0" },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "nginx:1.26.0" },
    ], JSON_PATCH);
    assert.equal(res.status, 422);
    assert.deepEqual(res.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "the server rejected our request due to an error in our request",
      reason: "Invalid",
      details: {},
      code: 422,
    });
    const after = api.get("apps/v1", "Deployment", "default", "web") as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    assert.equal(after.spec.template.spec.containers[0].image, "nginx:1.25.0", "nothing applied");
    const missing = await call(
      api,
      "PATCH",
      WEB,
      [{ op: "remove", path: "/spec/nope" }],
      JSON_PATCH,
    );
    assert.equal(missing.status, 422);
    const malformed = await call(api, "PATCH", WEB, { op: "remove" }, JSON_PATCH);
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.reason, "BadRequest");
    const notJson = await call(api, "PATCH", WEB, "[{", JSON_PATCH);
    assert.equal(notJson.status, 400);
  } finally {
    await api.stop();
  }
});

Deno.test("merge patch: labels and a stale resourceVersion", async () => {
  const api = await startFakeApiServer();
  try {
    const stored = seed(api);
    const res = await call(api, "PATCH", WEB, {
      metadata: { labels: { app: null, "argoos.io/policy": "patch" } },
    }, MERGE_PATCH);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.metadata.labels, { "argoos.io/policy": "patch" });
    assert.equal(res.body.metadata.generation, 1, "metadata changes keep generation");
    const stale = await call(api, "PATCH", WEB, {
      metadata: { resourceVersion: stored.metadata.resourceVersion, labels: { x: "y" } },
    }, MERGE_PATCH);
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, "Conflict");
    const fresh = await call(api, "PATCH", WEB, {
      metadata: { resourceVersion: res.body.metadata.resourceVersion, labels: { x: "y" } },
    }, MERGE_PATCH);
    assert.equal(fresh.status, 200);
    const lists = await call(api, "PATCH", WEB, {
      spec: { template: { spec: { containers: [{ name: "app", image: "nginx:2" }] } } },
    }, MERGE_PATCH);
    assert.equal(lists.body.spec.template.spec.containers.length, 1, "merge patch replaces lists");
  } finally {
    await api.stop();
  }
});

Deno.test("strategic merge patch merges containers by name", async () => {
  const api = await startFakeApiServer();
  try {
    seed(api);
    const res = await call(api, "PATCH", `${WEB}?fieldManager=argoos`, {
      spec: { template: { spec: { containers: [{ name: "app", image: "nginx:1.26.0" }] } } },
    }, `${STRATEGIC}; charset=utf-8`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.spec.template.spec.containers, [
      { name: "app", image: "nginx:1.26.0" },
      { name: "side", image: "s:1" },
    ]);
  } finally {
    await api.stop();
  }
});

Deno.test("patch failures: 415, 404, 400 on name change, no-op keeps resourceVersion", async () => {
  const api = await startFakeApiServer();
  try {
    const stored = seed(api);
    const yaml = await call(api, "PATCH", WEB, "metadata: {}", "application/apply-patch+yaml");
    assert.equal(yaml.status, 415);
    assert.equal(yaml.body.reason, "UnsupportedMediaType");
    assert.equal((await call(api, "PATCH", WEB, {}, "application/json")).status, 415);
    const missing = await call(api, "PATCH", `${WEB}x`, {}, MERGE_PATCH);
    assert.equal(missing.status, 404);
    const rename = await call(api, "PATCH", WEB, { metadata: { name: "other" } }, MERGE_PATCH);
    assert.equal(rename.status, 400);
    const noop = await call(
      api,
      "PATCH",
      WEB,
      { metadata: { labels: { app: "web" } } },
      MERGE_PATCH,
    );
    assert.equal(noop.status, 200);
    assert.equal(noop.body.metadata.resourceVersion, stored.metadata.resourceVersion);
  } finally {
    await api.stop();
  }
});
