import assert from "node:assert/strict";
import { chooseTag } from "../../lib/policy/choose.ts";
import type { Policy } from "../../lib/policy/policy.ts";

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
  // v2: under `all` the poll includes pre-releases ("the same push seen by the webhook would
  // have been deployed").
  ["all: greatest version above, pre-releases included", "all", "1.2.3", LISTED, "2.1.0-rc.1"],
  ["all: greatest stable when no pre-release above", "all", "1.2.3", ["1.2.4", "2.0.0"], "2.0.0"],
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
  ["all: pre-release offered to stable (v2)", "all", "2.0.0", ["2.1.0-rc.1"], "2.1.0-rc.1"],
  ["pre-release current to next pre-release", "patch", "1.3.0-rc.1", [
    "1.3.0-rc.2",
    "1.3.0-rc.10",
    "1.3.0-beta",
  ], "1.3.0-rc.10"],
  ["all: pre-release current to greatest pre-release (v2)", "all", "2.1.0-rc.1", [
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
  // v2: same version, the current tag's form wins, else the first in code-point order.
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
