/**
 * The decision as data: candidates from pushes and listings, settled with the registry's
 * answer, for every rule of the spec this touches.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseReference } from "../../lib/image/reference.ts";
import { compareTags, currentTag } from "../../lib/policy/candidates.ts";
import {
  candidatesFor,
  type ContainerFacts,
  decideContainer,
  settle,
} from "../../lib/policy/decide.ts";
import type { Policy } from "../../lib/policy/policy.ts";
import { readState, stateAnnotations } from "../../lib/policy/state.ts";

/** Poll: the tag a container moves to from a listing alone (its own tag excluded). */
function chooseTag(
  policy: Policy,
  current: string | undefined,
  tags: readonly string[],
): string | undefined {
  const ref = current === undefined
    ? parseReference(`myapp@sha256:${"a".repeat(64)}`)
    : parseReference(`myapp:${current.replace(/\+.*/, "")}`);
  if (current !== undefined) ref.tag = current;
  const f: ContainerFacts = { rules: { policy }, image: "myapp", ref, pushes: [], listing: tags };
  return candidatesFor(f).find((c) => c.tag !== currentTag(ref))?.tag;
}

/** A registry listing, unsorted like distribution's readdir order. */
const LISTED = [
  "1.2.4",
  "latest",
  "2.0.0",
  "1.2.10",
  "sha-1a2b3c",
  "1.3.0-rc.1",
  "1.2.3",
  "1.3.0",
  "2.1.0-rc.1",
  "1.2.9",
  "v1.3.1",
  "2024-05-01",
  "1.2.3.4",
  "01.9.9",
  "stable",
  "1.2.11-rc.1",
];

