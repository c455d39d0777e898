import assert from "node:assert/strict";
import { FirstSeen } from "../../lib/reconcile/first_seen.ts";
import {
  type GateDecision,
  gateFor,
  type GateRules,
  readGateRules,
} from "../../lib/gates/gates.ts";
import { Gates, type WorkloadGates } from "../../lib/reconcile/gates.ts";
import { approvedDigests, readPending } from "../../lib/gates/pending.ts";
import { parseUpdateWindows } from "../../lib/gates/window.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The service loads them on first need; these tests call the pure functions directly.
await loadParsers({ semver: true, cron: true });

const A = "sha256:" + "a".repeat(64);
const B = "sha256:" + "b".repeat(64);
const at = (iso: string) => Date.parse(iso);
const H = 3_600_000;

Deno.test("gateFor: each gate, in order, with when it may open", () => {
  const saturdays = parseUpdateWindows("0 2 * * 6 4h");
  const friday = at("2026-12-11T12:00:00Z");
  const saturday = at("2026-12-12T02:00:00Z");
  const cases: {
    name: string;
    rules: GateRules;
    since: number;
    approved?: string[];
    now: number;
    want: GateDecision;
  }[] = [
    { name: "no gate", rules: {}, since: friday, now: friday, want: { open: true } },
    {
      name: "observe holds forever",
      rules: { observe: true, approval: true },
      since: 0,
      approved: [A],
      now: friday,
      want: { open: false, gate: "observe", message: "observe mode: not written" },
    },
    {
      name: "approval waits for its digest",
      rules: { approval: true },
      since: 0,
      now: friday,
      want: { open: false, gate: "approval", message: "waiting for approval" },
    },
    {
      name: "an approval of a stale digest approves nothing",
      rules: { approval: true },
      since: 0,
      approved: [B],
      now: friday,
      want: { open: false, gate: "approval", message: "waiting for approval" },
    },
    {
      name: "approval of the right digest opens",
      rules: { approval: true },
      since: 0,
      approved: [B, A],
      now: friday,
      want: { open: true },
    },
    {
      name: "min age from the push time",
      rules: { minAgeMs: 72 * H },
      since: at("2026-12-06T10:00:00Z"),
      now: friday - 3 * 24 * H,
      want: {
        open: false,
        gate: "min-age",
        opensAt: at("2026-12-09T10:00:00Z"),
        message: "min age reached 2026-12-09T10:00:00Z",
      },
    },
    {
      name: "min age reached",
      rules: { minAgeMs: 72 * H },
      since: at("2026-12-06T10:00:00Z"),
      now: at("2026-12-09T10:00:00Z"),
      want: { open: true },
    },
    {
      name: "approved, old enough, outside the window",
      rules: { approval: true, minAgeMs: H, windows: saturdays, timeZone: "Europe/Paris" },
      since: 0,
      approved: [A],
      now: friday,
      want: {
        open: false,
        gate: "window",
        opensAt: at("2026-12-12T01:00:00Z"),
        message: "update window opens 2026-12-12T02:00:00+01:00",
      },
    },
    {
      name: "the window in UTC by default",
      rules: { windows: saturdays },
      since: 0,
      now: friday,
      want: {
        open: false,
        gate: "window",
        opensAt: at("2026-12-12T02:00:00Z"),
        message: "update window opens 2026-12-12T02:00:00Z",
      },
    },
    {
      name: "min age first, then the window",
      rules: { minAgeMs: 24 * H, windows: saturdays, timeZone: "Europe/Paris" },
      since: friday,
      now: friday,
      want: {
        open: false,
        gate: "min-age",
        opensAt: friday + 24 * H,
        message: "min age reached 2026-12-12T12:00:00Z",
      },
    },
    {
      name: "inside the window",
      rules: { windows: saturdays, timeZone: "Europe/Paris" },
      since: 0,
      now: saturday,
      want: { open: true },
    },
    {
      name: "no window (always)",
      rules: { windows: [] },
      since: 0,
      now: friday,
      want: { open: true },
    },
  ];
  for (const c of cases) {
    const got = gateFor(c.rules, { digest: A, since: c.since }, new Set(c.approved), c.now);
    assert.deepEqual(got, c.want, c.name);
  }
});

