/**
 * Health-gated rollouts through the whole service (webhook -> reconcile -> guarded patch ->
 * followed through the work queue -> revert), against the fake API server's rollout
 * simulation and the stub registry: each kind, each failure signal, a human edit, a restart,
 * two replicas, and rejected digests under redelivery and poll.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  decodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";
import { CRONJOBS, DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { fakeDigest } from "../../bench/stub_registry.ts";
import type { HealthKind } from "../../lib/health/judge.ts";
import type {
  Behaviour,
  RolloutSimOptions,
  RolloutSimulator,
} from "../fake_apiserver/rollout_sim.ts";
import { clientFor, launchArgoos, type Service, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";

const REG = "127.0.0.1:5000";
/** Argoos looks at a rollout in progress this often in these tests. */
const RECHECK = ["--health-recheck", "50ms"];

// deno-lint-ignore no-explicit-any
type Obj = any;

const apiVersion = (kind: HealthKind) => kind === "CronJob" ? "batch/v1" : "apps/v1";
const get = (svc: Pick<Service, "fake">, kind: HealthKind = "Deployment"): Obj =>
  svc.fake.get(apiVersion(kind), kind, "default", "web");
const imageOf = (svc: Pick<Service, "fake">, kind: HealthKind = "Deployment") =>
  imagesOf(get(svc, kind))[0];
const reasons = (svc: Pick<Service, "fake">) =>
  svc.fake.list("v1", "Event").map((e) => e.reason as string).filter((r) =>
    ["RolloutSucceeded", "RolloutFailed", "Reverted"].includes(r)
  ).sort();
const annotation = (svc: Pick<Service, "fake">, key: string, kind: HealthKind = "Deployment") =>
  get(svc, kind)?.metadata.annotations?.[key] as string | undefined;

/** The labelled workload `web` of `kind` running `REG/app:1.0.0`, 2 replicas where it counts. */
function web(kind: HealthKind, policy = "patch", annotations?: Record<string, string>): Obj {
  const obj: Obj = deployment({
    kind,
    name: "web",
    policy,
    containers: [{ name: "app", image: `${REG}/app:1.0.0` }],
    annotations,
  });
  if (kind === "Deployment" || kind === "StatefulSet") obj.spec.replicas = 2;
  return obj;
}

/** Start the service on a simulated cluster; `knobs` say what each image does. */
async function serve(
  obj: Obj,
  knobs: Record<string, Behaviour>,
  args: string[] = [],
  simulation: RolloutSimOptions = {},
): Promise<
  Service & { sim: RolloutSimulator; push: (tag: string, digest?: string) => Promise<void> }
> {
  let sim: RolloutSimulator | undefined;
  const svc = await startService({
    args: [...RECHECK, ...args],
    seed: (cluster, registry) => {
      // Pods of the image running before report the digest the registry has for it.
      const digest = registry.push("app", "1.0.0");
      sim = cluster.fake.simulateRollouts({ ...simulation, images: knobs });
      sim.image(`${REG}/app:1.0.0`, { behaviour: "succeed", digest });
      cluster.fake.put(obj);
    },
  });
  await svc.argoos.cache.synced;
  const push = async (tag: string, digest?: string) => {
    const d = svc.registry.push("app", tag, digest);
    const res = await svc.post(pushEnvelope({ host: REG, repository: "app", tag, digest: d }));
    assert.equal(res.status, 200, res.text);
  };
  return Object.assign(svc, { sim: sim!, push });
}

/** Wait until the rollout record is gone (the rollout was judged) and Events are written. */
async function settled(svc: Service, kind: HealthKind, events: string[]) {
  await waitFor(() => annotation(svc, ROLLOUT_ANNOTATION, kind) === undefined, "rollout judged");
  await waitFor(() => reasons(svc).join() === [...events].sort().join(), `events ${events}`);
}

const GOOD = `${REG}/app:1.0.1`;

