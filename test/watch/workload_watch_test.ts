/**
 * The cache watch: which changes enqueue a workload, and an invalid policy reported once.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { WorkloadEvent } from "../../lib/events/recorder.ts";
import { Logger } from "../../lib/log/logger.ts";
import { decidesDiffer, watchWorkloads } from "../../lib/watch/workload_watch.ts";
import { WORKLOAD_KINDS } from "../../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { deployment, type WorkloadSpec } from "../support/workload_object.ts";

const base: WorkloadSpec = {
  name: "web",
  policy: "minor",
  containers: [{ name: "app", image: "myapp:1.2.3" }],
  annotations: { "argoos.io/tag-pattern": "^1\\." },
};
const read = (spec: Partial<WorkloadSpec> = {}, resourceVersion = "1"): Workload => {
  const obj = deployment({ ...base, ...spec }) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion };
  return readWorkload(WORKLOAD_KINDS[0], obj);
};

/** `read` with a status, and a rollout record while `rollout` is given. */
const withStatus = (status: unknown, rollout?: string, resourceVersion = "1"): Workload => {
  const obj = deployment({
    ...base,
    annotations: { ...base.annotations, ...(rollout ? { "argoos.io/rollout": rollout } : {}) },
  }) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion };
  obj.status = status;
  return readWorkload(WORKLOAD_KINDS[0], obj);
};
const caught = { observedGeneration: 2, replicas: 2, updatedReplicas: 1 };
const moved = { ...caught, availableReplicas: 1 };

const cases: [string, Workload | undefined, Workload, boolean][] = [
  ["a status update, no rollout in progress", withStatus(caught), withStatus(moved), false],
  [
    "a status update of a rollout in progress",
    withStatus(caught, "{}"),
    withStatus(moved, "{}", "2"),
    true,
  ],
  [
    "a rollout in progress, the status as it was",
    withStatus(caught, "{}"),
    withStatus(caught, "{}", "2"),
    false,
  ],
  [
    // What Argoos's write is expected to leave carries the mark of before the rollout: none.
    "Argoos's own write of a rollout record (the mark appears)",
    { ...withStatus(caught, "{}"), statusMark: undefined },
    withStatus(moved, "{}", "2"),
    false,
  ],
  ["new to the cache", undefined, read(), true],
  ["a status update only (new resourceVersion)", read(), read({}, "2"), false],
  ["the policy label", read(), read({ policy: "patch" }), true],
  ["an image", read(), read({ containers: [{ name: "app", image: "myapp:1.2.4" }] }), true],
  [
    "a container renamed",
    read(),
    read({ containers: [{ name: "web", image: "myapp:1.2.3" }] }),
    true,
  ],
  ["an argoos.io/ annotation", read(), read({ annotations: {} }), true],
  [
    "another annotation (not kept)",
    read(),
    read({ annotations: { ...base.annotations, x: "y" } }),
    false,
  ],
];
for (const [name, previous, w, want] of cases) {
  Deno.test(`decidesDiffer: ${name} → ${want}`, () => {
    assert.equal(decidesDiffer(w, previous), want);
  });
}

Deno.test("watchWorkloads: enqueues by key; an invalid policy is reported once until it changes", async () => {
  const keys: string[] = [];
  const events: WorkloadEvent[] = [];
  const lines: string[] = [];
  const onUpsert = watchWorkloads({
    enqueue: (key) => Promise.resolve(keys.push(key)),
    events: { record: (ev) => events.push(ev) },
    logger: new Logger({ sink: (line) => lines.push(line) }),
  });
  const bad = read({ policy: "Minor" });
  onUpsert(bad, undefined);
  onUpsert(read({ policy: "Minor" }, "2"), bad); // the same errors: not told again
  onUpsert(read({ policy: "sometimes" }, "3"), bad);
  await Promise.resolve();
  assert.deepEqual(keys, ["Deployment/default/web", "Deployment/default/web"]);
  assert.deepEqual(events.map((e) => [e.reason, e.type]), [
    ["InvalidPolicy", "Warning"],
    ["InvalidPolicy", "Warning"],
  ]);
  assert.match(events[0].message, /^label argoos\.io\/policy="Minor": /);
  assert.equal(lines.filter((l) => JSON.parse(l).msg === "invalid policy").length, 2);
  assert.equal(JSON.parse(lines[0]).workload, "Deployment default/web");
});
