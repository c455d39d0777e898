/**
 * People decide last, through the whole service against the fake API server's rollout
 * simulation (issue 15): a human rollback during and after a rollout sticks through
 * redeliveries and poll cycles and a newer push is then applied; `kubectl rollout undo`; a hold
 * set during a rollout, then released or run out; a hold set while a reconcile is under way; a revert refused by admission backs off; a
 * revert of a moved tag pins what ran; two repositories in one rollout, one failing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeDigest } from "../../bench/stub_registry.ts";
import {
  decodeRejected,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { HOLD_ANNOTATION } from "../../lib/policy/hold.ts";
import type { Behaviour, RolloutSimulator } from "../fake_apiserver/rollout_sim.ts";
import { webhookDenied } from "../fake_apiserver/status.ts";
import { pushEnvelope } from "../service/push_envelope.ts";
import { type RegistryAnswer, type Service, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { rolloutUndo } from "../support/rollout_undo.ts";

const REG = "127.0.0.1:5000";

// deno-lint-ignore no-explicit-any
type Obj = any;

type Sim = Service & {
  sim: RolloutSimulator;
  /** Push `repo:tag` to the registry and deliver it; the delivery's answer. */
  push: (tag: string, opts?: { repo?: string; digest?: string }) => Promise<Obj>;
  /** Deliver a push already in the registry again, as a registry retrying does. */
  redeliver: (tag: string, repo?: string) => Promise<Obj>;
};

const get = (svc: Service): Obj => svc.fake.get("apps/v1", "Deployment", "default", "web");
const images = (svc: Service) => imagesOf(get(svc));
const annotation = (svc: Service, key: string) =>
  get(svc)?.metadata.annotations?.[key] as string | undefined;
const rejected = (svc: Service) =>
  decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value.map((r) =>
    `${r.repository.slice(REG.length + 1)}@${r.digest}:${r.reason}`
  );
const events = (svc: Service, reason: string): Obj[] =>
  svc.fake.list("v1", "Event").filter((e) => e.reason === reason);
/**
 * `kubectl set image deployment/web <container>=<image>`, with the managedFields entry the API
 * server records for it (the fake keeps what it is given).
 */
const setImage = (svc: Service, image: string, index = 0) =>
  svc.client.patch(DEPLOYMENTS, "default", "web", [{
    op: "replace",
    path: `/spec/template/spec/containers/${index}/image`,
    value: image,
  }, {
    op: "add",
    path: "/metadata/managedFields",
    value: [{
      manager: "kubectl-set",
      operation: "Update",
      apiVersion: "apps/v1",
      time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { "f:template": { "f:spec": { "f:containers": {} } } } },
    }],
  }], "json");
const annotate = (svc: Service, key: string, value: string | null) =>
  svc.client.patch(DEPLOYMENTS, "default", "web", {
    metadata: { annotations: { [key]: value } },
  }, "merge");

/**
 * The service on a simulated cluster with `web` (2 replicas) running `REG/<repo>:1.0.0` for
 * each repository in `repos` (one container each, named after it), policy `policy`.
 */
async function serve(opts: {
  knobs?: Record<string, Behaviour>;
  policy?: string;
  repos?: string[];
  image?: (repo: string) => string;
  annotations?: Record<string, string>;
  args?: string[];
  backoff?: { baseDelayMs: number; maxDelayMs: number };
  answer?: RegistryAnswer;
}): Promise<Sim> {
  const repos = opts.repos ?? ["app"];
  const image = opts.image ?? ((repo) => `${REG}/${repo}:1.0.0`);
  let sim: RolloutSimulator | undefined;
  const svc = await startService({
    args: ["--health-recheck", "50ms", ...(opts.args ?? [])],
    backoff: opts.backoff,
    answer: opts.answer,
    seed: (cluster, registry) => {
      sim = cluster.fake.simulateRollouts({ images: opts.knobs ?? {} });
      for (const repo of repos) {
        const tag = image(repo).split(":").at(-1)!;
        // The pods of what runs report the digest the registry has for it.
        sim.image(image(repo), { behaviour: "succeed", digest: registry.push(repo, tag) });
      }
      const obj: Obj = deployment({
        name: "web",
        policy: opts.policy ?? "patch",
        containers: repos.map((repo) => ({ name: repo, image: image(repo) })),
        annotations: opts.annotations,
      });
      obj.spec.replicas = 2;
      cluster.fake.put(obj);
    },
  });
  await svc.argoos.cache.synced;
  const deliver = async (...pushes: { tag: string; repo: string; digest: string }[]) => {
    const res = await svc.post(pushEnvelope(
      ...pushes.map((p) => ({ host: REG, repository: p.repo, tag: p.tag, digest: p.digest })),
    ));
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text);
  };
  return Object.assign(svc, {
    sim: sim!,
    push: (tag: string, o: { repo?: string; digest?: string } = {}) => {
      const repo = o.repo ?? "app";
      return deliver({ tag, repo, digest: svc.registry.push(repo, tag, o.digest) });
    },
    redeliver: (tag: string, repo = "app") =>
      deliver({ tag, repo, digest: svc.registry.digestOf(repo, tag)! }),
  });
}

