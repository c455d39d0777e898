import assert from "node:assert/strict";
import { startFakeApiServer } from "./mod.ts";
import { call } from "./test_client.ts";

const DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";

function deployment(name: string, image = "nginx:1.25.0") {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { "argoos.io/policy": "minor" } },
    spec: { template: { spec: { containers: [{ name: "app", image }] } } },
  };
}

Deno.test("create, get, replace and delete a Deployment over HTTP", async () => {
  const api = await startFakeApiServer();
  try {
    const created = await call(api, "POST", DEPLOYMENTS, deployment("web"));
    assert.equal(created.status, 201);
    assert.equal(created.body.kind, "Deployment");
    assert.equal(created.body.metadata.namespace, "default");
    assert.equal(created.body.metadata.generation, 1);
    assert.match(created.body.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(created.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const rv1 = created.body.metadata.resourceVersion;
    assert.match(rv1, /^\d+$/);

    const got = await call(api, "GET", `${DEPLOYMENTS}/web`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, created.body);

    const next = structuredClone(got.body);
    next.spec.template.spec.containers[0].image = "nginx:1.26.0";
    const replaced = await call(api, "PUT", `${DEPLOYMENTS}/web`, next);
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.metadata.generation, 2);
    assert.equal(replaced.body.metadata.uid, created.body.metadata.uid);
    assert.ok(Number(replaced.body.metadata.resourceVersion) > Number(rv1));

    const stale = await call(api, "PUT", `${DEPLOYMENTS}/web`, next);
    assert.equal(stale.status, 409);
    assert.deepEqual(stale.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been ' +
        "modified; please apply your changes to the latest version and try again",
      reason: "Conflict",
      details: { name: "web", group: "apps", kind: "deployments" },
      code: 409,
    });

    const deleted = await call(api, "DELETE", `${DEPLOYMENTS}/web`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.status, "Success");
    assert.deepEqual(deleted.body.details, {
      name: "web",
      group: "apps",
      kind: "deployments",
      uid: created.body.metadata.uid,
    });
    const gone = await call(api, "GET", `${DEPLOYMENTS}/web`);
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'deployments.apps "web" not found',
      reason: "NotFound",
      details: { name: "web", group: "apps", kind: "deployments" },
      code: 404,
    });
    assert.equal((await call(api, "DELETE", `${DEPLOYMENTS}/web`)).status, 404);
  } finally {
    await api.stop();
  }
});

Deno.test("create failures: AlreadyExists, Invalid, BadRequest, 415, 405", async () => {
  const api = await startFakeApiServer();
  try {
    await call(api, "POST", DEPLOYMENTS, deployment("web"));
    const again = await call(api, "POST", DEPLOYMENTS, deployment("web"));
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, "AlreadyExists");
    assert.equal(again.body.message, 'deployments.apps "web" already exists');

    const noName = await call(api, "POST", DEPLOYMENTS, { spec: {} });
    assert.equal(noName.status, 422);
    assert.equal(noName.body.reason, "Invalid");
    assert.equal(noName.body.details.kind, "Deployment");
    assert.equal(noName.body.details.causes[0].field, "metadata.name");
    assert.equal(noName.body.details.causes[0].reason, "FieldValueRequired");

    const badName = await call(api, "POST", DEPLOYMENTS, deployment("Not_Valid"));
    assert.equal(badName.status, 422);

    assert.equal((await call(api, "POST", DEPLOYMENTS, "{not json")).status, 400);
    const otherNs = await call(api, "POST", DEPLOYMENTS, {
      ...deployment("x"),
      metadata: { name: "x", namespace: "other" },
    });
    assert.equal(otherNs.status, 400);
    const wrongKind = await call(api, "POST", DEPLOYMENTS, { ...deployment("x"), kind: "Pod" });
    assert.equal(wrongKind.status, 400);
    const textBody = await call(api, "POST", DEPLOYMENTS, deployment("x"), "text/plain");
    assert.equal(textBody.status, 415);
    assert.equal(textBody.body.reason, "UnsupportedMediaType");

    const onObject = await call(api, "POST", `${DEPLOYMENTS}/web`, deployment("web"));
    assert.equal(onObject.status, 405);
    assert.equal(onObject.body.reason, "MethodNotAllowed");
    assert.equal(
      (await call(api, "POST", "/apis/apps/v1/deployments", deployment("y"))).status,
      405,
    );
    assert.equal((await call(api, "PUT", DEPLOYMENTS, deployment("y"))).status, 405);
  } finally {
    await api.stop();
  }
});

