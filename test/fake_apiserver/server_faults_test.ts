import assert from "node:assert/strict";
import { type RecordedRequest, startFakeApiServer } from "./mod.ts";
import { findByKind } from "./resources.ts";
import { admissionPolicyDenied, rbacForbidden, webhookDenied } from "./status.ts";
import { call, WatchReader } from "./test_client.ts";

const PODS = "/api/v1/namespaces/default/pods";

Deno.test("requests without the right Bearer token get 401 Unauthorized", async () => {
  const api = await startFakeApiServer({ token: "s3cret" });
  try {
    assert.equal(api.token, "s3cret");
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong" },
      { authorization: "s3cret" },
    ];
    for (const headers of attempts) {
      const res = await fetch(api.url + PODS, { headers });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
    assert.equal((await call(api, "GET", PODS)).status, 200);
  } finally {
    await api.stop();
  }
});

Deno.test("/version is public to anonymous requests, but a wrong token is still 401", async () => {
  const api = await startFakeApiServer({ token: "s3cret" });
  try {
    const anonymous: Record<string, string> = {};
    for (const headers of [anonymous, { authorization: "Bearer s3cret" }]) {
      const res = await fetch(`${api.url}/version`, { headers });
      assert.equal(res.status, 200);
      const version = await res.json();
      assert.equal(version.major, "1");
      assert.match(version.gitVersion, /^v1\.\d+\.\d+$/);
      assert.equal(version.gitVersion, `v1.${version.minor}.0`);
    }
    const wrong = await fetch(`${api.url}/version`, { headers: { authorization: "Bearer no" } });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).reason, "Unauthorized");
    const health = await fetch(`${api.url}/healthz`, { headers: { authorization: "Bearer no" } });
    assert.equal(health.status, 401);
    await health.body?.cancel();
  } finally {
    await api.stop();
  }
});

Deno.test("faults answer matching requests with a Status, the given number of times", async () => {
  const api = await startFakeApiServer();
  try {
    api.fail({ method: "get", path: "/pods", status: 500, times: 2 });
    api.fail({ path: "deployments/web", status: 409, reason: "Conflict", message: "try again" });
    api.fail({ status: 429 });
    for (let i = 0; i < 2; i++) {
      const res = await call(api, "GET", PODS);
      assert.equal(res.status, 500);
      assert.equal(res.body.kind, "Status");
      assert.equal(res.body.reason, "InternalError");
      assert.equal(res.body.code, 500);
    }
    const conflict = await call(api, "PATCH", "/apis/apps/v1/namespaces/a/deployments/web", {});
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.reason, "Conflict");
    assert.equal(conflict.body.message, "try again");
    const throttled = await call(api, "GET", PODS);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get("retry-after"), "1");
    assert.equal(throttled.body.reason, "TooManyRequests");
    assert.equal((await call(api, "GET", PODS)).status, 200, "faults are used up");
  } finally {
    await api.stop();
  }
});

