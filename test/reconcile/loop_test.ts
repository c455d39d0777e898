/**
 * The reconcile loop's contract, with a stand-in cache and writer: a hold answers "again after"
 * its end and writes nothing; a lost race is decided again at once a few times, then fails for
 * the work queue's back-off; a refusal ends the reconcile as `refused`; a human change is
 * recorded and told with its images, told once and never recorded in observe mode and in a
 * dry run; a registry failure while a rollout progresses is retried by the rollout's next look.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { WorkloadEvent } from "../../lib/events/recorder.ts";
import { Gates } from "../../lib/reconcile/gates.ts";
import { MAX_RACES, owedLookMs, Reconciler } from "../../lib/reconcile/reconciler.ts";
import { WorkQueue } from "../../lib/reconcile/queue.ts";
import type { RolloutTracker } from "../../lib/health/tracker.ts";
import { RepositoryFacts } from "../../lib/reconcile/facts.ts";
import { TagVerifier } from "../../lib/registry/tag_verifier.ts";
import { type Plan, type Rollout, TransientRolloutError } from "../../lib/rollout/rollout.ts";
import type { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { capture } from "../support/capture_log.ts";
import { waitFor } from "../support/wait_for.ts";
import { deployment } from "../support/workload_object.ts";

const NOW = Date.parse("2026-12-06T10:00:00Z");

/** `web` (policy patch) running r/app:1.0.0, with `annotations`. */
const web = (annotations: Record<string, string>) =>
  readWorkload(
    kindNamed("Deployment")!,
    deployment({
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: "r/app:1.0.0" }],
      annotations,
    }),
  );

/** A verifier for reconciles with no facts: nothing is asked of the registry. */
const notAsked = () =>
  new TagVerifier({
    headDigest: () => Promise.reject(new Error("not asked")),
    manifest: () => Promise.reject(new Error("not asked")),
  });

function reconcilerFor(annotations: Record<string, string>, answer: string) {
  const w = web(annotations);
  const writes: Plan[] = [];
  const held: string[] = [];
  const reconciler = new Reconciler({
    cache: { get: () => w } as unknown as WorkloadCache,
    facts: new RepositoryFacts(),
    verifier: notAsked(),
    rollout: {
      dryRun: false,
      apply: (_w: unknown, plan: Plan) => (writes.push(plan), Promise.resolve(answer)),
      write: () => Promise.resolve(answer),
    } as unknown as Rollout,
    credentialsOf: () => Promise.resolve(new Map()),
    runningDigestsOf: () => Promise.resolve(new Map()),
    events: { record: (ev) => held.push(`${ev.reason}: ${ev.message}`) },
    now: () => NOW,
  });
  return { reconciler, writes, held };
}

Deno.test("a hold: nothing decided or written, Held once, again when it ends", async () => {
  const until = { "argoos.io/hold": "2026-12-06T11:00:00Z", "argoos.io/hold-reason": "inc 7" };
  const { reconciler, writes, held } = reconcilerFor(until, "applied");
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await reconciler.reconcile("Deployment/default/web"), {
      outcome: "held",
      afterMs: 3_600_000,
    });
  }
  assert.deepEqual(writes, []);
  assert.deepEqual(held, [
    "Held: held until 2026-12-06T11:00:00.000Z (inc 7): Argoos writes nothing",
  ]);
  const forever = reconcilerFor({ "argoos.io/hold": "true" }, "applied");
  assert.deepEqual(await forever.reconciler.reconcile("k"), { outcome: "held" });
});

Deno.test("lost races are decided again at once, then left to the back-off", async () => {
  const { reconciler, writes } = reconcilerFor({}, "guard-failed");
  await assert.rejects(reconciler.reconcile("Deployment/default/web"), TransientRolloutError);
  assert.equal(writes.length, MAX_RACES);
});

Deno.test("a refused write ends the reconcile as refused (the queue backs off)", async () => {
  const { reconciler, writes } = reconcilerFor({}, "refused");
  assert.deepEqual(await reconciler.reconcile("Deployment/default/web"), { outcome: "refused" });
  assert.equal(writes.length, 1);
});

