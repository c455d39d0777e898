import assert from "node:assert/strict";
import { formatReference } from "../../lib/image/reference.ts";
import { currentTag, judgeTag } from "../../lib/policy/candidates.ts";
import { candidatesFor, settle } from "../../lib/policy/decide.ts";
import {
  judgeVersion,
  parsePolicy,
  type Policy,
  POLICY_LABEL,
  type Reason,
  type VersionPolicy,
} from "../../lib/policy/policy.ts";
import { compareVersions, parseVersion, type Version } from "../../lib/policy/version.ts";

/** What the container's image names now. */
interface Current {
  tag?: string;
  digest?: string;
}

/**
 * One push decided as the reconcile decides it: the candidates of a container given that push,
 * the first settled with the registry's digest. `pinDigest`: whether the reference written
 * (or, with no write, that would be written) carries the digest.
 */
function decidePush(policy: Policy, current: Current, pushed: { tag: string; digest: string }) {
  const ref = { path: "myapp", tag: current.tag, digest: current.digest };
  const f = {
    rules: { policy },
    image: formatReference(ref),
    ref,
    pushes: [{ tag: pushed.tag, pushedAt: 1 }],
  };
  const [candidate] = candidatesFor(f);
  const pinned = policy === "all" || current.digest !== undefined;
  if (!candidate) {
    return {
      update: false,
      reason: judgeTag(f.rules, currentTag(ref), pushed.tag),
      pinDigest: pinned,
    };
  }
  const settled = settle(f, candidate, { digest: pushed.digest });
  return {
    update: settled.to !== undefined,
    reason: settled.reason,
    pinDigest: settled.to === undefined ? pinned : settled.to.includes("@"),
  };
}

const OLD = `sha256:${"a".repeat(64)}`;
const NEW = `sha256:${"b".repeat(64)}`;
const UPDATES: ReadonlySet<Reason> = new Set(["update", "all-policy", "repushed"]);

Deno.test("POLICY_LABEL is the spec's label", () => assert.equal(POLICY_LABEL, "argoos.io/policy"));

const policyValues: [value: string | undefined, want: Policy | undefined][] = [
  ["patch", "patch"],
  ["minor", "minor"],
  ["major", "major"],
  ["all", "all"],
  [undefined, undefined],
  ["", undefined],
  ["Patch", undefined],
  ["MAJOR", undefined],
  [" minor", undefined],
  ["minor ", undefined],
  ["none", undefined],
  ["latest", undefined],
  ["semver", undefined],
];

for (const [value, want] of policyValues) {
  Deno.test(`parsePolicy(${JSON.stringify(value)}) is ${want}`, () => {
    assert.equal(parsePolicy(value), want);
  });
}

/** One webhook case: the push is `pushed` with digest NEW unless a row says otherwise. */
type Row = [
  name: string,
  policy: Policy,
  current: Current,
  pushed: string,
  want: Reason,
  pinDigest?: boolean,
  pushedDigest?: string,
];

const VERSION_POLICIES: readonly VersionPolicy[] = ["patch", "minor", "major"];

/** The same move judged under patch, minor and major, with the reason each gives. */
function acrossPolicies(
  name: string,
  current: string,
  pushed: string,
  reasons: [patch: Reason, minor: Reason, major: Reason],
): Row[] {
  return VERSION_POLICIES.map((policy, i) => [name, policy, { tag: current }, pushed, reasons[i]]);
}