Deno.test("readGateRules: values and the errors InvalidPolicy reports", () => {
  const read = (annotations: Record<string, string>) =>
    readGateRules((key) => ({ key, value: annotations[key] }));
  assert.deepEqual(read({}), {});
  assert.deepEqual(
    read({
      "argoos.io/update-window": "0 2 * * 6 4h",
      "argoos.io/update-window-timezone": "Europe/Paris",
      "argoos.io/min-age": "1h30m",
      "argoos.io/approval": "required",
      "argoos.io/mode": "observe",
    }),
    {
      windows: [{ cron: "0 2 * * 6", durationMs: 4 * H }],
      timeZone: "Europe/Paris",
      minAgeMs: 1.5 * H,
      approval: true,
      observe: true,
    },
  );
  assert.deepEqual(
    read({
      "argoos.io/update-window": "always",
      "argoos.io/approval": "none",
      "argoos.io/mode": "update",
    }),
    { windows: [], approval: false, observe: false },
  );
  const errors: [Record<string, string>, string][] = [
    [{ "argoos.io/update-window": "0 2 * * 6" }, "five cron fields and a duration"],
    [{ "argoos.io/update-window-timezone": "CEST" }, "not an IANA time zone"],
    [{ "argoos.io/min-age": "3 days" }, "is not a duration"],
    [{ "argoos.io/approval": "yes" }, "unknown approval (required or none)"],
    [{ "argoos.io/mode": "dry-run" }, "unknown mode (observe or update)"],
  ];
  for (const [annotations, why] of errors) {
    const got = read(annotations);
    const [[key, value]] = Object.entries(annotations);
    assert.ok("reason" in got && got.reason.includes(why), `${key}: ${JSON.stringify(got)}`);
    assert.equal((got as { key: string }).key, key);
    assert.equal((got as { value: string }).value, value);
  }
});

Deno.test("approvedDigests and readPending are tolerant", () => {
  assert.deepEqual(
    approvedDigests({ "argoos.io/approve": `${A},${B} sha256:short` }),
    new Set([A, B]),
  );
  assert.deepEqual(approvedDigests({}), new Set());
  const pending = JSON.stringify({
    app: {
      image: "a:2",
      digest: A,
      since: "2026-12-06T10:00:00Z",
      gate: "window",
      opensAt: "2026-12-12T01:00:00Z",
    },
    bad: { image: "a:2", digest: "latest", since: "2026-12-06T10:00:00Z", gate: "window" },
    worse: "x",
  });
  assert.deepEqual(readPending({ "argoos.io/pending": pending }), {
    app: {
      image: "a:2",
      digest: A,
      since: at("2026-12-06T10:00:00Z"),
      gate: "window",
      opensAt: at("2026-12-12T01:00:00Z"),
    },
  });
});

/** What `finish` writes and when it asks to look again. */
function finish(g: WorkloadGates) {
  const annotations: Record<string, string | null> = {};
  const recheckInMs = g.finish(annotations);
  return recheckInMs === undefined ? { annotations } : { annotations, recheckInMs };
}

const web = (annotations: Record<string, string>) =>
  readWorkload(kindNamed("Deployment")!, {
    metadata: {
      name: "web",
      namespace: "team",
      labels: { "argoos.io/policy": "patch" },
      annotations,
    },
    spec: { template: { spec: { containers: [{ name: "app", image: "reg.example/app:1.0.0" }] } } },
  });

Deno.test("Gates: min age from the first sighting when no push time, pending record and follow-up", () => {
  const t0 = at("2026-12-06T10:00:00Z");
  const gates = new Gates({ defaults: { minAgeMs: H }, firstSeen: new FirstSeen() });
  const w = web({});
  const c = w.containers[0];
  const g = gates.begin(w, t0);
  const held = g.hold(c, undefined, { tag: "1.0.1" }, A, "reg.example/app:1.0.1");
  assert.equal(held?.gate, "min-age");
  assert.deepEqual(finish(g), {
    annotations: {
      "argoos.io/pending": JSON.stringify({
        app: {
          image: "reg.example/app:1.0.1",
          digest: A,
          since: "2026-12-06T10:00:00.000Z",
          gate: "min-age",
          opensAt: "2026-12-06T11:00:00.000Z",
        },
      }),
    },
    recheckInMs: H,
  });
  // Seen again later: the clock runs from the first sighting, not from now.
  const later = gates.begin(w, t0 + H);
  assert.equal(later.hold(c, undefined, { tag: "1.0.1" }, A, "reg.example/app:1.0.1"), undefined);
  // Another digest of the same tag starts its own clock.
  assert.equal(
    later.hold(c, undefined, { tag: "1.0.1" }, B, "reg.example/app:1.0.1")?.gate,
    "min-age",
  );
  // A push time wins over the first sighting.
  const pushed = gates.begin(w, t0 + H);
  assert.equal(pushed.hold(c, undefined, { tag: "1.0.2", pushedAt: t0 }, B, "x"), undefined);
});