const cases: [
  name: string,
  policy: Policy,
  current: string | undefined,
  tags: readonly string[],
  want: string | undefined,
][] = [
  ["patch: greatest patch, numeric order", "patch", "1.2.3", LISTED, "1.2.10"],
  ["minor: greatest minor, v prefix", "minor", "1.2.3", LISTED, "v1.3.1"],
  ["major: greatest version", "major", "1.2.3", LISTED, "2.0.0"],
  ["all: greatest version above, pre-releases included", "all", "1.2.3", LISTED, "2.1.0-rc.1"],
  ["patch: already greatest", "patch", "1.2.10", LISTED, undefined],
  ["minor: already greatest", "minor", "v1.3.1", LISTED, undefined],
  ["major: already greatest", "major", "2.0.0", LISTED, undefined],
  ["all: already greatest", "all", "2.1.0-rc.1", LISTED, undefined],
  ["patch: plain current to v-prefixed patch", "patch", "1.3.0", LISTED, "v1.3.1"],
  ["minor: newer only in another major", "minor", "2.0.0", LISTED, undefined],
  ["never a downgrade", "major", "3.0.0", LISTED, undefined],
  ["patch: two-part current", "patch", "1.2", LISTED, "1.2.10"],
  ["minor: v-prefixed current", "minor", "v1.2.3", LISTED, "v1.3.1"],
  ["current latest", "major", "latest", LISTED, undefined],
  ["all: current latest (digest following is elsewhere)", "all", "latest", LISTED, undefined],
  ["all: current git sha", "all", "sha-1a2b3c", LISTED, undefined],
  ["current four parts", "patch", "1.2.3.4", LISTED, undefined],
  ["no current tag", "major", undefined, LISTED, undefined],
  ["no current tag under all", "all", undefined, LISTED, undefined],
  ["empty listing", "major", "1.2.3", [], undefined],
  ["only words", "all", "1.2.3", ["latest", "stable", "sha-1", "2024-05-01"], undefined],
  ["only equal precedence", "major", "1.2.0", ["1.2", "v1.2.0", "1.2.0+b"], undefined],
  ["pre-release not offered to stable current", "major", "2.0.0", ["2.1.0-rc.1"], undefined],
  // `all` means one thing: the poll takes a listed pre-release above, as the webhook would.
  ["all: pre-release above a stable current", "all", "2.0.0", ["2.1.0-rc.1"], "2.1.0-rc.1"],
  [
    "all: greatest above, pre-release included",
    "all",
    "1.2.3",
    ["1.3.0-rc.1", "1.2.4"],
    "1.3.0-rc.1",
  ],
  [
    "all: artifact tags are never candidates",
    "all",
    "1.2.3",
    [`sha256-${"a".repeat(64)}.sig`],
    undefined,
  ],
  ["pre-release current to next pre-release", "patch", "1.3.0-rc.1", [
    "1.3.0-rc.2",
    "1.3.0-rc.10",
    "1.3.0-beta",
  ], "1.3.0-rc.10"],
  ["all: pre-release current to greatest above", "all", "2.1.0-rc.1", [
    "2.1.0-rc.2",
    "2.2.0-rc.1",
  ], "2.2.0-rc.1"],
  ["pre-release current prefers release", "patch", "1.3.0-rc.1", [
    "1.3.0-rc.2",
    "1.3.0",
  ], "1.3.0"],
  ["pre-release current to greatest allowed release", "minor", "1.3.0-rc.1", LISTED, "v1.3.1"],
  ["pre-release of another version skipped", "major", "1.3.0-rc.1", [
    "1.3.1-rc.1",
    "1.4.0-rc.1",
  ], undefined],
  ["pre-release below greatest release ignored", "patch", "1.2.3", [
    "1.2.4",
    "1.2.5-rc.1",
  ], "1.2.4"],
  // Spec "Versions": among tags of one version, the current tag's form wins.
  ["equal precedence: current's form wins, order 1", "minor", "1.2.0", [
    "v1.3.0",
    "1.3.0",
    "1.3",
  ], "1.3.0"],
  ["equal precedence: current's form wins, order 2", "minor", "1.2.0", [
    "1.3",
    "1.3.0",
    "v1.3.0",
  ], "1.3.0"],
  ["equal precedence: no form matches, lowest text", "minor", "1.2.0", [
    "v1.3.0",
    "1.3",
    "v1.3",
  ], "1.3"],
  ["build metadata ignored for order", "patch", "1.2.3", ["1.2.4+b.2", "1.2.4+b.10"], "1.2.4+b.10"],
];

for (const [name, policy, current, tags, want] of cases) {
  Deno.test(`chooseTag: ${name}`, () => {
    assert.equal(chooseTag(policy, current, tags), want);
  });
}

Deno.test("chooseTag: result does not depend on listing order", () => {
  const policies: Policy[] = ["patch", "minor", "major", "all"];
  assert.equal(chooseTag("all", "1.2.3", LISTED), "2.1.0-rc.1");
  for (const policy of policies) {
    const want = chooseTag(policy, "1.2.3", LISTED);
    const reversed = [...LISTED].reverse();
    assert.equal(chooseTag(policy, "1.2.3", reversed), want, `${policy} reversed`);
    for (let shift = 1; shift < LISTED.length; shift++) {
      const rotated = [...LISTED.slice(shift), ...LISTED.slice(0, shift)];
      assert.equal(chooseTag(policy, "1.2.3", rotated), want, `${policy} rotated ${shift}`);
    }
  }
});

// Settling: what is written once the registry answered, for the rules of "The registry is the
// truth", "`all`" and "What is written".
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

function facts(policy: Policy, image: string, more: Partial<ContainerFacts> = {}): ContainerFacts {
  return { rules: { policy }, image, ref: parseReference(image), pushes: [], ...more };
}