const rows: Row[] = [
  // The table.
  ...acrossPolicies("patch step", "1.2.3", "1.2.4", ["update", "update", "update"]),
  ...acrossPolicies("patch jump", "1.2.3", "1.2.10", ["update", "update", "update"]),
  ...acrossPolicies("minor step", "1.2.3", "1.3.0", ["outside-policy", "update", "update"]),
  ...acrossPolicies("minor step, lower patch", "1.2.9", "1.3.0", [
    "outside-policy",
    "update",
    "update",
  ]),
  ...acrossPolicies("major step", "1.2.3", "2.0.0", [
    "outside-policy",
    "outside-policy",
    "update",
  ]),
  ...acrossPolicies("major jump", "1.2.3", "10.0.0", [
    "outside-policy",
    "outside-policy",
    "update",
  ]),
  ...acrossPolicies("from 0.x", "0.1.0", "0.1.1", ["update", "update", "update"]),
  ...acrossPolicies("0.x minor", "0.1.0", "0.2.0", ["outside-policy", "update", "update"]),
  // Never a downgrade, never an equal version.
  ...acrossPolicies("late older patch (1.2.5 running, 1.2.4 pushed)", "1.2.5", "1.2.4", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("older minor", "1.3.0", "1.2.9", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("older major", "2.0.0", "1.9.9", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("equal: two parts", "1.2.0", "1.2", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("equal: v prefix", "1.2.0", "v1.2.0", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("equal: v and two parts", "v1.2", "1.2.0", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("equal: build metadata", "1.2.3", "1.2.3+build.5", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  // v prefixes and two-part versions are versions.
  ...acrossPolicies("v prefix to plain", "v1.2.3", "1.2.4", ["update", "update", "update"]),
  ...acrossPolicies("plain to v prefix", "1.2.4", "v1.2.5", ["update", "update", "update"]),
  ...acrossPolicies("two parts to patch", "1.2", "1.2.1", ["update", "update", "update"]),
  ...acrossPolicies("two parts to two parts", "1.2", "1.3", ["outside-policy", "update", "update"]),
  ...acrossPolicies("build metadata greater", "1.2.3+a", "1.2.4+b", ["update", "update", "update"]),
  // Current tag must be a version.
  ...acrossPolicies("current latest", "latest", "1.2.4", [
    "current-not-version",
    "current-not-version",
    "current-not-version",
  ]),
  ...acrossPolicies("current word", "stable", "1.2.4", [
    "current-not-version",
    "current-not-version",
    "current-not-version",
  ]),
  ...acrossPolicies("current date", "2024-05-01", "2024-05-02", [
    "current-not-version",
    "current-not-version",
    "current-not-version",
  ]),
  ...acrossPolicies("current four parts", "1.2.3.4", "1.2.4", [
    "current-not-version",
    "current-not-version",
    "current-not-version",
  ]),
  ...acrossPolicies("current leading zero", "01.2.3", "1.2.4", [
    "current-not-version",
    "current-not-version",
    "current-not-version",
  ]),
  ["pinned by digest only", "patch", { digest: OLD }, "1.2.4", "current-not-version", true],
  ["pinned by digest only", "major", { digest: OLD }, "9.0.0", "current-not-version", true],
  ["no tag means latest", "minor", {}, "1.2.4", "current-not-version"],
  ["latest re-pushed", "major", { tag: "latest" }, "latest", "current-not-version"],
  // Candidate must be a version.
  ...acrossPolicies("candidate latest", "1.2.3", "latest", [
    "candidate-not-version",
    "candidate-not-version",
    "candidate-not-version",
  ]),
  ...acrossPolicies("candidate git sha", "1.2.3", "sha-1a2b3c", [
    "candidate-not-version",
    "candidate-not-version",
    "candidate-not-version",
  ]),
  ...acrossPolicies("candidate four parts", "1.2.3", "1.2.3.4", [
    "candidate-not-version",
    "candidate-not-version",
    "candidate-not-version",
  ]),
  ...acrossPolicies("candidate leading zero", "1.2.3", "1.2.04", [
    "candidate-not-version",
    "candidate-not-version",
    "candidate-not-version",
  ]),
  ...acrossPolicies("candidate date", "1.2.3", "2024-05-01", [
    "candidate-not-version",
    "candidate-not-version",
    "candidate-not-version",
  ]),
  // Pre-releases.
  ...acrossPolicies("stable to pre-release of next minor", "1.2.3", "1.3.0-rc.1", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies("stable to pre-release of next patch", "1.2.3", "1.2.4-rc.1", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies("stable to pre-release of next major", "1.2.3", "2.0.0-rc.1", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies("pre-release to next pre-release, same version", "1.3.0-rc.1", "1.3.0-rc.2", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("pre-release numeric order", "1.3.0-rc.2", "1.3.0-rc.10", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("pre-release alpha to beta", "v1.3.0-alpha", "1.3.0-beta", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("pre-release to older pre-release", "1.3.0-rc.2", "1.3.0-rc.1", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("pre-release to pre-release of another patch", "1.3.0-rc.1", "1.3.1-rc.1", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies("pre-release to pre-release of another minor", "1.3.0-rc.1", "1.4.0-rc.1", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies("pre-release to pre-release of another major", "1.3.0-rc.1", "2.0.0-rc.1", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies("pre-release to its release", "1.3.0-rc.1", "1.3.0", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("pre-release to next patch release", "1.3.0-rc.1", "1.3.1", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("pre-release to next minor release", "1.3.0-rc.1", "1.4.0", [
    "outside-policy",
    "update",
    "update",
  ]),
  ...acrossPolicies("pre-release to next major release", "1.3.0-rc.1", "2.0.0", [
    "outside-policy",
    "outside-policy",
    "update",
  ]),
  ...acrossPolicies("release to its own pre-release", "1.3.0", "1.3.0-rc.2", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  // Same tag pushed again under a version policy.
  [
    "patch: same tag, same digest",
    "patch",
    { tag: "1.2.3", digest: NEW },
    "1.2.3",
    "same-image",
    true,
  ],
  ["same tag, digest unknown", "minor", { tag: "1.2.3" }, "1.2.3", "same-image"],
  [
    // The same version again: version policies do not follow digests (only `all` does).
    "major: same tag, new digest",
    "major",
    { tag: "1.2.3", digest: OLD },
    "1.2.3",
    "same-image",
    true,
  ],
  // A pinned digest is kept pinned.
  [
    "patch: pinned tag@digest updated",
    "patch",
    { tag: "1.2.3", digest: OLD },
    "1.2.4",
    "update",
    true,
  ],
  [
    "minor: pinned but outside policy",
    "minor",
    { tag: "1.2.3", digest: OLD },
    "2.0.0",
    "outside-policy",
    true,
  ],
  // all: whatever is pushed; the last push wins, always pinned to the pushed digest.
  ["greater version", "all", { tag: "1.2.3" }, "1.2.4", "all-policy", true],
  ["downgrade", "all", { tag: "1.2.5" }, "1.2.4", "all-policy", true],
  ["major", "all", { tag: "1.2.3" }, "2.0.0", "all-policy", true],
  ["pre-release", "all", { tag: "1.2.3" }, "1.3.0-rc.1", "all-policy", true],
  ["version to word", "all", { tag: "1.2.3" }, "latest", "all-policy", true],
  ["word to version", "all", { tag: "latest" }, "1.2.3", "all-policy", true],
  ["git sha to git sha", "all", { tag: "sha-1a2b3c" }, "sha-4d5e6f", "all-policy", true],
  ["equal precedence, other tag", "all", { tag: "1.2" }, "1.2.0", "all-policy", true],
  [
    "all: pinned workload keeps a digest",
    "all",
    { tag: "1.2.3", digest: OLD },
    "1.2.4",
    "all-policy",
    true,
  ],
  ["digest only", "all", { digest: OLD }, "latest", "all-policy", true],
  ["latest re-pushed, digest unknown", "all", { tag: "latest" }, "latest", "repushed", true],
  ["no tag is latest re-pushed", "all", {}, "latest", "repushed", true],
  ["no tag, other tag pushed", "all", {}, "1.0.0", "all-policy", true],
  // Any other tag is deployed, even with the same content: the last push wins.
  ["digest only, same content pushed", "all", { digest: NEW }, "latest", "all-policy", true],
  ["same content retagged", "all", { tag: "1.2.3", digest: NEW }, "1.2.4", "all-policy", true],
  [
    "all: version re-pushed with new content",
    "all",
    { tag: "1.2.3", digest: OLD },
    "1.2.3",
    "repushed",
    true,
  ],
  [
    "all: same tag, same digest",
    "all",
    { tag: "latest", digest: NEW },
    "latest",
    "same-image",
    true,
  ],
];

for (const [name, policy, current, tag, want, pinDigest = false, digest = NEW] of rows) {
  const running = `${current.tag ?? "<no tag>"}${
    current.digest ? `@${current.digest.slice(7, 11)}…` : ""
  }`;
  Deno.test(`decidePush ${policy}: ${name} (${running} <- ${tag})`, () => {
    assert.deepEqual(decidePush(policy, current, { tag, digest }), {
      update: UPDATES.has(want),
      reason: want,
      pinDigest,
    });
  });
}

const v = (tag: string): Version => {
  const version = parseVersion(tag);
  assert.ok(version, `${tag} is a version`);
  return version;
};

Deno.test("judgeVersion: pushes in any order end on the greatest allowed version", () => {
  const pushes = ["1.2.5", "1.3.0", "1.2.4", "2.0.0", "1.2.6-rc.1", "1.2.3", "v1.2.5"];
  const expected: Record<VersionPolicy, string> = {
    patch: "1.2.5",
    minor: "1.3.0",
    major: "2.0.0",
  };
  for (const policy of VERSION_POLICIES) {
    for (let shift = 0; shift < pushes.length; shift++) {
      const order = [...pushes.slice(shift), ...pushes.slice(0, shift)];
      let running = v("1.2.3");
      for (const tag of order) {
        if (judgeVersion(policy, running, v(tag)) === "update") running = v(tag);
      }
      const where = `${policy} after ${order.join(", ")}`;
      assert.equal(compareVersions(running, v(expected[policy])), 0, where);
    }
  }
});
