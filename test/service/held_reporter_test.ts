import assert from "node:assert/strict";
import type { WorkloadEvent } from "../../lib/events/recorder.ts";
import type { HeldUpdate } from "../../lib/reconcile/gates.ts";
import { heldReporter } from "../../lib/service/reporting.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";

const A = "sha256:" + "a".repeat(64);
const w = readWorkload(kindNamed("Deployment")!, {
  metadata: { name: "web", namespace: "team" },
  spec: { template: { spec: { containers: [{ name: "app", image: "app:1" }] } } },
});
const held = (gate: HeldUpdate["gate"], message: string): HeldUpdate => ({
  image: "app:2",
  digest: A,
  since: 0,
  gate,
  message,
});

Deno.test("heldReporter: told once per candidate and gate, counted by gate while the workload exists", () => {
  const told: WorkloadEvent[] = [];
  let exists = true;
  const r = heldReporter({ record: (e) => void told.push(e) }, () => exists);
  const count = () => Object.fromEntries(r.pendingByGate().map(([{ gate }, n]) => [gate, n]));
  const minAge = held("min-age", "min age reached 1970-01-01T01:00:00Z");
  r.onHeld(w, { app: minAge });
  r.onHeld(w, { app: minAge });
  assert.deepEqual(count(), { observe: 0, approval: 0, "min-age": 1, window: 0 });
  r.onHeld(w, { app: held("approval", "waiting for approval") });
  assert.deepEqual(told.map((e) => [e.reason, e.message]), [
    ["UpdatePending", `app: app:1 → app:2 (${A}) waits: min age reached 1970-01-01T01:00:00Z`],
    ["UpdatePending", `app: app:1 → app:2 (${A}) waits: waiting for approval`],
    [
      "ApprovalRequired",
      `app: app:1 → app:2 (${A}): approve with \`argoos approve deployment/web -n team\` or ` +
      `\`kubectl annotate deployment/web -n team argoos.io/approve=${A}\``,
    ],
  ]);
  r.onHeld(w, { app: held("observe", "observe mode: not written") });
  assert.equal(told.at(-1)?.reason, "UpdateAvailable");
  assert.deepEqual(count(), { observe: 1, approval: 0, "min-age": 0, window: 0 });
  exists = false;
  assert.deepEqual(count(), { observe: 0, approval: 0, "min-age": 0, window: 0 }, "gone");
  exists = true;
  r.onHeld(w, {});
  assert.deepEqual(count(), { observe: 0, approval: 0, "min-age": 0, window: 0 });
});
