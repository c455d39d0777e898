/**
 * The rollout and rejected annotations, and the revert plan.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  decodeRejected,
  decodeRollout,
  encodeRejected,
  encodeRollout,
  failedDigests,
  findRejected,
  MAX_REJECTED,
  MAX_REJECTED_BYTES,
  REJECTED_ANNOTATION,
  type RejectedImage,
  revertPlan,
  revertTarget,
  ROLLOUT_ANNOTATION,
  type RolloutRecord,
  startRecord,
} from "../../lib/health/record.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";

const DIGEST = "sha256:" + "b".repeat(64);
const digest = (n: number) => "sha256:" + n.toString(16).padStart(64, "0");
const push = {
  repository: "docker.io/library/myapp",
  tag: "1.2.4",
  digest: DIGEST,
  pushedAt: 5000,
};

function workload(images: Record<string, string>, annotations: Record<string, string> = {}) {
  return readWorkload(kindNamed("Deployment")!, {
    metadata: { name: "web", namespace: "default", annotations },
    spec: {
      template: {
        spec: {
          initContainers: [{ name: "migrate", image: images.migrate ?? "tool:1" }],
          containers: [
            { name: "app", image: images.app ?? "myapp:1.2.3" },
            { name: "sidecar", image: images.sidecar ?? "proxy:1" },
          ],
        },
      },
    },
  });
}

const record: RolloutRecord = {
  containers: [
    { section: "initContainers", index: 0, name: "migrate", from: "tool:1", to: "tool:2" },
    { section: "containers", index: 0, name: "app", from: "myapp:1.2.3", to: "myapp:1.2.4" },
  ],
  push,
  startedAt: Date.parse("2026-12-02T10:00:00Z"),
  deadline: Date.parse("2026-12-02T10:10:00Z"),
};

Deno.test("a rollout record survives its annotation", () => {
  assert.deepEqual(decodeRollout(encodeRollout(record)).value, record);
  const noDeadline = { ...record, deadline: undefined, push: { ...push, digest: undefined } };
  const { deadline: _d, ...rest } = noDeadline;
  const back = decodeRollout(encodeRollout(noDeadline)).value!;
  assert.equal(back.deadline, undefined);
  assert.equal(back.push.digest, undefined);
  assert.deepEqual(back.containers, rest.containers);
});

Deno.test("annotations to restore ride along and keep the oldest known-good value", () => {
  const withRestore = {
    ...record,
    restore: { "argoos.io/state": '{"app":{"image":"myapp:1.2.3"}}', "x.io/y": null },
  };
  assert.deepEqual(decodeRollout(encodeRollout(withRestore)).value, withRestore);
  const w = workload({ app: "myapp:1.2.4", migrate: "tool:2" }, {
    [ROLLOUT_ANNOTATION]: encodeRollout(withRestore),
  });
  const app = w.containers.find((c) => c.name === "app")!;
  const next = startRecord(w, {
    changes: [{ container: app, to: "myapp:1.2.5" }],
    push,
    now: 0,
    timeoutMs: 1,
    restore: { "argoos.io/state": '{"app":{"image":"myapp:1.2.4"}}', "z.io/new": "v" },
  });
  assert.deepEqual(next.restore, { ...withRestore.restore, "z.io/new": "v" });
  assert.equal(
    startRecord(workload({}), { changes: [], push, now: 0, timeoutMs: 1 }).restore,
    undefined,
  );
});

Deno.test("a corrupted rollout annotation is reported, not thrown", () => {
  const good = JSON.parse(encodeRollout(record));
  const cases: [string, string][] = [
    ["not JSON", "{"],
    ["not an object", "[]"],
    ["no version", JSON.stringify({ ...good, v: undefined })],
    ["future version", JSON.stringify({ ...good, v: 2 })],
    ["bad startedAt", JSON.stringify({ ...good, startedAt: "yesterday" })],
    ["bad deadline", JSON.stringify({ ...good, deadline: 12 })],
    ["no push", JSON.stringify({ ...good, push: undefined })],
    ["bad digest", JSON.stringify({ ...good, push: { ...good.push, digest: "sha256:xyz" } })],
    ["bad pushedAt", JSON.stringify({ ...good, push: { ...good.push, pushedAt: null } })],
    ["no containers", JSON.stringify({ ...good, containers: [] })],
    [
      "bad section",
      JSON.stringify({ ...good, containers: [{ ...good.containers[0], section: "x" }] }),
    ],
    [
      "negative index",
      JSON.stringify({ ...good, containers: [{ ...good.containers[0], index: -1 }] }),
    ],
    ["empty from", JSON.stringify({ ...good, containers: [{ ...good.containers[0], from: "" }] })],
    ["restore not a map", JSON.stringify({ ...good, restore: ["a"] })],
    ["restore value not text", JSON.stringify({ ...good, restore: { a: 1 } })],
  ];
  for (const [name, text] of cases) {
    const got = decodeRollout(text);
    assert.equal(got.value, undefined, name);
    assert.match(got.error!, /^argoos\.io\/rollout/, name);
  }
});

Deno.test("startRecord: previous images, the deadline, and a rollout still in progress", () => {
  const w = workload({});
  const app = w.containers.find((c) => c.name === "app")!;
  const fresh = startRecord(w, {
    changes: [{ container: app, to: "myapp:1.2.4" }],
    push,
    now: 1000,
    timeoutMs: 60_000,
  });
  assert.deepEqual(fresh, {
    containers: [{
      section: "containers",
      index: 0,
      name: "app",
      from: "myapp:1.2.3",
      to: "myapp:1.2.4",
    }],
    push,
    startedAt: 1000,
    deadline: 61_000,
  });
  assert.equal(
    startRecord(w, { changes: [], push, now: 1000, timeoutMs: undefined }).deadline,
    undefined,
  );

  // 1.2.4 is still rolling out (with tool:2) when 1.2.5 comes: a revert of 1.2.5 goes back to
  // 1.2.3, and migrate, still at what the earlier rollout wrote, stays followed.
  const during = workload({ app: "myapp:1.2.4", migrate: "tool:2" }, {
    [ROLLOUT_ANNOTATION]: encodeRollout(record),
  });
  const app2 = during.containers.find((c) => c.name === "app")!;
  const next = startRecord(during, {
    changes: [{ container: app2, to: "myapp:1.2.5" }],
    push,
    now: 2000,
    timeoutMs: 1000,
  });
  assert.deepEqual(next.containers, [
    { section: "containers", index: 0, name: "app", from: "myapp:1.2.3", to: "myapp:1.2.5" },
    { section: "initContainers", index: 0, name: "migrate", from: "tool:1", to: "tool:2" },
  ]);

  // Someone changed migrate by hand since: it is no longer Argoos's to revert.
  const edited = workload({ app: "myapp:1.2.4", migrate: "tool:9" }, {
    [ROLLOUT_ANNOTATION]: encodeRollout(record),
  });
  const app3 = edited.containers.find((c) => c.name === "app")!;
  assert.deepEqual(
    startRecord(edited, {
      changes: [{ container: app3, to: "myapp:1.2.5" }],
      push,
      now: 2000,
      timeoutMs: 1000,
    }).containers
      .map((c) => c.name),
    ["app"],
  );

  // A corrupted earlier record is ignored: this rollout starts from what runs now.
  const corrupt = workload({ app: "myapp:1.2.4" }, { [ROLLOUT_ANNOTATION]: "{" });
  const app4 = corrupt.containers.find((c) => c.name === "app")!;
  assert.equal(
    startRecord(corrupt, {
      changes: [{ container: app4, to: "myapp:1.2.5" }],
      push,
      now: 0,
      timeoutMs: 1,
    }).containers[0].from,
    "myapp:1.2.4",
  );
});

Deno.test("revertPlan: exactly the containers Argoos changed, unless someone changed them since", () => {
  const cases: [string, Record<string, string>, string | string[]][] = [
    ["both still as written", { migrate: "tool:2", app: "myapp:1.2.4" }, [
      "migrate=tool:1",
      "app=myapp:1.2.3",
    ]],
    ["app edited by hand", { migrate: "tool:2", app: "myapp:1.2.9" }, "changed-since"],
    ["migrate already back", { migrate: "tool:1", app: "myapp:1.2.4" }, "changed-since"],
    ["sidecar changed: not Argoos's business", {
      migrate: "tool:2",
      app: "myapp:1.2.4",
      sidecar: "proxy:9",
    }, [
      "migrate=tool:1",
      "app=myapp:1.2.3",
    ]],
  ];
  for (const [name, images, want] of cases) {
    const plan = revertPlan(workload(images), record);
    if (typeof want === "string") {
      assert.equal(plan.kind, want, name);
      if (plan.kind === "changed-since") assert.ok(plan.detail.length > 0);
    } else {
      assert.equal(plan.kind, "revert", name);
      if (plan.kind === "revert") {
        assert.deepEqual(plan.changes.map((c) => `${c.container.name}=${c.to}`), want, name);
        // The guard tests the image each change replaces: what Argoos wrote.
        assert.deepEqual(
          plan.changes.map((c) => c.container.image),
          ["tool:2", "myapp:1.2.4"],
          name,
        );
      }
    }
  }
  const moved = readWorkload(kindNamed("Deployment")!, {
    metadata: { name: "web", namespace: "default" },
    spec: { template: { spec: { containers: [{ name: "app", image: "myapp:1.2.4" }] } } },
  });
  assert.equal(revertPlan(moved, record).kind, "changed-since", "container removed");
});

Deno.test("rejected digests: newest last, deduplicated, bounded by count and size", () => {
  const entry = (n: number, extra: Partial<RejectedImage> = {}): RejectedImage => ({
    repository: "docker.io/library/myapp",
    digest: digest(n),
    tag: `1.${n}`,
    at: n * 1000,
    reason: "crash-loop",
    ...extra,
  });
  let text = encodeRejected([], entry(1));
  assert.deepEqual(decodeRejected(text), { value: [entry(1)] });
  text = encodeRejected(decodeRejected(text).value, entry(2));
  text = encodeRejected(decodeRejected(text).value, entry(1, { at: 9000 }));
  assert.deepEqual(decodeRejected(text).value.map((e) => e.digest), [digest(2), digest(1)]);
  assert.equal(decodeRejected(text).value[1].at, 9000);

  let many: RejectedImage[] = [];
  for (let n = 0; n < MAX_REJECTED + 10; n++) {
    many = decodeRejected(encodeRejected(many, entry(n))).value;
  }
  assert.equal(many.length, MAX_REJECTED);
  assert.equal(many[0].digest, digest(10), "oldest dropped");

  // A person's rejection outlives failures newer than it; the newest entry always stays.
  let withManual = [entry(0, { reason: "manual" })];
  for (let n = 1; n < MAX_REJECTED + 10; n++) {
    withManual = decodeRejected(encodeRejected(withManual, entry(n))).value;
  }
  assert.equal(withManual.length, MAX_REJECTED);
  assert.deepEqual(withManual.slice(0, 2).map((e) => e.digest), [digest(0), digest(11)]);
  let manualOnly = [...Array(MAX_REJECTED).keys()].map((n) => entry(n, { reason: "manual" }));
  manualOnly = decodeRejected(encodeRejected(manualOnly, entry(99))).value;
  assert.deepEqual([manualOnly[0].digest, manualOnly.at(-1)!.digest], [digest(1), digest(99)]);

  const long = "x".repeat(2000);
  let big: RejectedImage[] = [];
  for (let n = 0; n < 20; n++) {
    const t = encodeRejected(big, entry(n, { tag: long }));
    assert.ok(t.length <= MAX_REJECTED_BYTES);
    big = decodeRejected(t).value;
  }
  assert.ok(big.length < 20 && big.length > 1);
  assert.equal(big.at(-1)!.digest, digest(19), "newest kept");

  const on = {
    [REJECTED_ANNOTATION]: JSON.stringify(many.map((e) => ({ ...e, at: new Date(e.at) }))),
  };
  assert.equal(findRejected(on, "docker.io/library/myapp", digest(12))?.tag, "1.12");
  assert.equal(findRejected(on, "docker.io/library/myapp", digest(1)), undefined, "dropped");
  assert.equal(findRejected(on, "docker.io/library/other", digest(12)), undefined);
  assert.equal(findRejected({}, "docker.io/library/myapp", digest(12)), undefined);
  assert.equal(
    findRejected({ [REJECTED_ANNOTATION]: "garbage" }, "docker.io/library/myapp", digest(12)),
    undefined,
  );
});

Deno.test("a corrupted rejected annotation is reported; readable entries are kept", () => {
  const good = JSON.parse(encodeRejected([], {
    repository: "docker.io/library/myapp",
    digest: DIGEST,
    at: 0,
    reason: "pull-error",
  }))[0];
  const cases: [string, string | undefined, number, boolean][] = [
    ["absent", undefined, 0, false],
    ["not JSON", "][", 0, true],
    ["not a list", "{}", 0, true],
    ["one bad entry", JSON.stringify([good, { ...good, digest: "latest" }]), 1, true],
    ["bad time", JSON.stringify([{ ...good, at: "soon" }]), 0, true],
    ["all good", JSON.stringify([good]), 1, false],
  ];
  for (const [name, text, count, error] of cases) {
    const got = decodeRejected(text);
    assert.equal(got.value.length, count, name);
    assert.equal(got.error !== undefined, error, name);
    if (got.error) assert.match(got.error, new RegExp(`^${REJECTED_ANNOTATION}`), name);
  }
});

Deno.test("per-container digests and what ran survive the annotation and carry over", () => {
  const ran = digest(0xa0);
  const w = workload({});
  const started = startRecord(w, {
    changes: [
      { container: w.containers[1], to: "myapp:1.2.4", digest: digest(1), ran },
      { container: w.containers[2], to: "proxy:2", digest: digest(2) },
    ],
    push,
    now: 0,
    timeoutMs: 1,
  });
  assert.deepEqual(decodeRollout(encodeRollout(started)).value, started);
  assert.deepEqual(started.containers.map((c) => [c.name, c.digest, c.ran]), [
    ["app", digest(1), ran],
    ["sidecar", digest(2), undefined],
  ]);
  // A newer image while in progress: what ran before the first rollout is kept.
  const next = startRecord(
    workload({ app: "myapp:1.2.4" }, { [ROLLOUT_ANNOTATION]: encodeRollout(started) }),
    {
      changes: [{
        container: workload({ app: "myapp:1.2.4" }).containers[1],
        to: "myapp:1.2.5",
        digest: digest(3),
        ran: digest(1),
      }],
      push,
      now: 1,
      timeoutMs: 1,
    },
  );
  assert.deepEqual(next.containers[0], {
    section: "containers",
    index: 0,
    name: "app",
    from: "myapp:1.2.3",
    to: "myapp:1.2.5",
    digest: digest(3),
    ran,
  });
  const bad = encodeRollout(started).replace(ran, "sha256:nope");
  assert.equal(
    decodeRollout(bad).error,
    "argoos.io/rollout: a container digest is not a sha256 digest",
  );
});

Deno.test("failedDigests: the named container's own digest, else every container's", () => {
  const two: RolloutRecord = {
    containers: [
      {
        section: "containers",
        index: 0,
        name: "app",
        from: "r/app:1",
        to: "r/app:2",
        digest: digest(1),
      },
      {
        section: "containers",
        index: 1,
        name: "side",
        from: "r/side:1",
        to: "r/side:2",
        digest: digest(2),
      },
    ],
    push: { repository: "docker.io/r/app", tag: "2", digest: digest(1), pushedAt: 0 },
    startedAt: 0,
  };
  const app = { repository: "docker.io/r/app", tag: "2", digest: digest(1) };
  const side = { repository: "docker.io/r/side", tag: "2", digest: digest(2) };
  const cases: [string, RolloutRecord, string | undefined, unknown[]][] = [
    ["a crash loop in side", two, "side", [side]],
    ["a pull error in app", two, "app", [app]],
    ["the deadline: names none", two, undefined, [app, side]],
    ["a name the rollout did not change: all", two, "other", [app, side]],
    // Written before per-container digests: the push's digest stands for its repository only.
    [
      "an older record",
      {
        ...two,
        containers: two.containers.map(({ digest: _, ...c }) => c),
      },
      undefined,
      [app],
    ],
    [
      "a pinned reference carries its digest",
      {
        ...two,
        containers: [{ ...two.containers[1], to: `r/side:2@${digest(9)}`, digest: undefined }],
      },
      "side",
      [{ ...side, digest: digest(9) }],
    ],
  ];
  for (const [name, r, container, want] of cases) {
    assert.deepEqual(failedDigests(r, container), want, name);
  }
});

Deno.test("revertTarget: a tag that moved is pinned to what ran; otherwise the reference stays", () => {
  const ran = digest(0xa);
  const moved = digest(0xb);
  const cases: [string, string, string | undefined, string | undefined, string][] = [
    ["the tag moved", "app:latest", ran, moved, `app:latest@${ran}`],
    ["the tag still names what ran", "app:latest", ran, ran, "app:latest"],
    ["the registry could not say", "reg:5000/app:1.0", ran, undefined, `reg:5000/app:1.0@${ran}`],
    ["what ran is unknown", "app:latest", undefined, moved, "app:latest"],
    ["already a digest", `app:1@${ran}`, ran, moved, `app:1@${ran}`],
    ["no tag (latest)", "app", ran, moved, `app@${ran}`],
    ["not a reference", "::", ran, moved, "::"],
  ];
  for (const [name, from, r, now, want] of cases) {
    assert.equal(revertTarget(from, r, now), want, name);
  }
});
