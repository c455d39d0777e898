import assert from "node:assert/strict";
import { parseReference } from "../../lib/image/reference.ts";
import { compareTags, judgeTag } from "../../lib/policy/candidates.ts";
import { considerTags } from "../../lib/policy/decide.ts";
import type { Reason } from "../../lib/policy/policy.ts";
import {
  type ContainerRules,
  ORDER,
  rulesFor,
  SEMVER_RANGE,
  SORT_BY,
  TAG_PATTERN,
} from "../../lib/policy/rules.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The service loads them on first need; these tests call the pure functions directly.
await loadParsers({ semver: true, cron: true });

/** Rules as a workload would write them (label + annotations), through the real validation. */
function rules(label: string, annotations: Record<string, string> = {}): ContainerRules {
  const r = rulesFor({ policyLabel: label, annotations }, "app");
  assert.ok(r.ok, r.ok ? "" : `${r.error.key}: ${r.error.reason}`);
  return r.rules;
}

/** Reasons that admit a listed tag other than the current one. */
const UPDATE_REASONS: ReadonlySet<Reason> = new Set<Reason>(["update", "all-policy"]);

/** Poll: the tag chosen from a listing alone, and every listed tag with its reason. */
function chooseTag(r: ContainerRules, current: string | undefined, tags: readonly string[]) {
  const ref = parseReference(`myapp@sha256:${"a".repeat(64)}`);
  if (current !== undefined) Object.assign(ref, { tag: current, digest: undefined });
  const { candidates, rejected } = considerTags({
    rules: r,
    image: "myapp",
    ref,
    pushes: [],
    listing: tags,
  });
  const reasons = new Map([...rejected, ...candidates].map((c) => [c.tag, c.reason]));
  return {
    tag: candidates.find((c) => c.tag !== current)?.tag,
    considered: tags.map((tag) => ({ tag, reason: reasons.get(tag) })),
  };
}

const SIG = `sha256-${"ab".repeat(32)}`;
const CI = {
  [TAG_PATTERN]: "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$",
  [SORT_BY]: "ts",
  [ORDER]: "numerical",
};
const LS = {
  [TAG_PATTERN]: "^(?<version>[0-9]+\\.[0-9]+\\.[0-9]+)-ls(?<build>[0-9]+)$",
  [SORT_BY]: "build",
  [ORDER]: "numerical",
};
const CALVER = { [TAG_PATTERN]: "^[0-9]{4}\\.[0-9]+\\.[0-9]+$" };

type Row = [
  name: string,
  label: string,
  annotations: Record<string, string>,
  current: string | undefined,
  candidate: string,
  want: Reason,
];

/** The same move judged under patch, minor and major. */
function acrossPolicies(
  name: string,
  annotations: Record<string, string>,
  current: string,
  candidate: string,
  wants: [patch: Reason, minor: Reason, major: Reason],
): Row[] {
  return (["patch", "minor", "major"] as const).map((
    policy,
    i,
  ) => [`${name} (${policy})`, policy, annotations, current, candidate, wants[i]]);
}

