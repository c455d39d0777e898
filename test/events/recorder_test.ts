/**
 * Kubernetes Events: what the recorder writes, which service decisions become Events,
 * and that failing to record one is logged and never thrown.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventRecorder } from "../../lib/events/recorder.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload } from "../../lib/workloads/workload.ts";
import { pushEnvelope } from "../service/push_envelope.ts";
import { startService } from "../support/argoos_service.ts";
import type { FakeApiServer } from "../fake_apiserver/mod.ts";
import { capture, deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";

const R = "127.0.0.1:5000";

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("recorder: an Event names the workload, its reason, type and message", async () => {
  const cluster = await startFakeCluster();
  try {
    const stored = cluster.fake.put(deployment({
      kind: "StatefulSet",
      name: "db",
      namespace: "data",
      policy: "minor",
      containers: [{ name: "pg", image: "postgres:16.1" }],
    }));
    const workload = readWorkload(kindNamed("StatefulSet")!, stored as KubeObject);
    const events = new EventRecorder(cluster.client, { instance: "argoos-0" });
    events.record({
      workload,
      reason: "ImageUpdated",
      type: "Normal",
      message: "pg: postgres:16.1 → postgres:16.2",
    });
    await events.flush();

    const [ev]: Json[] = cluster.fake.list("v1", "Event");
    assert.ok(ev.metadata.name.startsWith("db."));
    assert.equal(ev.metadata.namespace, "data");
    assert.deepEqual(ev.involvedObject, {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      name: "db",
      namespace: "data",
      uid: workload.uid,
      resourceVersion: workload.resourceVersion,
    });
    assert.equal(ev.reason, "ImageUpdated");
    assert.equal(ev.type, "Normal");
    assert.equal(ev.message, "pg: postgres:16.1 → postgres:16.2");
    assert.equal(ev.count, 1);
    assert.deepEqual(ev.source, { component: "argoos" });
    assert.equal(ev.reportingComponent, "argoos");
    assert.equal(ev.reportingInstance, "argoos-0");
    assert.equal(ev.firstTimestamp, ev.lastTimestamp);
  } finally {
    await cluster.stop();
  }
});

Deno.test("recorder: a refused Event is logged, not thrown; too many pending are dropped", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  try {
    const workload = readWorkload(
      kindNamed("Deployment")!,
      cluster.fake.put(deployment({
        name: "web",
        policy: "patch",
        containers: [{ name: "app", image: "myapp:1.2.3" }],
      })) as KubeObject,
    );
    cluster.fake.fail({ method: "POST", path: "/events", status: 403, reason: "Forbidden" });
    const events = new EventRecorder(cluster.client, {
      instance: "argoos-0",
      logger: log.logger,
      maxPending: 1,
    });
    const ev = { workload, reason: "ImageUpdated", type: "Normal", message: "m" } as const;
    events.record(ev);
    events.record(ev); // the first is still in flight
    await events.flush();

    assert.deepEqual(cluster.fake.list("v1", "Event"), []);
    const warnings = log.records().filter((r) => r.level === "warn").map((r) => r.msg);
    assert.deepEqual(warnings.sort(), [
      "could not record event",
      "too many pending events, dropping one",
    ]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("service: ImageUpdated, UpdateRejected on a 422, InvalidPolicy once per label", async () => {
  const put = (
    fake: FakeApiServer,
    name: string,
    policy: string,
    image: string,
    annotations?: Record<string, string>,
  ) =>
    fake.put(
      deployment({ name, policy, annotations, containers: [{ name: "app", image }] }),
    ) as Json;
  const svc = await startService({
    seed: ({ fake }) => {
      put(fake, "web", "patch", `${R}/myapp:1.2.3`);
      put(fake, "locked", "patch", `${R}/other:1.0.0`);
      put(fake, "odd", "weekly", `${R}/myapp:1.2.3`);
      fake.fail({
        method: "PATCH",
        path: "/deployments/locked",
        status: 422,
        reason: "Invalid",
        message: "image changes are frozen by admission policy",
        // Refused every time: the work queue retries it with back-off, each retry reported.
        times: 1000,
      });
    },
  });
  const { argoos, fake, log } = svc;
  const push = async (repository: string, tag: string) =>
    assert.equal((await svc.post(pushEnvelope({ host: R, repository, tag }))).status, 200);
  try {
    svc.registry.push("myapp", "1.2.4");
    svc.registry.push("other", "1.0.1");
    await argoos.cache.synced;
    await push("myapp", "1.2.4");
    await push("other", "1.0.1");
    // The same bad label seen again, by a push and by a change to the workload.
    await push("myapp", "1.2.4");
    const touched = put(fake, "odd", "weekly", `${R}/myapp:1.2.3`, { note: "touched" });
    await waitFor(
      () =>
        argoos.cache.all().some((w) =>
          w.name === "odd" && w.resourceVersion === touched.metadata.resourceVersion
        ),
      "the touched workload in the cache",
    );
  } finally {
    await svc.stop(); // flushes Events in flight
  }

  const events: Json[] = fake.list("v1", "Event");
  const of = (reason: string) => events.filter((e) => e.reason === reason);
  const uid = (name: string) =>
    (fake.get("apps/v1", "Deployment", "default", name) as Json).metadata.uid;

  const [updated, ...moreUpdated] = of("ImageUpdated");
  assert.deepEqual(moreUpdated, []);
  assert.equal(updated.type, "Normal");
  assert.equal(updated.involvedObject.kind, "Deployment");
  assert.equal(updated.involvedObject.name, "web");
  assert.equal(updated.involvedObject.uid, uid("web"));
  assert.match(updated.message, new RegExp(`${R}/myapp:1\\.2\\.3 → ${R}/myapp:1\\.2\\.4`));
  assert.match(updated.message, /policy patch, via webhook/);

  const [rejected, ...retried] = of("UpdateRejected");
  assert.equal(rejected.type, "Warning");
  assert.equal(rejected.involvedObject.name, "locked");
  assert.match(rejected.message, /other:1\.0\.1/);
  assert.match(rejected.message, /frozen by admission policy/);

  const invalid = of("InvalidPolicy");
  assert.equal(invalid.length, 1);
  assert.equal(invalid[0].type, "Warning");
  assert.equal(invalid[0].involvedObject.name, "odd");
  assert.match(invalid[0].message, /"weekly"/);

  assert.equal(events.length, 3 + retried.length);
  assert.ok(!log.records().some((r) => r.msg === "could not record event"));
});

Deno.test("service: an invalid annotation is reported once per change, and the workload left alone until fixed", async () => {
  const PATTERN = "argoos.io/tag-pattern";
  const put = (annotations: Record<string, string>) =>
    svc.fake.put(deployment({
      name: "web",
      policy: "patch",
      annotations,
      containers: [{ name: "app", image: `${R}/myapp:1.2.3` }],
    })) as Json;
  const svc = await startService({ seed: () => {} });
  const { argoos, fake, log } = svc;
  const inCache = (obj: Json) =>
    waitFor(
      () =>
        argoos.cache.get("Deployment/default/web")?.resourceVersion ===
          obj.metadata.resourceVersion,
      "the workload's change in the cache",
    );
  const invalid = () =>
    (fake.list("v1", "Event") as Json[]).filter((e) => e.reason === "InvalidPolicy");
  try {
    svc.registry.push("myapp", "1.2.4");
    await argoos.cache.synced;
    await inCache(put({ [PATTERN]: "(" }));
    // A push for its repository changes nothing while the pattern is broken.
    assert.equal(
      (await svc.post(pushEnvelope({ host: R, repository: "myapp", tag: "1.2.4" }))).status,
      200,
    );
    assert.equal(
      (fake.get("apps/v1", "Deployment", "default", "web") as Json).spec.template.spec.containers[0]
        .image,
      `${R}/myapp:1.2.3`,
    );
    // Touched, same error: not reported again.
    await inCache(put({ [PATTERN]: "(", note: "touched" }));
    // Another error: reported.
    await inCache(put({ [PATTERN]: "^1\\.2\\.[0-9]+$", "argoos.io/order.wbe": "numerical" }));
    // Fixed: the push recorded before is rolled out (which moves the cache past this version,
    // so the rollout itself is what is waited for).
    put({ [PATTERN]: "^1\\.2\\.[0-9]+$" });
    await waitFor(
      () =>
        (fake.get("apps/v1", "Deployment", "default", "web") as Json).spec.template.spec
          .containers[0].image === `${R}/myapp:1.2.4`,
      "web on 1.2.4 once fixed",
    );
  } finally {
    await svc.stop();
  }
  const messages = invalid().map((e) => e.message).sort();
  assert.equal(messages.length, 2, JSON.stringify(messages));
  assert.equal(
    messages[0],
    'annotation argoos.io/order.wbe="numerical": names no container of the workload',
  );
  assert.match(messages[1], /^annotation argoos\.io\/tag-pattern="\(": does not compile: /);
  const lines = log.records().filter((r) => r.msg === "invalid policy");
  assert.deepEqual(lines.map((r) => r.key), [PATTERN, "argoos.io/order.wbe"]);
  assert.ok(lines.every((r) => r.workload === "Deployment default/web"));
});

Deno.test("recorder: a repeat updates count and lastTimestamp; an expired one is created anew", async () => {
  const cluster = await startFakeCluster();
  let now = Date.parse("2026-12-01T10:00:00Z");
  try {
    const stored = cluster.fake.put(deployment({
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: "reg.example/app:1.0.0" }],
    }));
    const workload = readWorkload(kindNamed("Deployment")!, stored as KubeObject);
    const told: string[] = [];
    const events = new EventRecorder(cluster.client, {
      instance: "argoos-0",
      now: () => now,
      onFirst: (ev) => told.push(ev.message),
    });
    const refused = {
      workload,
      reason: "UpdateRejected" as const,
      type: "Warning" as const,
      message: "app: refused by admission",
    };
    events.record(refused);
    events.record(refused);
    await events.flush();
    now += 60_000;
    events.record(refused);
    events.record({ ...refused, message: "app: another reason" });
    await events.flush();
    const byMessage = (message: string): Json[] =>
      cluster.fake.list("v1", "Event").filter((e: Json) => e.message === message);
    const [repeated, ...others] = byMessage(refused.message);
    assert.equal(others.length, 0, "one Event for the repeats");
    assert.equal(repeated.count, 3);
    assert.equal(repeated.firstTimestamp, "2026-12-01T10:00:00Z");
    assert.equal(repeated.lastTimestamp, "2026-12-01T10:01:00Z");
    assert.equal(byMessage("app: another reason").length, 1);

    // Deleted by the API server (event TTL): the next repeat creates a new Event.
    cluster.fake.remove("v1", "Event", "default", repeated.metadata.name);
    events.record(refused);
    await events.flush();
    assert.deepEqual(byMessage(refused.message).map((e) => e.count), [1]);
    // Past the TTL it is a new decision, told again; an API server with a longer --event-ttl
    // still holds the Event (same name): it is counted there.
    now += 2 * 60 * 60 * 1000;
    events.record(refused);
    await events.flush();
    assert.deepEqual(byMessage(refused.message).map((e) => e.count), [2]);
    assert.deepEqual(told, [refused.message, "app: another reason", refused.message]);
  } finally {
    await cluster.stop();
  }
});