for (const kind of ["Deployment", "StatefulSet", "DaemonSet"] as const) {
  Deno.test(`${kind}: a good image is rolled out, followed to complete, RolloutSucceeded`, async () => {
    const svc = await serve(web(kind), {});
    try {
      await svc.push("1.0.1");
      assert.equal(imageOf(svc, kind), `app=${GOOD}`);
      assert.ok(
        annotation(svc, ROLLOUT_ANNOTATION, kind),
        "the rollout's own patch wrote its record",
      );
      await settled(svc, kind, ["RolloutSucceeded"]);
      assert.equal(imageOf(svc, kind), `app=${GOOD}`);
      assert.equal(svc.argoos.metrics.rolloutsCompleted.value({ outcome: "succeeded" }), 1);
      assert.equal(svc.argoos.metrics.reverts.value(), 0);
    } finally {
      await svc.stop();
    }
  });

  for (const signal of ["crash-loop", "pull-error"] as const) {
    Deno.test(`${kind}: ${signal} on the new pods is reverted, the digest rejected`, async () => {
      const svc = await serve(web(kind), { [GOOD]: signal });
      try {
        await svc.push("1.0.1");
        await settled(svc, kind, ["Reverted", "RolloutFailed"]);
        assert.equal(imageOf(svc, kind), `app=${REG}/app:1.0.0`);
        const rejected = decodeRejected(annotation(svc, REJECTED_ANNOTATION, kind)).value;
        assert.deepEqual(rejected.map((r) => [r.repository, r.digest, r.tag, r.reason]), [
          [`${REG}/app`, svc.registry.digestOf("app", "1.0.1"), "1.0.1", signal],
        ]);
        assert.equal(svc.argoos.metrics.reverts.value(), 1);
        assert.equal(svc.argoos.metrics.rolloutsCompleted.value({ outcome: "failed" }), 1);
        const line = svc.log.records().find((r) => r.msg === "rollout failed, reverted");
        assert.equal(line?.reason, signal);
      } finally {
        await svc.stop();
      }
    });
  }
}

Deno.test("Deployment: a rollout that stalls past argoos.io/health-timeout is reverted (deadline)", async () => {
  const svc = await serve(web("Deployment", "patch", { "argoos.io/health-timeout": "300ms" }), {
    [GOOD]: "stall",
  });
  try {
    await svc.push("1.0.1");
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    assert.equal(imageOf(svc), `app=${REG}/app:1.0.0`);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value;
    assert.equal(rejected.reason, "deadline");
  } finally {
    await svc.stop();
  }
});

Deno.test("Deployment: the controller's ProgressDeadlineExceeded is a failure", async () => {
  const obj = web("Deployment");
  obj.spec.progressDeadlineSeconds = 1;
  // A long Argoos timeout: the controller's condition decides, not Argoos's own deadline.
  obj.metadata.annotations = { "argoos.io/health-timeout": "1m" };
  const svc = await serve(obj, { [GOOD]: "stall" });
  try {
    await svc.push("1.0.1");
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value;
    assert.equal(rejected.reason, "progress-deadline");
  } finally {
    await svc.stop();
  }
});

// One more ready Pod every 400 ms: four take longer than the deadline in all, each one progress.
for (
  const [kind, deadline] of [
    ["Deployment", "progressDeadlineSeconds"],
    ["StatefulSet", "argoos.io/progress-deadline"],
  ] as const
) {
  Deno.test(`${kind}: progressing slowly for longer than its ${deadline} succeeds`, async () => {
    // A Deployment ignores the annotation (warned): its controller's deadline decides.
    const obj = web(kind, "patch", { "argoos.io/progress-deadline": "1s" });
    obj.spec.replicas = 4;
    if (kind === "Deployment") obj.spec.progressDeadlineSeconds = 1;
    const svc = await serve(obj, {}, [], { readyEveryMs: 400 });
    try {
      const started = Date.now();
      await svc.push("1.0.1");
      await settled(svc, kind, ["RolloutSucceeded"]);
      assert.ok(Date.now() - started > 1000, "longer than the progress deadline in all");
      assert.equal(imageOf(svc, kind), `app=${GOOD}`);
      assert.equal(annotation(svc, REJECTED_ANNOTATION, kind), undefined, "digest not rejected");
      assert.equal(svc.argoos.metrics.reverts.value(), 0);
      const warned = svc.log.records().filter((r) => r.msg === "progress deadline not used");
      assert.equal(warned.length, kind === "Deployment" ? 1 : 0, "told once, over many looks");
    } finally {
      await svc.stop();
    }
  });
}