const rows: Row[] = [
  // Variants: kept exactly, compared as versions of their own release.
  ...acrossPolicies("variant: next patch", {}, "1.25.3-alpine", "1.25.4-alpine", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("variant: next minor", {}, "1.25.3-alpine", "1.26.0-alpine", [
    "outside-policy",
    "update",
    "update",
  ]),
  ...acrossPolicies("variant: next major", {}, "1.25.3-alpine", "2.0.0-alpine", [
    "outside-policy",
    "outside-policy",
    "update",
  ]),
  ...acrossPolicies("variant: never to the plain tag", {}, "1.25.3-alpine", "1.26.0", [
    "variant-mismatch",
    "variant-mismatch",
    "variant-mismatch",
  ]),
  ...acrossPolicies("variant: never to another variant", {}, "1.25.3-alpine", "1.25.4-bookworm", [
    "variant-mismatch",
    "variant-mismatch",
    "variant-mismatch",
  ]),
  ...acrossPolicies(
    "variant: alpine3.18 is another variant",
    {},
    "1.25.3-alpine",
    "1.25.4-alpine3.18",
    [
      "variant-mismatch",
      "variant-mismatch",
      "variant-mismatch",
    ],
  ),
  ...acrossPolicies("variant: case matters", {}, "1.25.3-alpine", "1.25.4-Alpine", [
    "variant-mismatch",
    "variant-mismatch",
    "variant-mismatch",
  ]),
  ...acrossPolicies("no variant never moves to a variant", {}, "1.25.3", "1.25.4-alpine", [
    "variant-mismatch",
    "variant-mismatch",
    "variant-mismatch",
  ]),
  ...acrossPolicies("variant: older", {}, "1.25.3-alpine", "1.25.2-alpine", [
    "not-greater",
    "not-greater",
    "not-greater",
  ]),
  ...acrossPolicies("dashed variant", {}, "3.12.1-slim-bookworm", "3.12.2-slim-bookworm", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies(
    "dashed variant, shorter one refused",
    {},
    "3.12.1-slim-bookworm",
    "3.12.2-slim",
    [
      "variant-mismatch",
      "variant-mismatch",
      "variant-mismatch",
    ],
  ),
  // Two- and three-part versions with variants.
  ...acrossPolicies("two parts + variant: next minor", {}, "16.1-alpine", "16.2-alpine", [
    "outside-policy",
    "update",
    "update",
  ]),
  ...acrossPolicies("two parts + variant: three-part patch", {}, "16.1-alpine", "16.1.1-alpine", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies(
    "two parts + variant: same version in three parts",
    {},
    "16.1-alpine",
    "16.1.0-alpine",
    [
      "not-greater",
      "not-greater",
      "not-greater",
    ],
  ),
  ...acrossPolicies("two parts + variant: plain refused", {}, "16.1-alpine", "16.2", [
    "variant-mismatch",
    "variant-mismatch",
    "variant-mismatch",
  ]),
  ...acrossPolicies("v + two parts + variant", {}, "v16.1-alpine", "16.2-alpine", [
    "outside-policy",
    "update",
    "update",
  ]),
  ...acrossPolicies("build counter is a variant of its own", {}, "v0.2.0-ls3", "v0.2.1-ls4", [
    "variant-mismatch",
    "variant-mismatch",
    "variant-mismatch",
  ]),
  // Pre-releases, with and without variants.
  ...acrossPolicies("pre-release word with digits", {}, "1.3.0-RC1", "1.3.0-RC2", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("beta to its release", {}, "1.3.0-beta2", "1.3.0", [
    "update",
    "update",
    "update",
  ]),
  ...acrossPolicies("stable to pre-release (word + digits)", {}, "1.2.3", "1.3.0-beta2", [
    "prerelease-not-allowed",
    "prerelease-not-allowed",
    "prerelease-not-allowed",
  ]),
  ...acrossPolicies(
    "pre-release of a variant to the next",
    {},
    "1.26.0-rc.1-alpine",
    "1.26.0-rc.2-alpine",
    [
      "update",
      "update",
      "update",
    ],
  ),
  ...acrossPolicies(
    "pre-release of a variant to its release",
    {},
    "1.26.0-rc.1-alpine",
    "1.26.0-alpine",
    [
      "update",
      "update",
      "update",
    ],
  ),
  ...acrossPolicies(
    "pre-release of a variant never to the plain release",
    {},
    "1.26.0-rc.1-alpine",
    "1.26.0",
    [
      "variant-mismatch",
      "variant-mismatch",
      "variant-mismatch",
    ],
  ),
  ...acrossPolicies(
    "pre-release of a variant never to a plain pre-release",
    {},
    "1.26.0-rc.1-alpine",
    "1.26.0-rc.2",
    [
      "variant-mismatch",
      "variant-mismatch",
      "variant-mismatch",
    ],
  ),
  ...acrossPolicies(
    "stable variant to a pre-release of it",
    {},
    "1.25.3-alpine",
    "1.26.0-rc.1-alpine",
    [
      "prerelease-not-allowed",
      "prerelease-not-allowed",
      "prerelease-not-allowed",
    ],
  ),
  // Ranges with each policy.
  ["range: patch within", "patch", { [SEMVER_RANGE]: "<1.2.5" }, "1.2.3", "1.2.4", "update"],
  ["range: patch beyond", "patch", { [SEMVER_RANGE]: "<1.2.5" }, "1.2.3", "1.2.5", "outside-range"],
  ["range: minor within", "minor", { [SEMVER_RANGE]: ">=1.4 <2" }, "1.4.0", "1.9.0", "update"],
  [
    "range: minor below",
    "minor",
    { [SEMVER_RANGE]: ">=1.4 <2" },
    "1.2.0",
    "1.3.0",
    "outside-range",
  ],
  [
    "range: current outside, candidate in",
    "minor",
    { [SEMVER_RANGE]: ">=1.4 <2" },
    "1.2.0",
    "1.4.0",
    "update",
  ],
  ["range: major within ^2", "major", { [SEMVER_RANGE]: "^2" }, "1.9.0", "2.1.0", "update"],
  [
    "range: major stops at its bound",
    "major",
    { [SEMVER_RANGE]: "^2" },
    "2.1.0",
    "3.0.0",
    "outside-range",
  ],
  [
    "range: ~ keeps a minor under major",
    "major",
    { [SEMVER_RANGE]: "~2.3" },
    "2.3.0",
    "2.4.0",
    "outside-range",
  ],
  [
    "range: with a variant",
    "minor",
    { [SEMVER_RANGE]: "<1.26" },
    "1.25.3-alpine",
    "1.26.0-alpine",
    "outside-range",
  ],
  [
    "range: variant within",
    "minor",
    { [SEMVER_RANGE]: "^1.25" },
    "1.25.3-alpine",
    "1.26.0-alpine",
    "update",
  ],
  [
    "range: pre-release rule still applies",
    "minor",
    { [SEMVER_RANGE]: "^1.2" },
    "1.3.0-rc.1",
    "1.3.0-rc.2",
    "update",
  ],
  [
    "range: pre-release above the bound",
    "major",
    { [SEMVER_RANGE]: "<2" },
    "2.0.0-rc.1",
    "2.0.0-rc.2",
    "outside-range",
  ],
  ["range: ignored by all", "all", { [SEMVER_RANGE]: "^1" }, "1.2.3", "3.0.0", "all-policy"],
  [
    "range: newest semver within",
    "newest",
    { ...CALVER, [SEMVER_RANGE]: "<2025" },
    "2024.11.28",
    "2024.12.1",
    "update",
  ],
  [
    "range: newest semver beyond",
    "newest",
    { ...CALVER, [SEMVER_RANGE]: "<2025" },
    "2024.11.28",
    "2025.1.0",
    "outside-range",
  ],
  [
    "range: ignored by newest numerical",
    "newest",
    { ...CI, [SEMVER_RANGE]: "<1" },
    "main-1a2b3c4-1",
    "main-1a2b3c4-2",
    "update",
  ],
  // Patterns under each policy.
  [
    "pattern: patch match",
    "patch",
    { [TAG_PATTERN]: "[0-9.]+-alpine" },
    "1.2.3-alpine",
    "1.2.4-alpine",
    "update",
  ],
  [
    "pattern: patch filters",
    "patch",
    { [TAG_PATTERN]: "[0-9.]+" },
    "1.2.3",
    "1.2.4-rc.1",
    "pattern-mismatch",
  ],
  [
    "pattern: minor three parts only",
    "minor",
    { [TAG_PATTERN]: "[0-9]+\\.[0-9]+\\.[0-9]+" },
    "1.2.3",
    "1.3",
    "pattern-mismatch",
  ],
  [
    "pattern: minor match",
    "minor",
    { [TAG_PATTERN]: "[0-9]+\\.[0-9]+\\.[0-9]+" },
    "1.2.3",
    "1.3.0",
    "update",
  ],
  [
    "pattern: major v only",
    "major",
    { [TAG_PATTERN]: "v.*" },
    "v1.0.0",
    "2.0.0",
    "pattern-mismatch",
  ],
  ["pattern: major match", "major", { [TAG_PATTERN]: "v.*" }, "v1.0.0", "v2.0.0", "update"],
  [
    "pattern: all match",
    "all",
    { [TAG_PATTERN]: "main-.*" },
    "latest",
    "main-1a2b3c4",
    "all-policy",
  ],
  [
    "pattern: all filters",
    "all",
    { [TAG_PATTERN]: "main-.*" },
    "latest",
    "pr-12-1a2b3c4",
    "pattern-mismatch",
  ],
  [
    "pattern: all filters a re-push too",
    "all",
    { [TAG_PATTERN]: "main-.*" },
    "latest",
    "latest",
    "pattern-mismatch",
  ],
  ["pattern: newest filters", "newest", CI, "main-1a2b3c4-1", "dev-1a2b3c4-2", "pattern-mismatch"],
  [
    "pattern: longer than a tag never matches",
    "all",
    { [TAG_PATTERN]: "a+" },
    "latest",
    "a".repeat(129),
    "pattern-mismatch",
  ],
  // `all`: any pushed tag, the variant rule still filters.
  ["all: any other version", "all", {}, "1.2.3", "1.0.0", "all-policy"],
  ["all: word after a version", "all", {}, "1.2.3", "latest", "all-policy"],
  ["all: from a word to anything", "all", {}, "latest", "1.2.3-alpine", "all-policy"],
  ["all: pinned by digest only", "all", {}, undefined, "sha-1a2b3c", "all-policy"],
  ["all: variant kept, even backwards", "all", {}, "1.25.3-alpine", "1.24.0-alpine", "all-policy"],
  ["all: variant refused", "all", {}, "1.25.3-alpine", "1.26.0", "variant-mismatch"],
  ["all: word refused on a variant", "all", {}, "1.25.3-alpine", "alpine", "variant-mismatch"],
  ["all: same tag (digest decides)", "all", {}, "latest", "latest", "repushed"],
  // `newest` in each order.
  [
    "newest numerical sort-by: later",
    "newest",
    CI,
    "main-1a2b3c4-1732800000",
    "main-9f9f9f9-1732800100",
    "update",
  ],
  [
    "newest numerical sort-by: earlier",
    "newest",
    CI,
    "main-1a2b3c4-1732800000",
    "main-9f9f9f9-1732799999",
    "not-greater",
  ],
  [
    "newest numerical sort-by: same key",
    "newest",
    CI,
    "main-1a2b3c4-1732800000",
    "main-9f9f9f9-1732800000",
    "not-greater",
  ],
  [
    "newest numerical sort-by: from outside the scheme",
    "newest",
    CI,
    "latest",
    "main-9f9f9f9-1",
    "update",
  ],
  [
    "newest numerical: numbers, not text",
    "newest",
    { [TAG_PATTERN]: "[0-9]+", [ORDER]: "numerical" },
    "99",
    "100",
    "update",
  ],
  [
    "newest numerical: never backwards",
    "newest",
    { [TAG_PATTERN]: "[0-9]+", [ORDER]: "numerical" },
    "100",
    "99",
    "not-greater",
  ],
  [
    "newest numerical: leading zeros",
    "newest",
    { [TAG_PATTERN]: "[0-9]+", [ORDER]: "numerical" },
    "0099",
    "100",
    "update",
  ],
  [
    "newest numerical: beyond float precision",
    "newest",
    { [TAG_PATTERN]: "[0-9]+", [ORDER]: "numerical" },
    "99999999999999999998",
    "99999999999999999999",
    "update",
  ],
  [
    "newest numerical: decimals",
    "newest",
    { [TAG_PATTERN]: "[0-9.]+", [ORDER]: "numerical" },
    "1.5",
    "1.25",
    "not-greater",
  ],
  [
    "newest numerical: equal decimals",
    "newest",
    { [TAG_PATTERN]: "[0-9.]+", [ORDER]: "numerical" },
    "1.5",
    "1.50",
    "not-greater",
  ],
  [
    "newest numerical: decimal to integer",
    "newest",
    { [TAG_PATTERN]: "[0-9.]+", [ORDER]: "numerical" },
    "1.5",
    "2",
    "update",
  ],
  [
    "newest numerical: non-number ignored",
    "newest",
    { [TAG_PATTERN]: "build-(?<n>.+)", [SORT_BY]: "n", [ORDER]: "numerical" },
    "build-12",
    "build-abc",
    "key-not-number",
  ],
  [
    "newest numerical: two dots is not a number",
    "newest",
    { [TAG_PATTERN]: "[0-9.]+", [ORDER]: "numerical" },
    "1",
    "1.2.3",
    "key-not-number",
  ],
  [
    "newest numerical: current not a number",
    "newest",
    { [TAG_PATTERN]: "build-(?<n>.+)", [SORT_BY]: "n", [ORDER]: "numerical" },
    "build-abc",
    "build-3",
    "update",
  ],
  [
    "newest numerical: linuxserver build counter",
    "newest",
    LS,
    "1.2.0-ls12",
    "1.2.1-ls13",
    "update",
  ],
  [
    "newest numerical: linuxserver older build",
    "newest",
    LS,
    "1.2.0-ls12",
    "1.2.0-ls11",
    "not-greater",
  ],
  [
    "newest numerical by group number",
    "newest",
    { [TAG_PATTERN]: "b-([0-9]+)-(.*)", [SORT_BY]: "1", [ORDER]: "numerical" },
    "b-9-x",
    "b-10-a",
    "update",
  ],
  [
    "newest alphabetical sort-by",
    "newest",
    {
      [TAG_PATTERN]: "(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})-.*",
      [SORT_BY]: "d",
      [ORDER]: "alphabetical",
    },
    "2024-05-01-z",
    "2024-05-02-a",
    "update",
  ],
  [
    "newest alphabetical sort-by: earlier",
    "newest",
    {
      [TAG_PATTERN]: "(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})-.*",
      [SORT_BY]: "d",
      [ORDER]: "alphabetical",
    },
    "2024-05-01-a",
    "2024-04-30-z",
    "not-greater",
  ],
  [
    "newest alphabetical whole tag",
    "newest",
    { [TAG_PATTERN]: "RELEASE\\.[0-9TZ-]+", [ORDER]: "alphabetical" },
    "RELEASE.2024-05-01T00-00-00Z",
    "RELEASE.2024-06-01T00-00-00Z",
    "update",
  ],
  [
    "newest alphabetical is code points",
    "newest",
    { [TAG_PATTERN]: "[a-zA-Z]+", [ORDER]: "alphabetical" },
    "b",
    "B",
    "not-greater",
  ],
  [
    "newest semver whole tag: calendar version",
    "newest",
    CALVER,
    "2024.11.28",
    "2024.12.1",
    "update",
  ],
  ["newest semver: no major limit", "newest", CALVER, "2024.11.28", "2025.1.0", "update"],
  ["newest semver: never backwards", "newest", CALVER, "2024.11.28", "2024.11.3", "not-greater"],
  [
    "newest semver: leading zero is not a version",
    "newest",
    { [TAG_PATTERN]: "[0-9.]+" },
    "2024.11.28",
    "2024.12.01",
    "candidate-not-version",
  ],
  [
    "newest semver sort-by",
    "newest",
    { ...LS, [SORT_BY]: "version", [ORDER]: "semver" },
    "1.2.0-ls12",
    "1.3.0-ls1",
    "update",
  ],
  [
    "newest semver sort-by: same version",
    "newest",
    { ...LS, [SORT_BY]: "version", [ORDER]: "semver" },
    "1.2.0-ls12",
    "1.2.0-ls13",
    "not-greater",
  ],
  [
    "newest semver: variant kept",
    "newest",
    { [TAG_PATTERN]: ".*" },
    "1.25.3-alpine",
    "1.26.0",
    "variant-mismatch",
  ],
  [
    "newest semver: pre-release refused from stable",
    "newest",
    { [TAG_PATTERN]: ".*" },
    "1.2.3",
    "1.3.0-rc.1",
    "prerelease-not-allowed",
  ],
  ["newest semver: from outside the scheme", "newest", CALVER, "latest", "2024.11.28", "update"],
  [
    "newest semver: pre-release refused from outside",
    "newest",
    { [TAG_PATTERN]: ".*" },
    "latest",
    "1.3.0-rc.1",
    "prerelease-not-allowed",
  ],
  [
    "newest: sort-by group not in the match",
    "newest",
    { [TAG_PATTERN]: "a-(?<x>[0-9]+)|b-[0-9]+", [SORT_BY]: "x", [ORDER]: "numerical" },
    "a-1",
    "b-5",
    "no-sort-key",
  ],
  ["newest: same tag", "newest", CI, "main-1a2b3c4-1", "main-1a2b3c4-1", "same-image"],
  // Never an image, under every policy.
  ["artifact: signature under all", "all", {}, "latest", `${SIG}.sig`, "artifact"],
  ["artifact: attestation under major", "major", {}, "1.0.0", `${SIG}.att`, "artifact"],
  [
    "artifact: sbom under newest",
    "newest",
    { [TAG_PATTERN]: ".*", [ORDER]: "alphabetical" },
    "a",
    `${SIG}.sbom`,
    "artifact",
  ],
  ["artifact: no suffix", "all", {}, "latest", SIG, "artifact"],
  ["artifact: any suffix", "all", {}, "latest", `${SIG}-x`, "artifact"],
  ["not an artifact: short digest", "all", {}, "latest", "sha256-abc", "all-policy"],
  // Version policies keep their v1 rules.
  ["version policy: same tag", "patch", {}, "1.2.3", "1.2.3", "same-image"],
  ["version policy: pinned by digest only", "minor", {}, undefined, "1.2.4", "current-not-version"],
  ["version policy: current word", "major", {}, "latest", "1.2.4", "current-not-version"],
  ["version policy: candidate word", "major", {}, "1.2.3", "latest", "candidate-not-version"],
];

for (const [name, label, annotations, current, candidate, want] of rows) {
  Deno.test(`judgeTag: ${name}: ${current} -> ${candidate}`, () => {
    assert.equal(judgeTag(rules(label, annotations), current, candidate), want);
  });
}

Deno.test("judgeTag: newest without a pattern (not constructible by rulesFor) takes nothing", () => {
  assert.equal(judgeTag({ policy: "newest" }, "1.0.0", "2.0.0"), "pattern-mismatch");
});

/** Poll: listings, current tag, and the tag chosen. */
const choices: [
  name: string,
  label: string,
  annotations: Record<string, string>,
  current: string | undefined,
  tags: string[],
  want: string | undefined,
][] = [
  ["variant: next alpine, not plain", "patch", {}, "1.25.3-alpine", [
    "1.25.3",
    "1.25.4",
    "1.25.5",
    "1.25.4-alpine",
    "1.25.4-bookworm",
    "1.26.0-alpine",
  ], "1.25.4-alpine"],
  [
    "variant: minor",
    "minor",
    {},
    "1.25.3-alpine",
    ["1.25.4-alpine", "1.26.0-alpine", "1.27.0"],
    "1.26.0-alpine",
  ],
  [
    "plain stays plain",
    "minor",
    {},
    "1.25.3",
    ["1.26.0-alpine", "1.26.0", "1.27.0-bookworm"],
    "1.26.0",
  ],
  ["postgres two-part variant", "minor", {}, "16.1-alpine", [
    "16.2",
    "16.2-alpine",
    "17.0-alpine",
    "16.3-bookworm",
  ], "16.2-alpine"],
  ["form: v two parts", "minor", {}, "v1.2", ["1.3", "v1.3", "v1.3.0", "1.3.0"], "v1.3"],
  ["form: plain two parts", "minor", {}, "1.2", ["v1.3.0", "1.3.0", "v1.3", "1.3"], "1.3"],
  ["form: v three parts", "minor", {}, "v1.2.0", ["1.3", "v1.3", "1.3.0", "v1.3.0"], "v1.3.0"],
  ["form: plain three parts", "minor", {}, "1.2.0", ["v1.3.0", "1.3", "v1.3", "1.3.0"], "1.3.0"],
  [
    "form: with a variant",
    "minor",
    {},
    "16.1-alpine",
    ["16.2.0-alpine", "16.2-alpine"],
    "16.2-alpine",
  ],
  ["form: no match, first in code points", "minor", {}, "v1.2", ["v1.3.0", "1.3.0"], "1.3.0"],
  ["form only among the same version", "minor", {}, "v1.2", ["v1.3", "1.4.0"], "1.4.0"],
  ["range stops at its bound", "major", { [SEMVER_RANGE]: "^2" }, "2.1.0", [
    "2.2.0",
    "2.9.1",
    "3.0.0",
    "3.1.0",
  ], "2.9.1"],
  ["range with a variant", "minor", { [SEMVER_RANGE]: "~1.25" }, "1.25.3-alpine", [
    "1.25.9-alpine",
    "1.26.0-alpine",
  ], "1.25.9-alpine"],
  ["pattern under patch", "patch", { [TAG_PATTERN]: "[0-9]+\\.[0-9]+\\.[0-9]+" }, "1.2.3", [
    "1.2.4",
    "1.2.5-rc.1",
    "1.2.9-alpine",
  ], "1.2.4"],
  ["all: greatest version of the variant", "all", {}, "1.25.3-alpine", [
    "1.25.4-alpine",
    "1.26.0-rc.1-alpine",
    "1.27.0",
    "latest",
  ], "1.26.0-rc.1-alpine"],
  ["all: a word current follows digests only", "all", {}, "latest", ["1.0.0", "main-1"], undefined],
  ["all: pattern filters the poll", "all", { [TAG_PATTERN]: "[0-9]+\\.[0-9]+\\.[0-9]+" }, "1.2.3", [
    "1.3.0",
    "1.4",
  ], "1.3.0"],
  ["newest: CI timestamps", "newest", CI, "main-1a2b3c4-1732800000", [
    "main-1a2b3c4-1732800000",
    "main-5d6e7f8-1732886400",
    "main-0a0a0a0-1732799000",
    "pr-12-9f9f9f9-1732999999",
    "latest",
    `${SIG}.sig`,
  ], "main-5d6e7f8-1732886400"],
  [
    "newest: numerical, not text order",
    "newest",
    { [TAG_PATTERN]: "[0-9]+", [ORDER]: "numerical" },
    "9",
    ["10", "9", "100", "99", "abc"],
    "100",
  ],
  [
    "newest: numerical ignores non-numbers",
    "newest",
    { [TAG_PATTERN]: "build-(?<n>.+)", [SORT_BY]: "n", [ORDER]: "numerical" },
    "build-1",
    ["build-x", "build-2", "build-zz"],
    "build-2",
  ],
  ["newest: equal keys, first in code points", "newest", CI, "main-1a2b3c4-1", [
    "main-bbbbbbb-5",
    "main-aaaaaaa-5",
  ], "main-aaaaaaa-5"],
  ["newest: linuxserver counters", "newest", LS, "1.2.0-ls12", [
    "1.2.0-ls12",
    "1.2.0-ls13",
    "1.2.1-ls14",
    "1.3.0",
    "latest",
  ], "1.2.1-ls14"],
  ["newest: calendar versions", "newest", CALVER, "2024.11.28", [
    "2024.11.3",
    "2024.12.1",
    "2025.1.0",
    "2024.12.01",
  ], "2025.1.0"],
  [
    "newest: alphabetical",
    "newest",
    { [TAG_PATTERN]: "RELEASE\\..*", [ORDER]: "alphabetical" },
    "RELEASE.2024-01-01",
    ["RELEASE.2024-03-01", "RELEASE.2024-02-01"],
    "RELEASE.2024-03-01",
  ],
  ["newest: nothing newer", "newest", CI, "main-1a2b3c4-9", ["main-1a2b3c4-8"], undefined],
];

for (const [name, label, annotations, current, tags, want] of choices) {
  Deno.test(`chooseTag: ${name}`, () => {
    const r = rules(label, annotations);
    const got = chooseTag(r, current, tags);
    assert.equal(got.tag, want);
    assert.deepEqual(got.considered.map((c) => c.tag), tags, "every listed tag, in order");
    const admitted = got.considered.filter((c) =>
      c.reason !== undefined && UPDATE_REASONS.has(c.reason)
    );
    assert.equal(admitted.some((c) => c.tag === want), want !== undefined, "chosen is admitted");
    for (const c of admitted) {
      if (c.tag !== want) {
        assert.ok(compareTags(r, want!, c.tag, current) > 0, `${want} over ${c.tag}`);
      }
    }
    for (let shift = 1; shift < tags.length; shift++) {
      const rotated = [...tags.slice(shift), ...tags.slice(0, shift)];
      assert.equal(chooseTag(r, current, rotated).tag, want, `rotated ${shift}`);
      assert.equal(chooseTag(r, current, [...rotated].reverse()).tag, want, `reversed ${shift}`);
    }
  });
}

Deno.test("chooseTag: considered tags carry their reasons (for argoos plan)", () => {
  const got = chooseTag(rules("minor"), "1.25.3-alpine", [
    "1.26.0-alpine",
    "1.26.0",
    "2.0.0-alpine",
    "latest",
    "1.25.3-alpine",
  ]);
  assert.deepEqual(got, {
    tag: "1.26.0-alpine",
    considered: [
      { tag: "1.26.0-alpine", reason: "update" },
      { tag: "1.26.0", reason: "variant-mismatch" },
      { tag: "2.0.0-alpine", reason: "outside-policy" },
      { tag: "latest", reason: "candidate-not-version" },
      { tag: "1.25.3-alpine", reason: "same-image" },
    ],
  });
});

const orders: [
  name: string,
  label: string,
  annotations: Record<string, string>,
  a: string,
  b: string,
  current: string | undefined,
  want: 1 | -1,
][] = [
  ["versions by precedence", "minor", {}, "1.10.0", "1.9.0", undefined, 1],
  ["version before a word", "all", {}, "1.0.0", "latest", undefined, 1],
  ["words in code-point order", "all", {}, "a", "b", undefined, 1],
  ["same version: current's form", "minor", {}, "v1.3", "1.3.0", "v1.2", 1],
  ["same version: code points without a current", "minor", {}, "1.3", "1.3.0", undefined, 1],
  [
    "newest numerical keys",
    "newest",
    { [TAG_PATTERN]: "[0-9]+", [ORDER]: "numerical" },
    "10",
    "9",
    undefined,
    1,
  ],
  [
    "newest numerical: number before non-number",
    "newest",
    { [TAG_PATTERN]: "(?<n>.+)", [SORT_BY]: "n", [ORDER]: "numerical" },
    "1",
    "x",
    undefined,
    1,
  ],
  [
    "newest alphabetical keys",
    "newest",
    { [TAG_PATTERN]: ".*", [ORDER]: "alphabetical" },
    "b",
    "a",
    undefined,
    1,
  ],
  ["newest semver keys", "newest", { [TAG_PATTERN]: ".*" }, "1.10.0", "1.9.0", undefined, 1],
];

for (const [name, label, annotations, a, b, current, want] of orders) {
  Deno.test(`compareTags: ${name}`, () => {
    const r = rules(label, annotations);
    assert.equal(Math.sign(compareTags(r, a, b, current)), want);
    assert.equal(Math.sign(compareTags(r, b, a, current)), -want, "antisymmetric");
    assert.equal(compareTags(r, a, a, current), 0);
  });
}
