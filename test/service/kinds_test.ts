/**
 * Every workload kind is found by the cache and rolled out by the webhook through the
 * same routine, with the JSON patch aimed at where that kind keeps its pod template.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "./push_envelope.ts";

const REGISTRY = "127.0.0.1:5000";

const KINDS = [
  { kind: "Deployment", apiVersion: "apps/v1", resource: "deployments", name: "web" },
  { kind: "StatefulSet", apiVersion: "apps/v1", resource: "statefulsets", name: "db" },
  { kind: "DaemonSet", apiVersion: "apps/v1", resource: "daemonsets", name: "agent" },
  { kind: "CronJob", apiVersion: "batch/v1", resource: "cronjobs", name: "nightly" },
] as const;

Deno.test("a push rolls out a Deployment, StatefulSet, DaemonSet and CronJob alike", async () => {
  const svc = await startService({
    seed: ({ fake }, registry) => {
      registry.push("myapp", "1.2.4");
      for (const k of KINDS) {
        fake.put(deployment({
          kind: k.kind,
          name: k.name,
          policy: "patch",
          containers: [{ name: "app", image: `${REGISTRY}/myapp:1.2.3` }],
        }));
      }
    },
  });
  const { argoos, fake } = svc;
  try {
    await argoos.cache.synced;
    await waitFor(() => argoos.cache.all().length === KINDS.length, "all kinds cached");

    const { status, text } = await svc.post(
      pushEnvelope({ host: REGISTRY, repository: "myapp", tag: "1.2.4" }),
    );
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(text), {
      applied: KINDS.length,
      unchanged: 0,
      refused: 0,
      rejected: 0,
      ignored: 0,
    });

    const patches = fake.requests.filter((r) => r.method === "PATCH");
    assert.equal(patches.length, KINDS.length);
    for (const k of KINDS) {
      const patch = patches.find((p) =>
        p.path === `/apis/${k.apiVersion}/namespaces/default/${k.resource}/${k.name}`
      );
      assert.ok(patch, `${k.kind} patched`);
      assert.equal(patch.contentType, "application/json-patch+json");
      const pod = k.kind === "CronJob"
        ? "/spec/jobTemplate/spec/template/spec"
        : "/spec/template/spec";
      // The image ops, beside the guarded write of argoos.io/state in the same patch.
      const ops = (patch.body as { path: string }[]).filter((o) =>
        !o.path.startsWith("/metadata/annotations") && o.path !== "/metadata/resourceVersion"
      );
      assert.ok((patch.body as { path: string }[]).some((o) => o.path === "/metadata/annotations"));
      assert.deepEqual(ops, [
        { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "patch" },
        { op: "test", path: `${pod}/containers/0/name`, value: "app" },
        { op: "test", path: `${pod}/containers/0/image`, value: `${REGISTRY}/myapp:1.2.3` },
        { op: "replace", path: `${pod}/containers/0/image`, value: `${REGISTRY}/myapp:1.2.4` },
      ]);
      assert.deepEqual(imagesOf(fake.get(k.apiVersion, k.kind, "default", k.name)), [
        `app=${REGISTRY}/myapp:1.2.4`,
      ]);
    }
  } finally {
    await svc.stop();
  }
});