Deno.test("generateName, cluster-scoped kinds and every served route", async () => {
  const api = await startFakeApiServer();
  try {
    const generated = await call(api, "POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { generateName: "cfg-" },
      data: { a: "1" },
    });
    assert.equal(generated.status, 201);
    assert.match(generated.body.metadata.name, /^cfg-[a-z0-9]{5}$/);
    assert.equal(generated.body.metadata.generation, undefined, "no spec, no generation");

    const ns = await call(api, "POST", "/api/v1/namespaces", { metadata: { name: "prod" } });
    assert.equal(ns.status, 201);
    assert.equal(ns.body.metadata.namespace, undefined);
    assert.equal((await call(api, "GET", "/api/v1/namespaces/prod")).body.metadata.name, "prod");
    const role = await call(api, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      metadata: { name: "reader" },
      rules: [],
    });
    assert.equal(role.status, 201);

    const collections = [
      "/api/v1/namespaces/a/secrets",
      "/api/v1/namespaces/a/serviceaccounts",
      "/api/v1/namespaces/a/services",
      "/api/v1/namespaces/a/configmaps",
      "/api/v1/namespaces/a/events",
      "/api/v1/namespaces/a/pods",
      "/apis/apps/v1/namespaces/a/statefulsets",
      "/apis/apps/v1/namespaces/a/daemonsets",
      "/apis/batch/v1/namespaces/a/cronjobs",
      "/apis/batch/v1/namespaces/a/jobs",
      "/apis/coordination.k8s.io/v1/namespaces/a/leases",
      "/apis/events.k8s.io/v1/namespaces/a/events",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings",
      "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
      "/apis/apps/v1/deployments",
    ];
    for (const path of collections) {
      const res = await call(api, "GET", path);
      assert.equal(res.status, 200, path);
      assert.match(res.body.kind, /List$/, path);
    }
    for (
      const path of [
        "/apis/apps/v1/foos",
        "/apis/nope/v1/things",
        "/nothing",
        "/apis/apps/v1/deployments/web",
      ]
    ) {
      const res = await call(api, "GET", path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.kind, "Status", path);
    }
  } finally {
    await api.stop();
  }
});

Deno.test("a write that changes nothing keeps the resourceVersion", async () => {
  const api = await startFakeApiServer();
  try {
    const created = (await call(api, "POST", DEPLOYMENTS, deployment("web"))).body;
    const same = await call(api, "PUT", `${DEPLOYMENTS}/web`, created);
    assert.equal(same.status, 200);
    assert.equal(same.body.metadata.resourceVersion, created.metadata.resourceVersion);
  } finally {
    await api.stop();
  }
});

Deno.test("status subresource: main writes keep status, /status writes only status", async () => {
  const api = await startFakeApiServer();
  try {
    const created = (await call(api, "POST", DEPLOYMENTS, {
      ...deployment("web"),
      status: { replicas: 9 },
    })).body;
    assert.equal(created.status, undefined, "status is dropped on create");
    const withStatus = await call(
      api,
      "PUT",
      `${DEPLOYMENTS}/web/status`,
      { ...created, status: { observedGeneration: 1 }, spec: { changed: true } },
    );
    assert.equal(withStatus.status, 200);
    assert.deepEqual(withStatus.body.status, { observedGeneration: 1 });
    assert.deepEqual(withStatus.body.spec, created.spec, "spec is ignored on /status");
    assert.equal(withStatus.body.metadata.generation, 1);
    const main = await call(api, "PUT", `${DEPLOYMENTS}/web`, {
      ...withStatus.body,
      status: { observedGeneration: 7 },
    });
    assert.deepEqual(main.body.status, { observedGeneration: 1 }, "status is kept on main writes");
  } finally {
    await api.stop();
  }
});

Deno.test("put/get/list/remove seed and inspect the store", async () => {
  const api = await startFakeApiServer();
  try {
    const stored = api.put({
      ...deployment("web"),
      metadata: { name: "web", namespace: "prod" },
      status: { observedGeneration: 1 },
    });
    assert.equal(stored.metadata && (stored.metadata as { generation: number }).generation, 1);
    assert.deepEqual(stored.status, { observedGeneration: 1 }, "put keeps status");
    const again = api.put({ ...stored, spec: { paused: true } });
    const meta = again.metadata as Record<string, unknown>;
    assert.equal(meta.generation, 1, "put keeps an explicit generation");
    assert.equal(meta.uid, (stored.metadata as Record<string, unknown>).uid);
    assert.deepEqual(api.get("apps/v1", "Deployment", "prod", "web"), again);
    assert.equal(api.get("apps/v1", "Deployment", "prod", "nope"), undefined);
    api.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } });
    assert.equal(api.list("apps/v1", "Deployment").length, 1);
    assert.equal(api.list("v1", "Namespace").length, 1);

    const http = await call(api, "GET", "/apis/apps/v1/namespaces/prod/deployments/web");
    assert.deepEqual(http.body, again);

    api.remove("apps/v1", "Deployment", "prod", "web");
    assert.equal(api.list("apps/v1", "Deployment").length, 0);
    assert.throws(() => api.put({ apiVersion: "x/v1", kind: "Thing", metadata: { name: "a" } }));
    assert.throws(() =>
      api.put({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" } })
    );
  } finally {
    await api.stop();
  }
});

Deno.test("version, health and discovery", async () => {
  const api = await startFakeApiServer();
  try {
    const version = await fetch(`${api.url}/version`);
    assert.equal((await version.json()).major, "1");
    const health = await fetch(`${api.url}/healthz`);
    assert.equal(await health.text(), "ok");
    assert.deepEqual((await call(api, "GET", "/api")).body.versions, ["v1"]);
    const groups = (await call(api, "GET", "/apis")).body.groups.map((g: { name: string }) =>
      g.name
    );
    assert.ok(groups.includes("apps") && groups.includes("coordination.k8s.io"));
    const apps = (await call(api, "GET", "/apis/apps/v1")).body;
    assert.equal(apps.kind, "APIResourceList");
    assert.ok(apps.resources.some((r: { name: string }) => r.name === "deployments/status"));
  } finally {
    await api.stop();
  }
});
