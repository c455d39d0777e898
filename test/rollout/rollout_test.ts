/**
 * Rollout.apply against the fake API server: one guarded patch per workload, never decided
 * again (a conflict is answered guard-failed), with dry runs, refusals and reports.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Rollout, type RolloutReport, TransientRolloutError } from "../../lib/rollout/rollout.ts";
import type { Plan } from "../../lib/rollout/rollout.ts";
import type { Verdict } from "../../lib/rollout/verdict.ts";
import { currentTag, judgeTag } from "../../lib/policy/candidates.ts";
import { candidatesFor, settle } from "../../lib/policy/decide.ts";
import { rulesOf } from "../../lib/policy/rules.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import {
  capture,
  deployment,
  type FakeCluster,
  imagesOf,
  startFakeCluster,
  type WorkloadSpec,
} from "../support/fake_cluster.ts";
import { findByKind } from "../fake_apiserver/resources.ts";
import { admissionPolicyDenied, rbacForbidden, webhookDenied } from "../fake_apiserver/status.ts";

const DIGEST = "sha256:" + "c".repeat(64);
/** The plan for a push of `myapp:<tag>` whose digest the registry confirmed. */
const toTag = (tag: string) => (w: Workload): Plan => ({
  verdicts: w.containers.filter((c) => c.repository === "docker.io/library/myapp").map(
    (c): Verdict => {
      const base = { container: c, policy: w.policyLabel };
      const rules = rulesOf(w).rules.get(c.name);
      if (!rules) return { ...base, reason: "invalid-policy" };
      const f = { rules, image: c.image, ref: c.ref!, pushes: [{ tag, pushedAt: 1 }] };
      const [candidate] = candidatesFor(f);
      if (!candidate) return { ...base, reason: judgeTag(rules, currentTag(c.ref!), tag) };
      const settled = settle(f, candidate, { digest: DIGEST });
      return { ...base, reason: settled.reason, to: settled.to };
    },
  ),
});

/** Seed a workload and read it back as the cache would. */
function seed(c: FakeCluster, spec: Partial<WorkloadSpec> = {}): Workload {
  const obj = c.fake.put(deployment({
    name: "web",
    policy: "patch",
    containers: [{ name: "app", image: "myapp:1.2.3" }],
    ...spec,
  }));
  return readWorkload(kindNamed(spec.kind ?? "Deployment")!, obj as KubeObject);
}

const patches = (c: FakeCluster) => c.fake.requests.filter((r) => r.method === "PATCH");

async function withCluster(fn: (c: FakeCluster) => Promise<void>): Promise<void> {
  const c = await startFakeCluster();
  try {
    await fn(c);
  } finally {
    await c.stop();
  }
}

Deno.test("apply patches each kind at its pod spec and reports it", async () => {
  for (const kind of ["Deployment", "StatefulSet", "DaemonSet", "CronJob"] as const) {
    await withCluster(async (c) => {
      const reports: RolloutReport[] = [];
      const rollout = new Rollout({ client: c.client, onReport: (r) => reports.push(r) });
      const w = seed(c, {
        kind,
        containers: [{ name: "side", image: "nginx:1" }, { name: "app", image: "myapp:1.2.3" }],
      });
      assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "applied", kind);
      const stored = c.fake.get(
        kind === "CronJob" ? "batch/v1" : "apps/v1",
        kind,
        "default",
        "web",
      );
      assert.deepEqual(imagesOf(stored), ["side=nginx:1", "app=myapp:1.2.4"], kind);
      const [patch] = patches(c);
      assert.equal(patch.contentType, "application/json-patch+json");
      const pod = kind === "CronJob"
        ? "/spec/jobTemplate/spec/template/spec"
        : "/spec/template/spec";
      assert.deepEqual((patch.body as { path: string }[]).map((o) => o.path), [
        "/metadata/labels/argoos.io~1policy",
        `${pod}/containers/1/name`,
        `${pod}/containers/1/image`,
        `${pod}/containers/1/image`,
      ]);
      assert.equal(reports.length, 1);
      const [{ workload, outcome, source, policy, changes }] = reports;
      assert.deepEqual(
        [
          workload.name,
          outcome,
          source,
          policy,
          changes.map((ch) => `${ch.container.name}>${ch.to}`),
        ],
        ["web", "applied", "webhook", "patch", ["app>myapp:1.2.4"]],
      );
    });
  }
});

Deno.test("apply: several matching containers change in one patch", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const w = seed(c, {
      policy: "minor",
      initContainers: [{ name: "migrate", image: "myapp:1.2.0" }],
      containers: [{ name: "app", image: "myapp:1.2.3" }],
    });
    assert.equal(await rollout.apply(w, toTag("1.3.0")(w), "webhook"), "applied");
    assert.equal(patches(c).length, 1);
    assert.deepEqual(imagesOf(c.fake.get("apps/v1", "Deployment", "default", "web")), [
      "migrate=myapp:1.3.0",
      "app=myapp:1.3.0",
    ]);
  });
});