/** Redeliver the push and run a poll cycle: the image stays `want`, nothing written. */
async function staysThroughRedeliveryAndPoll(svc: Sim, tag: string, want: string[]) {
  const patches = () => svc.fake.requests.filter((r) => r.method === "PATCH").length;
  const before = patches();
  for (let i = 0; i < 3; i++) {
    const answer = await svc.redeliver(tag);
    assert.equal(answer.applied, 0, "a redelivery writes nothing");
  }
  await svc.argoos.poller!.cycle(Date.now() + 3_600_000);
  await waitFor(() => svc.argoos.queue.length === 0, "the poll's reconciles");
  assert.deepEqual(images(svc), want);
  assert.equal(patches(), before, "nothing written back");
}

const POLL = ["--poll-interval", "1h"];

Deno.test("a human rollback during a rollout sticks; a newer push is then applied", async () => {
  const svc = await serve({ knobs: { [`${REG}/app:1.0.1`]: "stall" }, args: POLL });
  try {
    await svc.push("1.0.1");
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.1`]);
    assert.ok(annotation(svc, ROLLOUT_ANNOTATION), "a rollout in progress");
    await setImage(svc, `${REG}/app:1.0.0`);
    await waitFor(() => events(svc, "ManualChange").length === 1, "ManualChange");
    assert.equal(annotation(svc, ROLLOUT_ANNOTATION), undefined, "no longer followed");
    assert.deepEqual(rejected(svc), [`app@${svc.registry.digestOf("app", "1.0.1")}:manual`]);
    assert.match(
      events(svc, "ManualChange")[0].message,
      /app:1\.0\.1 → .*app:1\.0\.0 by kubectl-set;/,
    );
    await staysThroughRedeliveryAndPoll(svc, "1.0.1", [`app=${REG}/app:1.0.0`]);
    assert.equal(svc.argoos.metrics.reverts.value(), 0);

    const answer = await svc.push("1.0.2");
    assert.equal(answer.applied, 1);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.2`]);
  } finally {
    await svc.stop();
  }
});

Deno.test("a human rollback under a version policy rejects the release: a re-push of it is not applied, the next is", async () => {
  const svc = await serve({ args: POLL });
  try {
    await svc.push("1.0.1");
    await waitFor(() => events(svc, "RolloutSucceeded").length === 1, "rollout succeeded");
    await setImage(svc, `${REG}/app:1.0.0`);
    await waitFor(() => rejected(svc).length === 1, "the rollback recorded");
    await staysThroughRedeliveryAndPoll(svc, "1.0.1", [`app=${REG}/app:1.0.0`]);
    // 1.0.1 pushed again with other content: still the release the person rolled back from.
    const answer = await svc.push("1.0.1", { digest: fakeDigest(0xf1) });
    assert.equal(answer.applied, 0);
    await staysThroughRedeliveryAndPoll(svc, "1.0.1", [`app=${REG}/app:1.0.0`]);
    assert.equal((await svc.push("1.0.2")).applied, 1);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.2`]);
  } finally {
    await svc.stop();
  }
});

Deno.test("kubectl rollout undo after a rollout sticks", async () => {
  const svc = await serve({ args: POLL });
  try {
    await svc.push("1.0.1");
    await waitFor(() => events(svc, "RolloutSucceeded").length === 1, "rollout succeeded");
    assert.deepEqual(await rolloutUndo(svc.client, "default", "web"), [`app=${REG}/app:1.0.0`]);
    await waitFor(() => events(svc, "ManualChange").length === 1, "ManualChange");
    await staysThroughRedeliveryAndPoll(svc, "1.0.1", [`app=${REG}/app:1.0.0`]);
    assert.equal((await svc.push("1.0.2")).applied, 1);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.2`]);
  } finally {
    await svc.stop();
  }
});

