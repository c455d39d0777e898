import assert from "node:assert/strict";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import { KubeClient, type WatchEvent } from "../../lib/kube/client.ts";
import { resolveConnection } from "../../lib/kube/connection.ts";
import { isTransient, KubeApiError } from "../../lib/kube/errors.ts";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { startFakeApiServer } from "../fake_apiserver/mod.ts";

const deployment = (name: string, image = "nginx:1.25.0") => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "default", labels: { "argoos.io/policy": "minor" } },
  spec: { template: { spec: { containers: [{ name: "app", image }] } } },
});

/** A client for the fake API server, authenticated through a kubeconfig like a user's. */
async function clientFor(url: string, token: string, dir: string) {
  await Deno.writeTextFile(
    `${dir}/config`,
    `
clusters: [{ name: fake, cluster: { server: "${url}" } }]
users: [{ name: me, user: { token: ${token} } }]
contexts: [{ name: fake, context: { cluster: fake, user: me } }]
current-context: fake
`,
  );
  const conn = await resolveConnection({ kubeconfig: `${dir}/config`, env: () => undefined });
  return new KubeClient(conn);
}

Deno.test("against the fake API server: list, watch, patch, replace, delete", async () => {
  const api = await startFakeApiServer();
  const dir = await Deno.makeTempDir();
  const kube = await clientFor(api.url, api.token, dir);
  try {
    for (const n of ["a", "b", "c"]) api.put(deployment(n));
    const all = await kube.listAll<Deployment>(DEPLOYMENTS, {
      labelSelector: "argoos.io/policy",
      limit: 2,
    });
    assert.deepEqual(all.items.map((d) => d.metadata?.name), ["a", "b", "c"]);
    assert.ok(all.metadata.resourceVersion);

    const ac = new AbortController();
    const events: WatchEvent<Deployment>[] = [];
    const watching = (async () => {
      for await (
        const ev of kube.watch<Deployment>(DEPLOYMENTS, {
          resourceVersion: all.metadata.resourceVersion,
          signal: ac.signal,
        })
      ) {
        events.push(ev);
        if (events.length === 2) ac.abort();
      }
    })();
    // Wait for the watch to be registered before changing things.
    while (api.watchCount === 0) await new Promise((r) => setTimeout(r, 5));

    const patched = await kube.patch<Deployment>(DEPLOYMENTS, "default", "a", {
      spec: { template: { spec: { containers: [{ name: "app", image: "nginx:1.26.0" }] } } },
    }, "strategic");
    assert.equal(patched.spec?.template.spec?.containers[0].image, "nginx:1.26.0");
    await kube.delete(DEPLOYMENTS, "default", "b");
    await watching;
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata?.name}`), [
      "MODIFIED a",
      "DELETED b",
    ]);

    const stale = {
      ...deployment("c"),
      metadata: { ...deployment("c").metadata, resourceVersion: "1" },
    };
    const conflict = await kube.replace(DEPLOYMENTS, "default", "c", stale).catch((e) => e);
    assert.ok(conflict instanceof KubeApiError);
    assert.equal(conflict.status, 409);

    const missing = await kube.get(DEPLOYMENTS, "default", "b").catch((e) => e);
    assert.ok(missing instanceof KubeApiError);
    assert.equal(missing.status, 404);
    assert.equal(missing.reason, "NotFound");
  } finally {
    kube.connection.close();
    await api.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("against the fake API server: 410 after compaction, injected 503, bad token", async () => {
  const api = await startFakeApiServer();
  const dir = await Deno.makeTempDir();
  const kube = await clientFor(api.url, api.token, dir);
  const wrong = await clientFor(api.url, "wrong", dir);
  try {
    api.put(deployment("a"));
    const list = await kube.list<Deployment>(DEPLOYMENTS);
    api.put(deployment("a", "nginx:1.25.1"));
    api.compact();
    const expired = await (async () => {
      for await (
        const _ of kube.watch(DEPLOYMENTS, { resourceVersion: list.metadata.resourceVersion })
      ) {
        // no events expected before the 410
      }
    })().catch((e) => e);
    assert.ok(expired instanceof KubeApiError, String(expired));
    assert.equal(expired.status, 410);

    api.fail({ method: "GET", path: "/deployments", status: 503 });
    const unavailable = await kube.list(DEPLOYMENTS).catch((e) => e);
    assert.ok(unavailable instanceof KubeApiError);
    assert.equal(unavailable.status, 503);
    assert.equal(isTransient(unavailable), true);

    const denied = await wrong.list(DEPLOYMENTS).catch((e) => e);
    assert.ok(denied instanceof KubeApiError);
    assert.equal(denied.status, 401);
    assert.equal(isTransient(denied), false);
  } finally {
    kube.connection.close();
    wrong.connection.close();
    await api.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
