import assert from "node:assert/strict";
import type { WorkloadEvent } from "../../lib/events/recorder.ts";
import { notificationOf } from "../../lib/notify/notification.ts";
import type { HeldUpdate } from "../../lib/reconcile/gates.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { heldReporter, Rejections } from "../../lib/service/reporting.ts";
import { ArgoosMetrics } from "../../lib/metrics/argoos_metrics.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { capture } from "../support/capture_log.ts";

const A = "sha256:" + "a".repeat(64);
const workloadNamed = (name: string): Workload =>
  readWorkload(kindNamed("Deployment")!, {
    metadata: { name, namespace: "team" },
    spec: { template: { spec: { containers: [{ name: "app", image: "app:1" }] } } },
  });
const w = workloadNamed("web");
const held = (gate: HeldUpdate["gate"], message: string): HeldUpdate => ({
  image: "app:2",
  digest: A,
  since: 0,
  gate,
  message,
});
const change = { container: "app", from: "app:1", to: "app:2", digest: A };

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
    [
      "ApprovalRequired",
      `app: app:1 → app:2 (${A}) waits for approval: approve with ` +
      `\`argoos approve deployment/web -n team\` or ` +
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

Deno.test("heldReporter: an approval gate sends one io.argoos.update.pending, not two", () => {
  const told: WorkloadEvent[] = [];
  heldReporter({ record: (e) => void told.push(e) }).onHeld(w, {
    app: held("approval", "waiting for approval"),
  });
  const types = told.map((e) => notificationOf(e, { source: "argoos/t", now: 0 })?.type);
  assert.deepEqual(types, ["io.argoos.update.pending"]);
  assert.equal(told[0].reason, "ApprovalRequired");
});

Deno.test("heldReporter: pending, approval and available name the images in the notification's data", () => {
  for (const gate of ["window", "approval", "observe"] as const) {
    const told: WorkloadEvent[] = [];
    heldReporter({ record: (e) => void told.push(e) }).onHeld(w, { app: held(gate, "m") });
    assert.deepEqual(told.map((e) => e.changes), [[change]], gate);
    const n = notificationOf(told[0], { source: "argoos/t", now: 0 })!;
    assert.deepEqual(
      [n.data.container, n.data.from, n.data.to, n.data.digest],
      ["app", "app:1", "app:2", A],
      gate,
    );
  }
});

Deno.test("heldReporter: workloads gone are swept as the map grows, without a scrape", () => {
  const live = new Set<string>(["Deployment/team/kept"]);
  const asked = new Set<string>();
  const r = heldReporter({ record: () => {} }, (key) => (asked.add(key), live.has(key)));
  r.onHeld(workloadNamed("kept"), { app: held("window", "m") });
  // 1000 workloads held once each, deleted since (not live): never scraped.
  for (let i = 0; i < 1000; i++) r.onHeld(workloadNamed(`w${i}`), { app: held("approval", "m") });
  const swept = [...asked].filter((k) => k.startsWith("Deployment/team/w")).length;
  assert.ok(swept >= 900, `only ${swept} of 1000 gone workloads looked at before a scrape`);
  assert.deepEqual(
    Object.fromEntries(r.pendingByGate().map(([{ gate }, n]) => [gate, n])),
    { observe: 0, approval: 0, "min-age": 0, window: 1 },
    "the live one is kept",
  );
});

Deno.test("Rejections: the final UpdateRejected names the update it stopped and its reason", () => {
  const told: WorkloadEvent[] = [];
  const web = readWorkload(kindNamed("Deployment")!, {
    metadata: { name: "web", namespace: "team" },
    spec: {
      template: {
        spec: {
          containers: [{ name: "app", image: "ghcr.io/acme/app:1.0" }, {
            name: "sidecar",
            image: "ghcr.io/acme/proxy:3",
          }],
        },
      },
    },
  });
  const rejections = new Rejections({
    metrics: new ArgoosMetrics(),
    events: { record: (e: WorkloadEvent) => void told.push(e) } as never,
    logger: capture().logger,
    workloadOf: () => web,
  });
  const denied = new RegistryError("denied: pull access", {
    host: "ghcr.io",
    status: 403,
    transient: false,
  });
  rejections.failed(
    "Deployment/team/web",
    denied.about({
      repository: "ghcr.io/acme/app",
      tag: "1.1",
      digest: A,
    }),
  );
  assert.equal(told.length, 1);
  assert.equal(told[0].reason, "UpdateRejected");
  assert.equal(told[0].cause, "credentials-refused");
  assert.deepEqual(told[0].changes, [{
    container: "app",
    from: "ghcr.io/acme/app:1.0",
    to: "ghcr.io/acme/app:1.1",
    digest: A,
  }]);
  const n = notificationOf(told[0], { source: "argoos/t", now: 0 })!;
  assert.equal(n.type, "io.argoos.update.refused");
  assert.deepEqual([n.data.from, n.data.to, n.data.reason], [
    "ghcr.io/acme/app:1.0",
    "ghcr.io/acme/app:1.1",
    "credentials-refused",
  ]);
});