Deno.test("a lost answer applies the write and breaks the response; a hang answers nothing in time; rate picks some", async () => {
  const api = await startFakeApiServer();
  try {
    api.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "a" } });
    const path = "/api/v1/namespaces/a/configmaps/c";
    api.fail({ method: "PATCH", kind: "lost" });
    const lost = fetch(api.url + path, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${api.token}`,
        "content-type": "application/merge-patch+json",
      },
      body: JSON.stringify({ data: { k: "v" } }),
    }).then((res) => res.text());
    await assert.rejects(lost, "the answer never arrives whole");
    const stored = api.get("v1", "ConfigMap", "a", "c") as { data?: Record<string, string> };
    assert.deepEqual(stored.data, { k: "v" }, "the write was applied");

    api.fail({ method: "GET", kind: "hang", hangMs: 500 });
    await assert.rejects(
      fetch(api.url + path, {
        headers: { authorization: `Bearer ${api.token}` },
        signal: AbortSignal.timeout(200),
      }),
      (err: Error) => err.name === "TimeoutError",
    );

    let n = 0;
    const random = () => (n++ % 4) / 4; // 0, .25, .5, .75: one in four under 0.2
    api.fail({ method: "GET", status: 500, rate: 0.2, random, times: 100 });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(api, "GET", path)).status);
    assert.deepEqual(statuses, [500, 200, 200, 200, 500, 200, 200, 200]);
  } finally {
    await api.stop();
  }
});

Deno.test("faults apply to watches too", async () => {
  const api = await startFakeApiServer();
  try {
    api.fail({ path: "/deployments", status: 503 });
    const watch = await WatchReader.open(api, "/apis/apps/v1/deployments?watch=1");
    assert.equal(watch.response.status, 503);
    assert.equal((await watch.next())?.type, undefined);
    assert.equal(api.watchCount, 0);
  } finally {
    await api.stop();
  }
});

Deno.test("every request is recorded and reported as it arrives", async () => {
  const api = await startFakeApiServer();
  try {
    const seen: RecordedRequest[] = [];
    api.onRequest = (req) => seen.push(req);
    const before = performance.now();
    await call(api, "PATCH", "/apis/apps/v1/namespaces/a/deployments/web?fieldManager=x", {
      metadata: {},
    }, "application/merge-patch+json");
    await fetch(api.url + PODS).then((r) => r.body?.cancel());
    assert.equal(api.requests.length, 2);
    assert.deepEqual(seen, api.requests);
    const [patch, unauth] = api.requests;
    assert.equal(patch.method, "PATCH");
    assert.equal(patch.path, "/apis/apps/v1/namespaces/a/deployments/web");
    assert.equal(patch.query.get("fieldManager"), "x");
    assert.equal(patch.contentType, "application/merge-patch+json");
    assert.deepEqual(patch.body, { metadata: {} });
    assert.ok(patch.at >= before);
    assert.equal(unauth.body, undefined);
  } finally {
    await api.stop();
  }
});

Deno.test("admission policy, webhook and RBAC refusals have the real server's Status shapes", async () => {
  const api = await startFakeApiServer();
  const type = findByKind("apps/v1", "Deployment")!;
  const path = "/apis/apps/v1/namespaces/default/deployments/web";
  const patch = async () => {
    const res = await fetch(api.url + path, {
      method: "PATCH",
      headers: { "content-type": "application/json-patch+json" },
      body: "[]",
    });
    return [res.status, await res.json()];
  };
  const denial = "ValidatingAdmissionPolicy 'pinned' with binding 'pinned-b' denied request: no";
  const status = (code: number, reason: string | undefined, message: string, details?: object) => ({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  });
  try {
    api.fail({
      error: admissionPolicyDenied(type, "web", "pinned", "pinned-b", "no", "Forbidden"),
    });
    assert.deepEqual(await patch(), [
      403,
      status(403, "Forbidden", `deployments.apps "web" is forbidden: ${denial}`, {
        name: "web",
        group: "apps",
        kind: "deployments",
        causes: [{ message: denial }],
      }),
    ]);
    api.fail({ error: webhookDenied("img.example.com", { code: 403, message: "not allowed" }) });
    assert.deepEqual(await patch(), [
      403,
      status(403, undefined, 'admission webhook "img.example.com" denied the request: not allowed'),
    ]);
    api.fail({
      error: rbacForbidden(type, "web", "default", "system:serviceaccount:a:b", "patch"),
    });
    assert.deepEqual(await patch(), [
      403,
      status(
        403,
        "Forbidden",
        'deployments.apps "web" is forbidden: User "system:serviceaccount:a:b" cannot patch ' +
          'resource "deployments" in API group "apps" in the namespace "default"',
        { name: "web", group: "apps", kind: "deployments" },
      ),
    ]);
  } finally {
    await api.stop();
  }
});

Deno.test("an admission refusal rule: only writes whose body matches, every time, until its end", async () => {
  const api = await startFakeApiServer();
  const path = "/apis/apps/v1/namespaces/default/deployments/web";
  const patch = async (image: string) => {
    const res = await fetch(api.url + path, {
      method: "PATCH",
      headers: {
        "content-type": "application/json-patch+json",
        authorization: `Bearer ${api.token}`,
      },
      body: JSON.stringify([{ op: "replace", path: "/spec/x", value: image }]),
    });
    await res.body?.cancel();
    return res.status;
  };
  try {
    api.fail({
      method: "PATCH",
      bodyIncludes: "app:1.0.0",
      error: webhookDenied("scan.example.com", { code: 403, message: "CVE-2026-1" }),
      until: Date.now() + 300,
    });
    // Refused as often as asked while in force; other writes pass it by (404: no such object).
    for (let i = 0; i < 5; i++) assert.equal(await patch("app:1.0.0"), 403);
    assert.equal(await patch("app:1.0.1"), 404);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await patch("app:1.0.0"), 404, "the rule ended");
  } finally {
    await api.stop();
  }
});