Deno.test("Deployment: one that stops progressing fails once the controller says so", async () => {
  const obj = web("Deployment");
  obj.spec.replicas = 3;
  obj.spec.progressDeadlineSeconds = 1;
  const svc = await serve(obj, {}, [], { readyEveryMs: 300 });
  try {
    await svc.push("1.0.1");
    // A first new Pod becomes ready; then the image stalls for the others.
    await waitFor(() => (get(svc).status?.availableReplicas ?? 0) > 2, "one new Pod ready");
    svc.sim.image(GOOD, "stall");
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    assert.equal(imageOf(svc), `app=${REG}/app:1.0.0`);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value;
    assert.equal(rejected.reason, "progress-deadline");
    const line = svc.log.records().find((r) => r.msg === "rollout failed, reverted");
    assert.match(String(line?.detail), /timed out progressing/, "the controller's verdict");
  } finally {
    await svc.stop();
  }
});

Deno.test("StatefulSet: counts standing still for the progress deadline fail it", async () => {
  const obj = web("StatefulSet", "patch", { "argoos.io/progress-deadline": "500ms" });
  const svc = await serve(obj, { [GOOD]: "stall" });
  try {
    await svc.push("1.0.1");
    await settled(svc, "StatefulSet", ["Reverted", "RolloutFailed"]);
    assert.equal(imageOf(svc, "StatefulSet"), `app=${REG}/app:1.0.0`);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION, "StatefulSet")).value;
    assert.equal(rejected.reason, "progress-deadline");
  } finally {
    await svc.stop();
  }
});

/** Requests for Jobs: by name (a GET of one) or a LIST of them. */
const jobReads = (svc: Service) =>
  svc.fake.requests.filter((r) => r.path.includes("/jobs")).map((r) =>
    r.path.endsWith("/jobs") ? "list" : "get"
  );

Deno.test("CronJob: never judged while suspended; judged once resumed", async () => {
  const obj = web("CronJob");
  obj.spec.suspend = true;
  const svc = await serve(obj, { [GOOD]: "job-fail" });
  try {
    await svc.push("1.0.1");
    assert.equal(imageOf(svc, "CronJob"), `app=${GOOD}`);
    // A failed Job of the new template exists; still, nothing is judged, nothing read.
    svc.sim.triggerCronJob("default", "web");
    await svc.sim.idle();
    const looks = () =>
      svc.fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/cronjobs/web"))
        .length;
    const seen = looks();
    await waitFor(() => looks() >= seen + 3, "looked at while suspended");
    assert.ok(annotation(svc, ROLLOUT_ANNOTATION, "CronJob"), "still followed");
    assert.deepEqual(jobReads(svc), []);
    assert.deepEqual(reasons(svc), []);
    await svc.client.patch(
      CRONJOBS,
      "default",
      "web",
      { spec: { suspend: false } },
      "merge",
    );
    await settled(svc, "CronJob", ["Reverted", "RolloutFailed"]);
    assert.equal(imageOf(svc, "CronJob"), `app=${REG}/app:1.0.0`);
  } finally {
    await svc.stop();
  }
});

for (
  const [behaviour, events] of [["succeed", ["RolloutSucceeded"]], ["job-fail", [
    "Reverted",
    "RolloutFailed",
  ]]] as const
) {
  Deno.test(`CronJob: judged by its next Job (${behaviour})`, async () => {
    const svc = await serve(web("CronJob"), { [GOOD]: behaviour });
    try {
      await svc.push("1.0.1");
      assert.equal(imageOf(svc, "CronJob"), `app=${GOOD}`);
      // Looked at several times with no Job yet: still in progress, no deadline.
      await waitFor(
        () =>
          svc.fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/cronjobs/web"))
            .length >= 2,
        "looked at twice",
      );
      assert.ok(annotation(svc, ROLLOUT_ANNOTATION, "CronJob"));
      // Five more looks write no log line, and read Jobs by name only.
      const lines = svc.log.records().filter((r) => r.level !== "debug").length;
      const looks = () => svc.fake.requests.filter((r) => r.path.endsWith("/cronjobs/web")).length;
      const seen = looks();
      await waitFor(() => looks() >= seen + 5, "five more looks");
      assert.equal(svc.log.records().filter((r) => r.level !== "debug").length, lines);
      svc.sim.triggerCronJob("default", "web");
      await settled(svc, "CronJob", [...events]);
      const want = behaviour === "succeed" ? GOOD : `${REG}/app:1.0.0`;
      assert.equal(imageOf(svc, "CronJob"), `app=${want}`);
      assert.ok(!jobReads(svc).includes("list"), "no LIST of Jobs");
      assert.ok(jobReads(svc).length > 0);
    } finally {
      await svc.stop();
    }
  });
}