Deno.test("a hold set during a rollout: no revert, no update, Held once; released: applied at once", async () => {
  const svc = await serve({
    knobs: { [`${REG}/app:1.0.1`]: "crash-loop" },
    annotations: { [HOLD_ANNOTATION]: "true" },
  });
  try {
    // Held from the start: a push is answered, nothing is written.
    assert.equal((await svc.push("1.0.1")).applied, 0);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.0`]);
    await annotate(svc, HOLD_ANNOTATION, null);
    await waitFor(() => annotation(svc, ROLLOUT_ANNOTATION) !== undefined, "1.0.1 rolled out");
    // Held again while 1.0.1 crash-loops: no revert while held.
    await annotate(svc, HOLD_ANNOTATION, "true");
    await svc.push("1.0.2");
    await svc.redeliver("1.0.2");
    // 1.0.1 crash-loops; a reconcile now (what a revert would come from) writes nothing.
    await waitFor(
      () =>
        svc.fake.list("v1", "Pod").some((p: Obj) =>
          p.status?.containerStatuses?.some((c: Obj) =>
            c.state?.waiting?.reason === "CrashLoopBackOff"
          )
        ),
      "1.0.1 crash-looping",
    );
    assert.deepEqual(await svc.argoos.queue.add("Deployment/default/web"), { outcome: "held" });
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.1`]);
    assert.equal(svc.argoos.metrics.reverts.value(), 0);
    // Told once per hold (the two holds read the same, so one Event counted twice), never
    // once per delivery or reconcile.
    // The recorder writes Events after the reconcile that decided: wait for the count.
    await waitFor(
      () => events(svc, "Held").map((e) => e.count).join() === "2",
      "one Held Event, counted twice",
    );

    // Released: reconciled at once, no new push: reverted, then the kept update is made.
    await annotate(svc, HOLD_ANNOTATION, null);
    await waitFor(
      () => images(svc)[0] === `app=${REG}/app:1.0.2`,
      "the update kept through the hold",
    );
    assert.equal(svc.argoos.metrics.reverts.value(), 1);
  } finally {
    await svc.stop();
  }
});

Deno.test("a hold set while a reconcile asks the registry stops its write: nothing written, held", async () => {
  let held = false;
  const svc: Sim = await serve({
    knobs: { [`${REG}/app:1.0.1`]: "stall" },
    // The registry is asked about 1.0.2 after the hold was read: a person holds meanwhile.
    answer: (url) => {
      if (!held && url.pathname.endsWith("/manifests/1.0.2")) {
        held = true;
        const obj: Obj = structuredClone(get(svc));
        obj.metadata.annotations[HOLD_ANNOTATION] = "true";
        svc.fake.put(obj);
      }
      return undefined;
    },
  });
  try {
    await svc.push("1.0.1");
    // A rollout in progress: the next write replaces annotations that exist (no absent key).
    assert.ok(annotation(svc, ROLLOUT_ANNOTATION), "a rollout in progress");
    const answer = await svc.push("1.0.2");
    assert.ok(held, "the hold was set between the decision and the write");
    assert.equal(answer.applied, 0);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.1`]);
    await waitFor(() => events(svc, "Held").length === 1, "Held");
  } finally {
    await svc.stop();
  }
});

Deno.test("a hold until a time: written nothing until then, then the kept update without a trigger", async () => {
  const svc = await serve({});
  try {
    const until = new Date(Date.now() + 1_500).toISOString();
    await annotate(svc, HOLD_ANNOTATION, until);
    await waitFor(() => events(svc, "Held").length === 1, "Held");
    assert.equal((await svc.push("1.0.1")).applied, 0);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.0`]);
    await waitFor(() => images(svc)[0] === `app=${REG}/app:1.0.1`, "applied when the hold ends");
    assert.ok(Date.now() >= Date.parse(until));
  } finally {
    await svc.stop();
  }
});

Deno.test("an invalid hold is reported (InvalidPolicy) and held all the same", async () => {
  const svc = await serve({ annotations: { [HOLD_ANNOTATION]: "next week" } });
  try {
    await waitFor(() => events(svc, "InvalidPolicy").length === 1, "InvalidPolicy");
    assert.equal((await svc.push("1.0.1")).applied, 0);
    assert.deepEqual(images(svc), [`app=${REG}/app:1.0.0`]);
  } finally {
    await svc.stop();
  }
});

