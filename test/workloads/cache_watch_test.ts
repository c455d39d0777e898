/**
 * WorkloadCache against misbehaving servers: watches that close at once, and watches that
 * go silent without closing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { KubeClient } from "../../lib/kube/client.ts";
import { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { plainConnection, serveStub } from "../kube/stub_server.ts";
import { capture, deployment, waitFor } from "../support/fake_cluster.ts";

const DEPLOYMENT = kindNamed("Deployment")!;
const LIST = { kind: "DeploymentList", metadata: { resourceVersion: "5" }, items: [] };

Deno.test("a watch that ends at once without events backs off instead of spinning", async () => {
  let watches = 0;
  const stub = serveStub((req) => {
    if (!new URL(req.url).searchParams.has("watch")) return Response.json(LIST);
    watches++;
    return new Response("", { headers: { "content-type": "application/json" } });
  });
  const { logger, lines } = capture();
  const cache = new WorkloadCache(new KubeClient(plainConnection(stub.url)), {
    kinds: [DEPLOYMENT],
    logger,
  });
  try {
    cache.start();
    await cache.synced;
    await new Promise((r) => setTimeout(r, 1_000));
  } finally {
    await cache.stop();
    await stub.close();
  }
  // Back-off 250, 500, 1000 ms: three or four watches in a second, not thousands.
  assert.ok(watches >= 1 && watches <= 5, `watch requests in 1 s: ${watches}`);
  const warnings = lines.map((l) => JSON.parse(l)).filter((r) =>
    r.msg === "list/watch failed, retrying"
  );
  assert.ok(warnings.length >= 1, "each short watch is reported as a failure");
  assert.match(String(warnings[0].error), /very short watch/);
});

Deno.test("a watch that goes silent is dropped and resumed from its last resourceVersion", async () => {
  const web = deployment({
    name: "web",
    policy: "minor",
    containers: [{ name: "app", image: "nginx:1.27.0" }],
  });
  const seen: URLSearchParams[] = [];
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const stub = serveStub((req) => {
    const query = new URL(req.url).searchParams;
    seen.push(query);
    if (!query.has("watch")) return Response.json(LIST);
    const first = seen.filter((q) => q.has("watch")).length === 1;
    const line = JSON.stringify({
      type: "ADDED",
      object: { ...web, metadata: { ...web.metadata as object, resourceVersion: "6" } },
    });
    // Ignores timeoutSeconds: sends (the first time) one event, then nothing, never closing.
    return new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          streams.push(c);
          if (first) c.enqueue(new TextEncoder().encode(line + "\n"));
        },
      }),
      { headers: { "content-type": "application/json" } },
    );
  });
  const client = new KubeClient(plainConnection(stub.url), { watchGraceMs: 100 });
  const cache = new WorkloadCache(client, { kinds: [DEPLOYMENT], watchTimeoutSeconds: 1 });
  try {
    cache.start();
    await waitFor(() => cache.get("Deployment/default/web"), "the watched workload");
    await waitFor(() => seen.filter((q) => q.has("watch")).length >= 2, "the re-watch");
    const watches = seen.filter((q) => q.has("watch"));
    assert.equal(watches[0].get("resourceVersion"), "5");
    assert.equal(watches[1].get("resourceVersion"), "6", "resumed after the last event");
    assert.equal(seen.filter((q) => !q.has("watch")).length, 1, "no relist");
    assert.equal(cache.size, 1);
  } finally {
    await cache.stop();
    for (const c of streams) {
      try {
        c.close();
      } catch {
        // Already cancelled by the client.
      }
    }
    await stub.close();
  }
});