const settleCases: [
  name: string,
  f: ContainerFacts,
  served: string,
  want: { to?: string; reason: string },
][] = [
  [
    "identical re-push: pods run the served digest, nothing restarts",
    facts("all", "myapp:latest", { running: D1, pushes: [{ tag: "latest", pushedAt: 5 }] }),
    D1,
    { reason: "same-image" },
  ],
  [
    "re-push while down: pods run D1, registry serves D2, rolled out pinned",
    facts("all", "myapp:latest", {
      running: D1,
      state: { image: "myapp:latest", digest: D1 },
      listing: ["latest"],
    }),
    D2,
    { to: `myapp:latest@${D2}`, reason: "repushed" },
  ],
  [
    "re-push while down, recorded digest stale: pods are the truth",
    facts("all", "myapp:latest", {
      running: D1,
      state: { image: "myapp:latest", digest: D2 },
      listing: ["latest"],
    }),
    D2,
    { to: `myapp:latest@${D2}`, reason: "repushed" },
  ],
  [
    "listed tag, pods unknown, nothing recorded: recorded only",
    facts("all", "myapp:latest", { listing: ["latest"] }),
    D1,
    { reason: "baseline" },
  ],
  [
    "a pinned reference stays pinned (version policy), in its own form",
    facts("patch", "reg.example.com:5000/team/app:1.2.3@" + D1, {
      pushes: [{ tag: "1.2.4", pushedAt: 1 }],
    }),
    D2,
    { to: `reg.example.com:5000/team/app:1.2.4@${D2}`, reason: "update" },
  ],
  [
    "a version policy writes the tag alone, in the workload's form",
    facts("minor", "myapp:1.2.3", { listing: ["1.3.0"] }),
    D2,
    { to: "myapp:1.3.0", reason: "update" },
  ],
];

for (const [name, f, served, want] of settleCases) {
  Deno.test(`settle: ${name}`, () => {
    const [candidate] = candidatesFor(f);
    assert.ok(candidate, "a candidate");
    const got = settle(f, candidate, { digest: served });
    assert.deepEqual({ to: got.to, reason: got.reason }, { to: undefined, ...want });
  });
}

Deno.test("all: the last push wins by push time, and an older push than the recorded one is none", () => {
  const f = facts("all", "myapp:1.0", {
    pushes: [{ tag: "y", pushedAt: 10 }, { tag: "x", pushedAt: 20 }, { tag: "w", pushedAt: 5 }],
  });
  assert.deepEqual(candidatesFor(f).map((c) => c.tag), ["x", "y", "w"]);
  const written = settle(f, candidatesFor(f)[0], { digest: D1 });
  assert.deepEqual(written.state, {
    image: `myapp:x@${D1}`,
    digest: D1,
    pushedAt: 20,
    written: true,
  });
  // Recorded on the workload: x's push time. y, older, is then no candidate, on any replica.
  const after = facts("all", `myapp:x@${D1}`, {
    state: written.state,
    pushes: [{ tag: "y", pushedAt: 10 }, { tag: "x", pushedAt: 20 }],
  });
  assert.deepEqual(candidatesFor(after), []);
});

Deno.test("all: signature, attestation and SBOM tags are never candidates of a push", () => {
  const sig = `sha256-${"a".repeat(64)}.sig`;
  const f = facts("all", "myapp:latest", {
    pushes: [{ tag: "1.0", pushedAt: 1 }, { tag: sig, pushedAt: 2 }, {
      tag: `sha256-${"b".repeat(64)}`,
      pushedAt: 3,
    }],
  });
  assert.deepEqual(candidatesFor(f).map((c) => c.tag), ["1.0"]);
});

Deno.test("all: a pushed pre-release is taken by the webhook as by the poll", () => {
  const pushed = facts("all", "myapp:1.2.3", { pushes: [{ tag: "1.3.0-rc.1", pushedAt: 1 }] });
  const listed = facts("all", "myapp:1.2.3", { listing: ["1.2.3", "1.3.0-rc.1"] });
  assert.equal(candidatesFor(pushed)[0].tag, "1.3.0-rc.1");
  assert.equal(candidatesFor(listed)[0].tag, "1.3.0-rc.1");
});