Deno.test("Gates: the pending record brings back the held update and an approval is consumed once written", () => {
  const t0 = at("2026-12-06T10:00:00Z");
  const pending = JSON.stringify({
    app: {
      image: "reg.example/app:1.0.1",
      digest: A,
      since: "2026-12-06T09:00:00Z",
      pushedAt: "2026-12-06T09:30:00Z",
      gate: "approval",
    },
  });
  const w = web({ "argoos.io/pending": pending, "argoos.io/approve": A });
  const c = w.containers[0];
  const g = new Gates().begin(w, t0);
  // The push's own time, not when the digest was first known.
  assert.deepEqual(g.pushes(c, [], undefined), [
    {
      repository: "reg.example/app",
      tag: "1.0.1",
      digest: A,
      pushedAt: at("2026-12-06T09:30:00Z"),
      source: "pending",
    },
  ]);
  assert.deepEqual(
    g.pushes(c, [], ["1.0.0", "1.0.1"]),
    [],
    "the listing names it: no push made up",
  );
  // A pending update from a listing has no push time: the listing brings it back.
  const listed = JSON.parse(pending);
  delete listed.app.pushedAt;
  const fromListing = web({ "argoos.io/pending": JSON.stringify(listed) });
  assert.deepEqual(new Gates().begin(fromListing, t0).pushes(c, [], undefined), []);
  const recorded = [{
    repository: "reg.example/app",
    tag: "1.0.1",
    digest: B,
    pushedAt: t0,
    source: "distribution",
  }];
  assert.deepEqual(
    g.pushes(c, recorded, undefined),
    recorded,
    "a recorded push of that tag is newer truth",
  );
  assert.equal(
    g.hold(c, { approval: true }, { tag: "1.0.1", pushedAt: t0 }, A, "reg.example/app:1.0.1"),
    undefined,
  );
  assert.deepEqual(finish(g), {
    annotations: { "argoos.io/pending": null, "argoos.io/approve": null },
  });
  // Two approvals, one consumed: the other stays.
  const both = web({ "argoos.io/approve": `${A},${B}` });
  const k = new Gates().begin(both, t0);
  assert.equal(k.hold(c, { approval: true }, { tag: "1.0.1", pushedAt: t0 }, A, "x"), undefined);
  assert.deepEqual(finish(k).annotations, { "argoos.io/approve": B });
  // A newer candidate replaces the pending one; the approval of the old digest stays unused.
  const h = new Gates().begin(w, t0);
  assert.equal(
    h.hold(c, { approval: true }, { tag: "1.0.2", pushedAt: t0 }, B, "reg.example/app:1.0.2")?.gate,
    "approval",
  );
  const { annotations, recheckInMs } = finish(h) as {
    annotations: Record<string, string | null>;
    recheckInMs?: number;
  };
  assert.equal(
    recheckInMs,
    undefined,
    "an approval opens on a change of the workload, not a timer",
  );
  assert.deepEqual(Object.keys(annotations), ["argoos.io/pending"]);
  assert.equal(readPending(annotations as Record<string, string>).app.digest, B);
});

Deno.test("FirstSeen is bounded, the least recently asked about dropped first", () => {
  const seen = new FirstSeen(2);
  seen.seen("a", 1);
  seen.seen("b", 2);
  seen.seen("a", 3);
  seen.seen("c", 4); // drops b
  assert.equal(seen.seen("a", 5), 1);
  assert.equal(seen.seen("b", 6), 6);
});

Deno.test("Gates.finish: observe mode keeps only the pending record; an invalid gate writes nothing", () => {
  const t0 = at("2026-12-06T10:00:00Z");
  const w = web({ "argoos.io/mode": "observe" });
  const g = new Gates().begin(w, t0);
  g.hold(w.containers[0], { observe: true }, { tag: "1.0.1", pushedAt: t0 }, A, "x");
  const writes: Record<string, string | null> = { "argoos.io/state": "{}" };
  assert.equal(g.finish(writes), undefined, "observe never opens");
  assert.deepEqual(Object.keys(writes), ["argoos.io/pending"]);
  const pending = JSON.stringify({
    app: { image: "x", digest: A, since: "2026-12-06T09:00:00Z", gate: "min-age" },
  });
  const invalid = web({ "argoos.io/min-age": "soon", "argoos.io/pending": pending });
  const none: Record<string, string | null> = {};
  new Gates().begin(invalid, t0).finish(none);
  assert.deepEqual(none, {}, "left alone: the pending record stays as it was");
});

Deno.test("Gates: a workload's or container's annotation wins over the service's default", () => {
  const t0 = at("2026-12-11T12:00:00Z"); // a Friday: outside the Saturday window
  const gates = new Gates({
    defaults: { windows: parseUpdateWindows("0 2 * * 6 4h"), minAgeMs: H, observe: true },
  });
  const w = web({});
  const c = w.containers[0];
  const pushed = { tag: "1.0.1", pushedAt: t0 - 2 * H };
  assert.equal(gates.begin(w, t0).hold(c, undefined, pushed, A, "x")?.gate, "observe");
  assert.equal(gates.begin(w, t0).hold(c, { observe: false }, pushed, A, "x")?.gate, "window");
  const own = { observe: false, windows: [], minAgeMs: 0 };
  assert.equal(gates.begin(w, t0).hold(c, own, { tag: "1.0.1", pushedAt: t0 }, A, "x"), undefined);
});