Deno.test("apply: nothing to change patches nothing", async () => {
  await withCluster(async (c) => {
    const reports: RolloutReport[] = [];
    const rollout = new Rollout({ client: c.client, onReport: (r) => reports.push(r) });
    const w = seed(c);
    for (const tag of ["1.2.3", "1.3.0", "1.2.2", "latest"]) {
      assert.equal(await rollout.apply(w, toTag(tag)(w), "webhook"), "unchanged", tag);
    }
    assert.equal(patches(c).length, 0);
    assert.equal(reports.length, 0);
  });
});

Deno.test("apply: only Argoos's annotations are kept in memory, the others survive its writes", async () => {
  const applied = JSON.stringify({ kind: "Deployment", spec: { replicas: 3 } }).repeat(50);
  for (
    const annotations of [
      undefined,
      { "kubectl.kubernetes.io/last-applied-configuration": applied },
      { "kubectl.kubernetes.io/last-applied-configuration": applied, "argoos.io/state": "{}" },
    ] as (Record<string, string> | undefined)[]
  ) {
    await withCluster(async (c) => {
      const w = seed(c, { annotations });
      assert.deepEqual(
        w.annotations,
        annotations?.["argoos.io/state"] ? { "argoos.io/state": "{}" } : {},
      );
      assert.equal(w.hasAnnotations, annotations !== undefined);
      const rollout = new Rollout({ client: c.client });
      const plan = (x: Workload) => ({
        ...toTag("1.2.4")(x),
        annotations: { "argoos.io/state": '{"app":{}}' },
      });
      assert.equal(await rollout.apply(w, plan(w), "webhook"), "applied");
      const stored = c.fake.get("apps/v1", "Deployment", "default", "web") as KubeObject;
      assert.deepEqual(stored.metadata?.annotations, {
        ...annotations,
        "argoos.io/state": '{"app":{}}',
      });
    });
  }
});

Deno.test("apply in dry-run decides, reports and patches nothing", async () => {
  await withCluster(async (c) => {
    const reports: RolloutReport[] = [];
    const log = capture();
    const rollout = new Rollout({
      client: c.client,
      dryRun: true,
      logger: log.logger,
      onReport: (r) => reports.push(r),
    });
    const w = seed(c);
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "poll"), "dry-run");
    assert.equal(patches(c).length, 0);
    assert.deepEqual(reports.map((r) => [r.outcome, r.source]), [["dry-run", "poll"]]);
    const decision = log.records().find((r) => r.msg === "decision");
    assert.deepEqual(
      [decision?.from, decision?.to, decision?.reason],
      ["myapp:1.2.3", "myapp:1.2.4", "update"],
    );
  });
});

Deno.test("apply: a workload deleted meanwhile is gone", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const w = seed(c);
    c.fake.remove("apps/v1", "Deployment", "default", "web");
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "gone");
  });
});

Deno.test("apply: deleted between a conflict and the re-read is gone", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const w = seed(c);
    c.fake.fail({ method: "PATCH", status: 409, reason: "Conflict" });
    c.fake.fail({ method: "GET", status: 404, reason: "NotFound" });
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "gone");
  });
});

Deno.test("apply: a conflict is re-read into the cache and answered guard-failed, once", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const w = seed(c);
    c.fake.fail({ method: "PATCH", status: 409, reason: "Conflict" });
    // The writer never decides again: the reconcile does, from the workload read back.
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "guard-failed");
    assert.equal(patches(c).length, 1);
    assert.equal(c.fake.requests.filter((r) => r.method === "GET").length, 1);
    // The conflict is over: the next write applies.
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "applied");
  });
});

Deno.test("apply: a failed test op (image changed by someone) writes nothing more", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const stale = seed(c);
    seed(c, { containers: [{ name: "app", image: "myapp:1.2.5" }] });
    assert.equal(await rollout.apply(stale, toTag("1.2.4")(stale), "webhook"), "guard-failed");
    assert.equal(patches(c).length, 1);
    assert.deepEqual(imagesOf(c.fake.get("apps/v1", "Deployment", "default", "web")), [
      "app=myapp:1.2.5",
    ]);
  });
});