/** `web` running r/app:1.0.0 after a person moved it off r/app:1.0.1, which Argoos wrote. */
function rolledBack(annotations: Record<string, string>, opts: { dryRun?: boolean } = {}) {
  const obj = (extra: Record<string, string>) => web({ ...annotations, ...extra });
  const wrote = {
    app: { image: "r/app:1.0.1", digest: "sha256:" + "1".repeat(64), written: true },
  };
  let w = obj({ "argoos.io/state": JSON.stringify(wrote) });
  const written: string[] = [];
  const events: WorkloadEvent[] = [];
  const log = capture();
  const reconciler = new Reconciler({
    cache: { get: () => w } as unknown as WorkloadCache,
    facts: new RepositoryFacts(),
    verifier: notAsked(),
    rollout: {
      dryRun: opts.dryRun ?? false,
      apply: () => Promise.resolve("unchanged"),
      write: (_w: unknown, _write: unknown, source: string) => {
        written.push(source);
        if (opts.dryRun) return Promise.resolve("unchanged");
        w = obj({}); // recorded: no longer a change
        return Promise.resolve("applied");
      },
    } as unknown as Rollout,
    credentialsOf: () => Promise.resolve(new Map()),
    runningDigestsOf: () => Promise.resolve(new Map()),
    events: { record: (ev) => events.push(ev) },
    gates: new Gates(),
    logger: log.logger,
    now: () => NOW,
  });
  return { reconciler, written, events, log };
}

Deno.test("a human change is recorded and told with its images; observe mode tells it once and writes nothing", async () => {
  const changes = [{ container: "app", from: "r/app:1.0.1", to: "r/app:1.0.0" }];
  const recorded = rolledBack({});
  await recorded.reconciler.reconcile("Deployment/default/web");
  assert.deepEqual(recorded.written, ["manual"]);
  assert.deepEqual(recorded.events.map((e) => [e.reason, e.changes]), [["ManualChange", changes]]);

  const observed = rolledBack({ "argoos.io/mode": "observe" });
  for (let i = 0; i < 3; i++) await observed.reconciler.reconcile("Deployment/default/web");
  assert.deepEqual(observed.written, [], "observe mode writes no state nor rejection");
  assert.deepEqual(observed.events.map((e) => [e.reason, e.changes]), [["ManualChange", changes]]);
  assert.match(observed.events[0].message, /observe mode: nothing recorded/);
});

Deno.test("dry run: a human change it would keep is logged once, not at every reconcile", async () => {
  const { reconciler, log } = rolledBack({}, { dryRun: true });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await reconciler.reconcile("Deployment/default/web"), {
      outcome: "unchanged",
    });
  }
  const lines = log.records().filter((r) => String(r.msg).startsWith("dry-run: would keep"));
  assert.equal(lines.length, 1);
});

Deno.test("a registry failure while a rollout progresses still owes its look: the queue retries by then", async () => {
  const w = web({ "argoos.io/rollout": "{}" });
  const facts = new RepositoryFacts();
  facts.recordPush({ repository: "docker.io/r/app", tag: "1.0.1", pushedAt: NOW, source: "hub" });
  const down = new Error("registry down");
  const reconciler = new Reconciler({
    cache: { get: () => w } as unknown as WorkloadCache,
    facts,
    verifier: {
      verify: () => Promise.reject(down),
    } as unknown as TagVerifier,
    rollout: { dryRun: false } as unknown as Rollout,
    credentialsOf: () => Promise.resolve(new Map()),
    runningDigestsOf: () => Promise.resolve(new Map()),
    tracker: {
      check: () => Promise.resolve({ kind: "progressing", detail: "", recheckAt: NOW + 7_000 }),
    } as unknown as RolloutTracker,
    now: () => NOW,
  });
  await assert.rejects(reconciler.reconcile("Deployment/default/web"), /registry down/);
  assert.equal(owedLookMs(down), 7_000);
  assert.equal(owedLookMs(new Error("other")), undefined);

  // The work queue: a back-off of a minute, a look owed in 5 ms.
  let runs = 0;
  const q = new WorkQueue<string>({
    baseDelayMs: 60_000,
    reconcile: () => ++runs === 1 ? Promise.reject(down) : Promise.resolve("done"),
    retryWithin: (cause) => cause === down ? 5 : undefined,
  });
  try {
    await assert.rejects(q.add("k"), /registry down/);
    await waitFor(() => runs === 2, "retried by the look owed, not after the back-off");
  } finally {
    await q.stop();
  }
});