Deno.test("a revert refused by admission for a while backs off: a few tries, one Event, then applied", async () => {
  // Scaled ten times down from 1 s → 5 min over a minute: the same count of tries (~7).
  const WINDOW = 6_000;
  const svc = await serve({
    knobs: { [`${REG}/app:1.0.1`]: "crash-loop" },
    backoff: { baseDelayMs: 100, maxDelayMs: 30_000 },
  });
  try {
    const from = Date.now();
    // An image scanner refuses the vulnerable image the revert would put back.
    svc.fake.fail({
      method: "PATCH",
      path: "/deployments/web",
      bodyIncludes: `${REG}/app:1.0.0`,
      error: webhookDenied("scan.example.com", { code: 403, message: "app:1.0.0 has CVEs" }),
      until: from + WINDOW,
    });
    const mark = svc.fake.requests.length;
    await svc.push("1.0.1");
    await waitFor(() => Date.now() >= from + WINDOW, "the refusal window", WINDOW + 1_000);
    const during = svc.fake.requests.slice(mark).filter((r) =>
      !r.query.has("watch") && r.at <= performance.now()
    );
    const refused = during.filter((r) =>
      r.method === "PATCH" && JSON.stringify(r.body).includes(`${REG}/app:1.0.0`)
    );
    assert.ok(refused.length >= 2 && refused.length <= 10, `${refused.length} refused reverts`);
    assert.ok(during.length < 30, `${during.length} API requests while refused`);
    const rejections = events(svc, "UpdateRejected");
    assert.equal(rejections.length, 1, "one Event");
    assert.equal(rejections[0].count, 1, "reported once per series");
    // The policy lifted: the next try (at most the back-off away) reverts.
    await waitFor(() => images(svc)[0] === `app=${REG}/app:1.0.0`, "reverted", 10_000);
  } finally {
    await svc.stop();
  }
});

Deno.test("all on app:latest: the revert pins the digest that ran, not what the tag names now", async () => {
  const bad = fakeDigest(0xbad);
  const svc = await serve({
    policy: "all",
    image: () => `${REG}/app:latest`,
    knobs: { [`${REG}/app:latest@${bad}`]: "crash-loop" },
  });
  try {
    // The pods run what the registry's latest named at start.
    const ran = svc.registry.digestOf("app", "latest")!;
    await waitFor(() => get(svc).status?.readyReplicas === 2, "pods running");
    await svc.push("latest", { digest: bad });
    assert.deepEqual(images(svc), [`app=${REG}/app:latest@${bad}`]);
    await waitFor(() => svc.argoos.metrics.reverts.value() === 1, "reverted");
    assert.deepEqual(images(svc), [`app=${REG}/app:latest@${ran}`]);
    assert.deepEqual(rejected(svc), [`app@${bad}:crash-loop`]);
    // The pinned revert is Argoos's own: not taken for a person's change.
    await waitFor(() => svc.argoos.queue.length === 0, "settled");
    assert.equal(events(svc, "ManualChange").length, 0);
    assert.deepEqual(images(svc), [`app=${REG}/app:latest@${ran}`]);
  } finally {
    await svc.stop();
  }
});

Deno.test("two repositories in one rollout, one failing: only its digest is rejected", async () => {
  const svc = await serve({
    repos: ["app", "side"],
    knobs: { [`${REG}/side:1.0.1`]: "crash-loop" },
  });
  try {
    const app = svc.registry.push("app", "1.0.1");
    const side = svc.registry.push("side", "1.0.1");
    const res = await svc.post(pushEnvelope(
      { host: REG, repository: "app", tag: "1.0.1", digest: app },
      { host: REG, repository: "side", tag: "1.0.1", digest: side },
    ));
    assert.equal(res.status, 200, res.text);
    await waitFor(() => svc.argoos.metrics.reverts.value() === 1, "reverted");
    assert.deepEqual(rejected(svc), [`side@${side}:crash-loop`]);
    // The good one is not blacklisted: rolled out again on its own, and it succeeds.
    await waitFor(
      () => images(svc).join() === `app=${REG}/app:1.0.1,side=${REG}/side:1.0.0`,
      "app alone rolled out again",
    );
    await waitFor(() => events(svc, "RolloutSucceeded").length === 1, "succeeded");
  } finally {
    await svc.stop();
  }
});
