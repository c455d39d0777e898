/**
 * The status of each workload, from the cache and the decisions store alone: states and their
 * reasons, what the pods run, the candidate and why it is not written, settings, filters, and
 * the store's bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DecisionStore } from "../../lib/status/decisions.ts";
import { workloadStatuses } from "../../lib/status/view.ts";
import { DIGEST_NEW, DIGEST_OLD, NOW, seedStatus, workload } from "./seed.ts";

const { workloads, decisions } = seedStatus();
const all = workloadStatuses(workloads, decisions, { now: NOW });
const byName = (name: string) => all.find((w) => w.name === name)!;

Deno.test("each workload's state, with its reason in words", () => {
  assert.deepEqual(all.map((w) => [w.namespace, w.name, w.state]), [
    ["finance", "billing", "failed"],
    ["finance", "ledger", "held"],
    ["shop", "catalog", "ok"],
    ["shop", "checkout", "pending"],
    ["shop", "search", "in-progress"],
  ]);
  assert.match(byName("billing").stateReason!, /^Reverted: app: billing:4\.3\.0 → billing:4\.2\.0/);
  assert.equal(byName("ledger").stateReason, "held until released");
  assert.equal(byName("checkout").stateReason, "app: update window opens 2026-12-12T02:00:00Z");
  assert.equal(byName("search").stateReason, "since 2026-12-06T11:58:00.000Z");
});

Deno.test("containers: the image written, pods per digest, the candidate and why not", () => {
  assert.deepEqual(byName("catalog").containers, [{
    name: "app",
    image: "registry.example.com/catalog:2.1.0",
    running: [{ digest: DIGEST_OLD, pods: 3 }],
    why: "not an update (not newer)",
  }]);
  const [checkout] = byName("checkout").containers;
  assert.equal(checkout.candidate, "registry.example.com/checkout:1.5.0");
  assert.equal(checkout.why, "update window opens 2026-12-12T02:00:00Z");
  assert.deepEqual(checkout.pending, {
    gate: "window",
    opensAt: "2026-12-12T02:00:00.000Z",
    digest: DIGEST_NEW,
  });
  assert.equal(checkout.running, undefined, "pods never read: unknown, not none");
  assert.deepEqual(byName("search").containers[0].running, [
    { digest: DIGEST_OLD, pods: 1 },
    { digest: DIGEST_NEW, pods: 1 },
  ]);
});

Deno.test("rollout in progress, last outcome, rejected digests, settings without bookkeeping", () => {
  const search = byName("search");
  assert.deepEqual(search.rollout, {
    since: "2026-12-06T11:58:00.000Z",
    deadline: "2026-12-06T12:08:00.000Z",
    state: "progressing",
  });
  assert.deepEqual(search.settings, {});
  const late = workloadStatuses(workloads, decisions, { now: NOW + 3_600_000 })
    .find((w) => w.name === "search")!;
  assert.equal(late.rollout?.state, "past deadline");
  const billing = byName("billing");
  assert.equal(billing.lastOutcome?.reason, "Reverted");
  assert.equal(billing.lastOutcome?.at, "2026-12-06T11:50:00.000Z");
  assert.deepEqual(billing.rejected, [{
    repository: "registry.example.com/billing",
    digest: DIGEST_NEW,
    tag: "4.3.0",
    at: "2026-12-06T11:50:00.000Z",
    reason: "crash-loop",
  }]);
  assert.deepEqual(
    byName("checkout").settings,
    { "argoos.io/update-window": "0 2 * * 6 2h" },
    "argoos.io/pending is bookkeeping",
  );
  assert.equal(byName("checkout").policy, "minor");
});

Deno.test("a gated update is known from argoos.io/pending alone (another replica decided it)", () => {
  const [checkout] = seedStatus().workloads.filter((w) => w.name === "checkout");
  const approved = { ...checkout.annotations, "argoos.io/approve": DIGEST_OLD };
  const w = { ...checkout, annotations: approved };
  const [status] = workloadStatuses([w], new DecisionStore(), { now: NOW });
  assert.equal(status.state, "pending");
  assert.equal(
    status.stateReason,
    "app: waits for an update window, may open 2026-12-12T02:00:00Z",
  );
  assert.equal(status.containers[0].candidate, "registry.example.com/checkout:1.5.0");
  assert.deepEqual(status.containers[0].pending, {
    gate: "window",
    opensAt: "2026-12-12T02:00:00.000Z",
    digest: DIGEST_NEW,
  });
  assert.deepEqual(status.settings, { "argoos.io/update-window": "0 2 * * 6 2h" });
  const approval = {
    ...checkout.annotations,
    "argoos.io/pending": JSON.stringify({
      app: {
        image: "registry.example.com/checkout:1.5.0",
        digest: DIGEST_NEW,
        since: "2026-12-06T11:44:00Z",
        gate: "approval",
      },
    }),
  };
  const [waiting] = workloadStatuses(
    [{ ...checkout, annotations: approval }],
    new DecisionStore(),
    {
      now: NOW,
    },
  );
  assert.equal(waiting.stateReason, "app: waits for approval");
});

Deno.test("a failure is known from argoos.io/rejected alone (another replica reverted), until a success", () => {
  const [billing] = seedStatus().workloads.filter((w) => w.name === "billing");
  const store = new DecisionStore({ now: () => NOW });
  assert.equal(
    workloadStatuses([billing], store, { now: NOW })[0].stateReason,
    "rejected 4.3.0: crash-loop",
  );
  store.recorded({ workload: billing, reason: "RolloutSucceeded", type: "Normal", message: "ok" });
  assert.equal(workloadStatuses([billing], store, { now: NOW })[0].state, "ok");
});

Deno.test("holds: true, or a time still ahead", () => {
  const store = new DecisionStore();
  const state = (hold: string) =>
    workloadStatuses([workload("w", "ns", "a:1", { "argoos.io/hold": hold })], store, {
      now: NOW,
    })[0].state;
  assert.equal(state("true"), "held");
  assert.equal(state("2026-12-07T00:00:00Z"), "held");
  assert.equal(state("2026-12-01T00:00:00Z"), "ok");
  assert.equal(state("false"), "ok");
  assert.equal(state("tomorrow"), "held", "an unreadable hold holds, as the reconcile treats it");
});

Deno.test("filters by namespace and state", () => {
  const names = (opts: Parameters<typeof workloadStatuses>[2]) =>
    workloadStatuses(workloads, decisions, opts).map((w) => w.name);
  assert.deepEqual(names({ now: NOW, namespace: "finance" }), ["billing", "ledger"]);
  assert.deepEqual(names({ now: NOW, state: "pending" }), ["checkout"]);
  assert.deepEqual(names({ now: NOW, state: "failed" }), ["billing"]);
  assert.deepEqual(names({ now: NOW, state: "in-progress" }), ["search"]);
  assert.deepEqual(names({ now: NOW, state: "held" }), ["ledger"]);
  assert.deepEqual(names({ now: NOW, namespace: "shop", state: "failed" }), []);
  assert.equal(names({ now: NOW, state: "all" }).length, 5);
});

Deno.test("the store: one entry per workload, bounded, dropped when it goes or is recreated", () => {
  const store = new DecisionStore({ maxEntries: 2 });
  const [a, b, c] = ["a", "b", "c"].map((n) => workload(n, "ns", "x:1"));
  for (const w of [a, b, a, c]) {
    store.recorded({ workload: w, reason: "ImageUpdated", type: "Normal", message: w.name });
  }
  assert.equal(store.size, 2);
  assert.equal(store.get(b), undefined, "the least recently changed went first");
  assert.ok(store.get(a) && store.get(c));
  store.retain(new Set(["Deployment/ns/c"]));
  assert.equal(store.get(a), undefined);
  assert.equal(
    store.get({ ...c, uid: "another" }),
    undefined,
    "a recreated workload starts afresh",
  );
  store.recorded({
    workload: c,
    reason: "InvalidPolicy",
    type: "Warning",
    message: "not a decision",
  });
  assert.equal(store.get(c)?.notice, undefined);
});