const BAD = fakeDigest(0xbad);
const FIXED = fakeDigest(0xf1);
const PINNED_BAD = `${REG}/app:2.0.0@${BAD}`;
/** Rejected-digest skips logged after the `mark`-th log line. */
const skipsAfter = (svc: Service, mark: number) =>
  svc.log.records().slice(mark).filter((r) => r.msg === "digest rejected on this workload, skipped")
    .length;

Deno.test("a rejected digest: a redelivery and a poll both skip it; a new digest of the tag is tried", async () => {
  const svc = await serve(web("Deployment", "all"), { [PINNED_BAD]: "crash-loop" }, [
    "--poll-interval",
    "1h",
  ]);
  try {
    const delivery = () =>
      svc.post(pushEnvelope({ host: REG, repository: "app", tag: "2.0.0", digest: BAD }));
    svc.registry.push("app", "2.0.0", BAD);
    assert.equal((await delivery()).status, 200);
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    assert.equal(imageOf(svc), `app=${REG}/app:1.0.0`);

    // The reconcile that reverted decided again at once: the digest is skipped.
    await waitFor(() => skipsAfter(svc, 0) > 0 && svc.argoos.queue.length === 0, "settled");

    // The registry delivers the same push again: answered, nothing written.
    let mark = svc.log.records().length;
    const again = await delivery();
    assert.equal(again.status, 200, again.text);
    assert.equal(JSON.parse(again.text).applied, 0);
    assert.ok(skipsAfter(svc, mark) > 0, "the redelivery found the digest rejected");
    // The poll lists 2.0.0 (still the bad digest): skipped too.
    mark = svc.log.records().length;
    await svc.argoos.poller!.cycle(Date.now() + 3_600_000); // the next tick, an hour on
    await waitFor(() => skipsAfter(svc, mark) > 0, "the poll found the digest rejected");
    assert.equal(imageOf(svc), `app=${REG}/app:1.0.0`);
    const rolledOut = (image: string) =>
      svc.log.records().filter((r) =>
        r.msg === "rolled out" && (r.changes as { to: string }[]).some((c) => c.to === image)
      ).length;
    assert.equal(rolledOut(PINNED_BAD), 1, "the bad digest was rolled out once, by the push");

    // A fixed image pushed under the same tag is a new digest: tried, and it succeeds.
    svc.registry.push("app", "2.0.0", FIXED);
    const fixed = await svc.post(
      pushEnvelope({ host: REG, repository: "app", tag: "2.0.0", digest: FIXED }),
    );
    assert.equal(fixed.status, 200, fixed.text);
    assert.equal(imageOf(svc), `app=${REG}/app:2.0.0@${FIXED}`);
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed", "RolloutSucceeded"]);
    assert.equal(imageOf(svc), `app=${REG}/app:2.0.0@${FIXED}`);
  } finally {
    await svc.stop();
  }
});

Deno.test("a human edit while Argoos follows a rollout: kept, not reverted, no longer followed", async () => {
  const svc = await serve(web("Deployment", "patch", { "argoos.io/health-timeout": "1s" }), {
    [GOOD]: "stall",
  });
  try {
    await svc.push("1.0.1");
    assert.equal(imageOf(svc), `app=${GOOD}`);
    await svc.client.patch(
      DEPLOYMENTS,
      "default",
      "web",
      [{
        op: "replace",
        path: "/spec/template/spec/containers/0/image",
        value: `${REG}/app:1.0.2`,
      }],
      "json",
    );
    await waitFor(() => annotation(svc, ROLLOUT_ANNOTATION) === undefined, "record dropped");
    // A person's change: what Argoos wrote is rejected here, the change kept.
    const line = svc.log.records().find((r) =>
      r.msg === "human change kept: what Argoos wrote is rejected here"
    );
    assert.deepEqual([line?.wrote, line?.now], [GOOD, `${REG}/app:1.0.2`]);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value;
    assert.deepEqual([rejected.digest, rejected.reason], [
      svc.registry.digestOf("app", "1.0.1"),
      "manual",
    ]);
    assert.equal(imageOf(svc), `app=${REG}/app:1.0.2`);
    assert.deepEqual(reasons(svc), []);
    assert.equal(svc.argoos.metrics.reverts.value(), 0);
  } finally {
    await svc.stop();
  }
});

