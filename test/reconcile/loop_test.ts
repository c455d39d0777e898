/**
 * The reconcile loop's contract, with a stand-in cache and writer: a hold answers "again after"
 * its end and writes nothing; a lost race is decided again at once a few times, then fails for
 * the work queue's back-off; a refusal ends the reconcile as `refused`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAX_RACES, Reconciler } from "../../lib/reconcile/reconciler.ts";
import { RepositoryFacts } from "../../lib/reconcile/facts.ts";
import { TagVerifier } from "../../lib/registry/tag_verifier.ts";
import { type Plan, type Rollout, TransientRolloutError } from "../../lib/rollout/rollout.ts";
import type { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";

const NOW = Date.parse("2026-12-06T10:00:00Z");

function reconcilerFor(annotations: Record<string, string>, answer: string) {
  const w = readWorkload(
    kindNamed("Deployment")!,
    deployment({
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: "r/app:1.0.0" }],
      annotations,
    }),
  );
  const writes: Plan[] = [];
  const held: string[] = [];
  const reconciler = new Reconciler({
    cache: { get: () => w } as unknown as WorkloadCache,
    facts: new RepositoryFacts(),
    // No facts: nothing is asked of the registry.
    verifier: new TagVerifier({
      headDigest: () => Promise.reject(new Error("not asked")),
      manifest: () => Promise.reject(new Error("not asked")),
    }),
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
