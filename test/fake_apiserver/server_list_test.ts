import assert from "node:assert/strict";
import { type FakeApiServer, startFakeApiServer } from "./mod.ts";
import { call } from "./test_client.ts";

function seed(api: FakeApiServer): void {
  for (const ns of ["a", "b"]) {
    for (
      const [name, labels] of [
        ["web", { app: "web", tier: "front" }],
        ["api", { app: "api", tier: "back" }],
        ["db", { app: "db" }],
      ] as const
    ) {
      api.put({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: ns, labels },
        spec: {},
      });
    }
  }
}

const names = (body: { items: { metadata: { namespace: string; name: string } }[] }) =>
  body.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);

Deno.test("list: shape, key order, items without kind/apiVersion", async () => {
  const api = await startFakeApiServer();
  try {
    seed(api);
    const all = await call(api, "GET", "/apis/apps/v1/deployments");
    assert.equal(all.status, 200);
    assert.equal(all.body.kind, "DeploymentList");
    assert.equal(all.body.apiVersion, "apps/v1");
    assert.equal(all.body.metadata.resourceVersion, "6");
    assert.deepEqual(names(all.body), ["a/api", "a/db", "a/web", "b/api", "b/db", "b/web"]);
    assert.equal(all.body.items[0].kind, undefined);
    assert.equal(all.body.items[0].apiVersion, undefined);
    const inB = await call(api, "GET", "/apis/apps/v1/namespaces/b/deployments");
    assert.deepEqual(names(inB.body), ["b/api", "b/db", "b/web"]);
  } finally {
    await api.stop();
  }
});

const selectorCases: [query: string, expected: string[]][] = [
  ["labelSelector=app%3Dweb", ["a/web", "b/web"]],
  ["labelSelector=tier", ["a/api", "a/web", "b/api", "b/web"]],
  ["labelSelector=!tier", ["a/db", "b/db"]],
  ["labelSelector=app%20in%20(web,db)", ["a/db", "a/web", "b/db", "b/web"]],
  ["labelSelector=app%20notin%20(web,db),tier!%3Dfront", ["a/api", "b/api"]],
  ["fieldSelector=metadata.name%3Dapi", ["a/api", "b/api"]],
  ["fieldSelector=metadata.namespace%3Db,metadata.name!%3Ddb", ["b/api", "b/web"]],
  ["labelSelector=tier%3Dfront&fieldSelector=metadata.namespace%3Da", ["a/web"]],
];
for (const [query, expected] of selectorCases) {
  Deno.test(`list with ${decodeURIComponent(query)}`, async () => {
    const api = await startFakeApiServer();
    try {
      seed(api);
      const res = await call(api, "GET", `/apis/apps/v1/deployments?${query}`);
      assert.equal(res.status, 200);
      assert.deepEqual(names(res.body), expected);
    } finally {
      await api.stop();
    }
  });
}

Deno.test("list: malformed selectors are 400 BadRequest", async () => {
  const api = await startFakeApiServer();
  try {
    for (
      const query of [
        "labelSelector=app%20in%20(web",
        "labelSelector=%3Dx",
        "fieldSelector=spec.x%3D1",
        "limit=abc",
        "resourceVersion=x",
      ]
    ) {
      const res = await call(api, "GET", `/apis/apps/v1/deployments?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.reason, "BadRequest", query);
    }
  } finally {
    await api.stop();
  }
});

Deno.test("list: limit and continue page through every item", async () => {
  const api = await startFakeApiServer();
  try {
    seed(api);
    const seen: string[] = [];
    let token = "";
    const pages: number[] = [];
    do {
      const res = await call(
        api,
        "GET",
        `/apis/apps/v1/deployments?limit=4${token ? `&continue=${token}` : ""}`,
      );
      assert.equal(res.status, 200);
      assert.equal(
        res.body.metadata.resourceVersion,
        "6",
        "every page carries the first page's RV",
      );
      seen.push(...names(res.body));
      pages.push(res.body.items.length);
      if (res.body.metadata.continue) assert.equal(res.body.metadata.remainingItemCount, 2);
      token = res.body.metadata.continue ?? "";
    } while (token);
    assert.deepEqual(pages, [4, 2]);
    assert.deepEqual(seen, ["a/api", "a/db", "a/web", "b/api", "b/db", "b/web"]);

    const filtered = await call(api, "GET", "/apis/apps/v1/deployments?limit=1&labelSelector=tier");
    assert.deepEqual(names(filtered.body), ["a/api"]);
    assert.ok(filtered.body.metadata.continue);
    assert.equal(filtered.body.metadata.remainingItemCount, undefined);

    const exact = await call(api, "GET", "/apis/apps/v1/deployments?limit=6");
    assert.equal(exact.body.metadata.continue, undefined);

    const bad = await call(api, "GET", "/apis/apps/v1/deployments?continue=garbage");
    assert.equal(bad.status, 400);
  } finally {
    await api.stop();
  }
});

Deno.test("list: compaction expires continue tokens and Exact resourceVersions", async () => {
  const api = await startFakeApiServer();
  try {
    seed(api);
    const first = await call(api, "GET", "/apis/apps/v1/deployments?limit=2");
    api.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "a" } });
    api.compact();
    const next = await call(
      api,
      "GET",
      `/apis/apps/v1/deployments?limit=2&continue=${first.body.metadata.continue}`,
    );
    assert.equal(next.status, 410);
    assert.equal(next.body.reason, "Expired");
    const exact = await call(
      api,
      "GET",
      "/apis/apps/v1/deployments?resourceVersion=3&resourceVersionMatch=Exact",
    );
    assert.equal(exact.status, 410);
    assert.equal(exact.body.code, 410);
    // Without Exact, a resourceVersion is a lower bound the current state satisfies.
    const notOlder = await call(api, "GET", "/apis/apps/v1/deployments?resourceVersion=3");
    assert.equal(notOlder.status, 200);
  } finally {
    await api.stop();
  }
});

Deno.test("deletecollection removes the selected objects", async () => {
  const api = await startFakeApiServer();
  try {
    seed(api);
    const res = await call(
      api,
      "DELETE",
      "/apis/apps/v1/namespaces/a/deployments?labelSelector=tier",
    );
    assert.equal(res.status, 200);
    assert.deepEqual(names(res.body), ["a/api", "a/web"]);
    assert.equal(api.list("apps/v1", "Deployment").length, 4);
  } finally {
    await api.stop();
  }
});