Deno.test("version policies: a forged greater tag does not hide the real ones behind it", () => {
  const f = facts("patch", "myapp:1.2.3", {
    pushes: [{ tag: "1.2.99999", pushedAt: 2 }, { tag: "1.2.5", pushedAt: 1 }],
    listing: ["1.2.4"],
  });
  // The reconcile asks the registry in this order and takes the first it serves.
  assert.deepEqual(candidatesFor(f).map((c) => c.tag), ["1.2.99999", "1.2.5", "1.2.4"]);
});

Deno.test("compareTags: greatest version first, equal versions by code point", () => {
  const rules = { policy: "major" } as const;
  const sorted = ["1.3", "v1.3.0", "2.0.0", "1.3.0", "latest"].sort((a, b) =>
    compareTags(rules, b, a)
  );
  assert.deepEqual(sorted, ["2.0.0", "1.3", "1.3.0", "v1.3.0", "latest"]);
});

Deno.test("state: written beside what is there, the old annotation read once and dropped", () => {
  const legacy = {
    "argoos.io/digests": JSON.stringify({ app: { image: "a:latest", digest: D1 } }),
  };
  assert.deepEqual(readState(legacy), { app: { image: "a:latest", digest: D1 } });
  const writes = stateAnnotations(legacy, { side: { image: "b:1", pushedAt: 3 } });
  assert.deepEqual(JSON.parse(writes["argoos.io/state"]!), {
    app: { image: "a:latest", digest: D1 },
    side: { image: "b:1", pushedAt: 3 },
  });
  assert.equal(writes["argoos.io/digests"], null);
  const now = { "argoos.io/state": writes["argoos.io/state"]! };
  assert.deepEqual(stateAnnotations(now, { side: { image: "b:1", pushedAt: 3 } }), {});
  assert.deepEqual(readState({ "argoos.io/state": "not json" }), {});
});

Deno.test("decideContainer: candidates shared by containers with the same inputs, apart when any differs", () => {
  const listing = ["1.2.3", "1.2.4", "1.3.0", "2.0.0", "latest"];
  const facts = (over: Partial<ContainerFacts> = {}): ContainerFacts => ({
    // A rules object per workload, as rulesOf gives: equal content shares the answer.
    rules: { policy: "minor" },
    image: "myapp:1.2.3",
    ref: parseReference("myapp:1.2.3"),
    pushes: [],
    listing,
    ...over,
  });
  /** The candidate the decision asks about first (pods known: the current tag is asked too). */
  const first = (f: ContainerFacts) => {
    const step = decideContainer({ ...f, podsRead: true }, new Map());
    return "ask" in step ? step.ask : undefined;
  };
  const asked = first(facts());
  assert.equal(asked?.tag, "1.3.0");
  assert.equal(first(facts()), asked, "the same inputs: one answer, computed once");
  assert.ok(Object.isFrozen(asked), "shared, so not writable");
  // Each input the answer depends on keeps answers apart.
  assert.equal(first(facts({ rules: { policy: "major" } }))?.tag, "2.0.0");
  assert.equal(first(facts({ ref: parseReference("myapp:1.3.0") })), undefined);
  assert.equal(first(facts({ pushes: [{ tag: "1.4.0", pushedAt: 5 }] }))?.tag, "1.4.0");
  assert.equal(first(facts({ listing: [...listing, "1.9.0"] }))?.tag, "1.9.0");
  // `all` depends on the push time recorded for what runs: placed by a push, no listed version.
  const all = { policy: "all" as const };
  assert.equal(first(facts({ rules: all }))?.tag, "2.0.0");
  const placed = { image: "myapp:1.2.3", pushedAt: 9 };
  assert.equal(first(facts({ rules: all, state: placed }))?.tag, "1.2.3");
  assert.equal(first(facts({ rules: all }))?.tag, "2.0.0");
  // The same answers as candidatesFor, which is not shared.
  assert.deepEqual(candidatesFor(facts()).map((c) => c.tag), ["1.3.0", "1.2.4"]);
});