Deno.test("a restart of Argoos mid-rollout: the new process carries on and reverts", async () => {
  const svc = await serve(web("Deployment", "patch", { "argoos.io/health-timeout": "1s" }), {
    [GOOD]: "stall",
  });
  let second: Awaited<ReturnType<typeof launchArgoos>> | undefined;
  try {
    await svc.push("1.0.1");
    assert.ok(annotation(svc, ROLLOUT_ANNOTATION), "in progress when Argoos stops");
    await svc.argoos.stop();
    second = await launchArgoos(
      svc.client,
      ["serve", "--poll-interval", "0", ...RECHECK],
      {},
      clientFor(svc.registry),
    );
    await waitFor(
      () => imageOf(svc) === `app=${REG}/app:1.0.0`,
      "reverted by the new process",
      10_000,
    );
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    assert.equal(second.argoos.metrics.reverts.value(), 1);
    assert.equal(svc.argoos.metrics.reverts.value(), 0);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value;
    assert.equal(
      rejected.digest,
      svc.registry.digestOf("app", "1.0.1"),
      "the push came from the record",
    );
  } finally {
    await second?.argoos.stop();
    await svc.stop();
  }
});

Deno.test("two replicas follow the same rollout: reverted once", async () => {
  const svc = await serve(web("Deployment"), { [GOOD]: "crash-loop" });
  const other = await launchArgoos(
    svc.client,
    ["serve", "--poll-interval", "0", ...RECHECK],
    {},
    clientFor(svc.registry),
  );
  try {
    await other.argoos.cache.synced;
    await svc.push("1.0.1");
    await settled(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    // Both keep looking until neither has anything to follow.
    await waitFor(
      () => other.argoos.queue.length === 0 && svc.argoos.queue.length === 0,
      "queues drained",
    );
    assert.equal(svc.argoos.metrics.reverts.value() + other.argoos.metrics.reverts.value(), 1);
    assert.deepEqual(reasons(svc), ["Reverted", "RolloutFailed"]);
    const reverts = svc.fake.requests.filter((r) =>
      r.method === "PATCH" &&
      (r.body as { op: string; value?: unknown }[]).some((o) =>
        o.op === "replace" && o.value === `${REG}/app:1.0.0`
      )
    );
    assert.ok(reverts.length >= 1);
    assert.equal(imageOf(svc), `app=${REG}/app:1.0.0`);
  } finally {
    await other.argoos.stop();
    await svc.stop();
  }
});

for (
  const [what, args, annotations] of [
    ["--no-revert", ["--no-revert"], undefined],
    ['argoos.io/revert: "false"', [], { "argoos.io/revert": "false" }],
  ] as const
) {
  Deno.test(`${what}: a failed rollout is reported, not reverted`, async () => {
    const svc = await serve(web("Deployment", "patch", annotations), { [GOOD]: "crash-loop" }, [
      ...args,
    ]);
    try {
      await svc.push("1.0.1");
      await settled(svc, "Deployment", ["RolloutFailed"]);
      assert.equal(imageOf(svc), `app=${GOOD}`);
      assert.equal(svc.argoos.metrics.reverts.value(), 0);
      assert.equal(svc.argoos.metrics.rolloutsCompleted.value({ outcome: "failed" }), 1);
      assert.ok(svc.log.records().some((r) => r.msg === "rollout failed, not reverted"));
    } finally {
      await svc.stop();
    }
  });
}

Deno.test("--dry-run: reports what it would revert, writes nothing", async () => {
  // A replica that is not dry-running rolled out the bad image; this one only looks.
  const obj = web("Deployment");
  obj.spec.template.spec.containers[0].image = GOOD;
  obj.metadata.annotations = {
    [ROLLOUT_ANNOTATION]: encodeRollout({
      containers: [{
        section: "containers",
        index: 0,
        name: "app",
        from: `${REG}/app:1.0.0`,
        to: GOOD,
      }],
      push: { repository: `${REG}/app`, tag: "1.0.1", pushedAt: Date.now() },
      startedAt: Date.now(),
      deadline: Date.now() + 60_000,
    }),
  };
  const svc = await serve(obj, { [GOOD]: "crash-loop" }, ["--dry-run"]);
  try {
    const line = await waitFor(
      () => svc.log.records().find((r) => r.msg === "rollout failed; dry run, would revert"),
      "dry-run report",
    );
    assert.equal(line?.reason, "crash-loop");
    assert.equal(svc.fake.requests.filter((r) => r.method === "PATCH").length, 0);
    assert.equal(imageOf(svc), `app=${GOOD}`);
    assert.ok(annotation(svc, ROLLOUT_ANNOTATION));
  } finally {
    await svc.stop();
  }
});