Deno.test("apply: 5xx and unreachable API servers are transient", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const w = seed(c);
    c.fake.fail({ method: "PATCH", status: 503 });
    await assert.rejects(rollout.apply(w, toTag("1.2.4")(w), "webhook"), TransientRolloutError);
    c.fake.fail({ method: "PATCH", status: 409 });
    c.fake.fail({ method: "GET", status: 500 });
    await assert.rejects(rollout.apply(w, toTag("1.2.4")(w), "webhook"), /re-reading/);
  });
  const c = await startFakeCluster();
  await c.stop();
  const w = readWorkload(
    kindNamed("Deployment")!,
    deployment({
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: "myapp:1.2.3" }],
    }) as KubeObject,
  );
  await assert.rejects(
    new Rollout({ client: c.client }).apply(w, toTag("1.2.4")(w), "webhook"),
    TransientRolloutError,
  );
});

Deno.test("apply: a 422 with the images unchanged is refused, reported and logged", async () => {
  await withCluster(async (c) => {
    const reports: RolloutReport[] = [];
    const log = capture();
    const rollout = new Rollout({
      client: c.client,
      logger: log.logger,
      onReport: (r) => reports.push(r),
    });
    c.fake.fail({ method: "PATCH", status: 422, reason: "Invalid", message: "denied by policy" });
    const w = seed(c);
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "refused");
    assert.equal(reports.length, 1);
    assert.equal(reports[0].outcome, "refused");
    assert.match(reports[0].error ?? "", /denied by policy/);
    const line = log.records().find((r) => r.msg === "rollout refused by the API server");
    assert.deepEqual([line?.workload, line?.status], ["Deployment default/web", 422]);
  });
});

Deno.test("apply: 401 and an RBAC 403 are retried; admission denials and other 4xx refused", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const w = seed(c);
    const deployments = findByKind("apps/v1", "Deployment")!;
    const rbac = rbacForbidden(deployments, "web", "default", "system:serviceaccount:a:b", "patch");
    for (const fault of [{ status: 401 }, { error: rbac }]) {
      c.fake.fail({ method: "PATCH", ...fault });
      await assert.rejects(rollout.apply(w, toTag("1.2.4")(w), "webhook"), TransientRolloutError);
    }
    c.fake.fail({ method: "PATCH", status: 400, reason: "BadRequest" });
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "refused");
    // An admission webhook's denial (its own Status, no resource named) and a
    // ValidatingAdmissionPolicy's (403 with one cause) are refusals, whatever their message.
    c.fake.fail({
      method: "PATCH",
      error: webhookDenied("validate.kyverno.svc", { code: 403, message: "image not allowed" }),
    });
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "refused");
    c.fake.fail({
      method: "PATCH",
      error: admissionPolicyDenied(
        deployments,
        "web",
        "signed",
        "signed-b",
        "unsigned",
        "Forbidden",
      ),
    });
    assert.equal(await rollout.apply(w, toTag("1.2.4")(w), "webhook"), "refused");
    assert.equal(patches(c).length, 5);
  });
});

Deno.test("apply: a workload that opted out since it was read is left alone", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const stale = seed(c);
    const obj = c.fake.get("apps/v1", "Deployment", "default", "web")!;
    delete (obj.metadata as { labels: Record<string, string> }).labels["argoos.io/policy"];
    c.fake.put(obj);
    // The label test fails (422), the re-read shows no label: nothing is written.
    assert.equal(await rollout.apply(stale, toTag("1.2.4")(stale), "webhook"), "guard-failed");
    assert.equal(patches(c).length, 1);
    assert.deepEqual(imagesOf(c.fake.get("apps/v1", "Deployment", "default", "web")), [
      "app=myapp:1.2.3",
    ]);
  });
});

Deno.test("apply: a policy narrowed since it was read fails the label test, nothing written", async () => {
  await withCluster(async (c) => {
    const rollout = new Rollout({ client: c.client });
    const stale = seed(c, { policy: "major" });
    seed(c, { policy: "patch" });
    // The stale `major` says 2.0.0; the label test fails: the reconcile decides again.
    assert.equal(await rollout.apply(stale, toTag("2.0.0")(stale), "webhook"), "guard-failed");
    assert.equal(patches(c).length, 1);
    assert.deepEqual(imagesOf(c.fake.get("apps/v1", "Deployment", "default", "web")), [
      "app=myapp:1.2.3",
    ]);
  });
});

Deno.test("apply: a standing refusal is logged at info once, then at debug", async () => {
  await withCluster(async (c) => {
    const log = capture();
    const rollout = new Rollout({ client: c.client, logger: log.logger });
    const w = seed(c, { policy: "bogus" });
    for (let i = 0; i < 3; i++) await rollout.apply(w, toTag("1.2.4")(w), "webhook");
    const levels = log.records().filter((r) => r.msg === "decision").map((r) => r.level);
    assert.deepEqual(levels, ["info", "debug", "debug"]);
  });
});
