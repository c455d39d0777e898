import assert from "node:assert/strict";
import {
  ORDER,
  rulesFor,
  rulesOf,
  type RulesSource,
  SEMVER_RANGE,
  SORT_BY,
  TAG_PATTERN,
  validateWorkload,
} from "../../lib/policy/rules.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The service loads them on first need; these tests call the pure functions directly.
await loadParsers({ semver: true, cron: true });

const TS = "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$";

/** What a row expects: the rules in short, or the key at fault and why. */
type Want =
  | { policy: string; pattern?: string; sortBy?: string | number; order?: string; range?: string }
  | { key: string; reason: RegExp };

const rows: [
  name: string,
  label: string,
  annotations: Record<string, string>,
  container: string,
  want: Want,
][] = [
  ["label alone", "minor", {}, "app", { policy: "minor" }],
  ["newest is a policy", "newest", { [TAG_PATTERN]: TS }, "app", { policy: "newest", pattern: TS }],
  [
    "every refinement",
    "newest",
    {
      [TAG_PATTERN]: TS,
      [SORT_BY]: "ts",
      [ORDER]: "numerical",
    },
    "app",
    { policy: "newest", pattern: TS, sortBy: "ts", order: "numerical" },
  ],
  ["numbered sort-by", "newest", { [TAG_PATTERN]: "^build-([0-9]+)$", [SORT_BY]: "1" }, "app", {
    policy: "newest",
    pattern: "^build-([0-9]+)$",
    sortBy: 1,
  }],
  ["each order: semver", "newest", { [TAG_PATTERN]: ".*", [ORDER]: "semver" }, "app", {
    policy: "newest",
    pattern: ".*",
    order: "semver",
  }],
  ["each order: alphabetical", "newest", { [TAG_PATTERN]: ".*", [ORDER]: "alphabetical" }, "a", {
    policy: "newest",
    pattern: ".*",
    order: "alphabetical",
  }],
  ["range", "minor", { [SEMVER_RANGE]: ">=1.4 <2" }, "app", { policy: "minor", range: ">=1.4 <2" }],
  ["range with v", "patch", { [SEMVER_RANGE]: "~v2.3" }, "app", {
    policy: "patch",
    range: "~v2.3",
  }],
  ["pattern under a version policy", "patch", { [TAG_PATTERN]: ".*-alpine" }, "app", {
    policy: "patch",
    pattern: ".*-alpine",
  }],
  ["other annotations ignored", "major", { "argoos.io/state": "{}", "team": "x" }, "app", {
    policy: "major",
  }],
  // Per-container overrides.
  [
    "override wins for its container",
    "minor",
    {
      [TAG_PATTERN]: ".*-alpine",
      [`${TAG_PATTERN}.web`]: ".*-slim",
    },
    "web",
    { policy: "minor", pattern: ".*-slim" },
  ],
  [
    "override leaves other containers on the plain key",
    "minor",
    {
      [TAG_PATTERN]: ".*-alpine",
      [`${TAG_PATTERN}.web`]: ".*-slim",
    },
    "worker",
    { policy: "minor", pattern: ".*-alpine" },
  ],
  [
    "override alone applies to its container only",
    "newest",
    {
      [`${TAG_PATTERN}.web`]: TS,
      [`${SORT_BY}.web`]: "ts",
      [`${ORDER}.web`]: "numerical",
    },
    "web",
    { policy: "newest", pattern: TS, sortBy: "ts", order: "numerical" },
  ],
  [
    "override of order and range",
    "minor",
    {
      [ORDER]: "alphabetical",
      [`${ORDER}.web`]: "numerical",
      [SEMVER_RANGE]: "^1",
      [`${SEMVER_RANGE}.web`]: "~1.4",
    },
    "web",
    { policy: "minor", order: "numerical", range: "~1.4" },
  ],
  ["a container name is matched exactly", "minor", { [`${ORDER}.Web`]: "numerical" }, "web", {
    policy: "minor",
  }],
  // Every validation failure names the key and why.
  ["unknown policy", "latest", {}, "app", { key: "argoos.io/policy", reason: /unknown policy/ }],
  ["policy is case-sensitive", "Newest", {}, "app", {
    key: "argoos.io/policy",
    reason: /unknown policy/,
  }],
  ["newest without pattern", "newest", {}, "app", { key: TAG_PATTERN, reason: /newest needs/ }],
  [
    "newest: the other container's pattern does not count",
    "newest",
    {
      [`${TAG_PATTERN}.web`]: TS,
    },
    "worker",
    { key: TAG_PATTERN, reason: /newest needs/ },
  ],
  ["pattern does not compile", "all", { [TAG_PATTERN]: "([0-9]+" }, "app", {
    key: TAG_PATTERN,
    reason: /does not compile/,
  }],
  ["pattern that cannot run in linear time", "all", { [TAG_PATTERN]: "(a+)\\1" }, "app", {
    key: TAG_PATTERN,
    reason: /linear time/,
  }],
  ["empty pattern", "all", { [TAG_PATTERN]: "" }, "app", { key: TAG_PATTERN, reason: /empty/ }],
  ["invalid override names its own key", "minor", { [`${TAG_PATTERN}.web`]: "(" }, "web", {
    key: `${TAG_PATTERN}.web`,
    reason: /does not compile/,
  }],
  ["sort-by names a missing group", "newest", { [TAG_PATTERN]: TS, [SORT_BY]: "time" }, "app", {
    key: SORT_BY,
    reason: /no group named "time"/,
  }],
  ["sort-by number beyond the groups", "newest", { [TAG_PATTERN]: TS, [SORT_BY]: "2" }, "app", {
    key: SORT_BY,
    reason: /no group 2 \(it has 1\)/,
  }],
  ["sort-by group 0 is not a group", "newest", { [TAG_PATTERN]: TS, [SORT_BY]: "0" }, "app", {
    key: SORT_BY,
    reason: /no group 0/,
  }],
  ["sort-by without a pattern", "minor", { [SORT_BY]: "ts" }, "app", {
    key: SORT_BY,
    reason: /there is no argoos.io\/tag-pattern/,
  }],
  [
    "sort-by override checked against the container's pattern",
    "newest",
    {
      [TAG_PATTERN]: TS,
      [`${TAG_PATTERN}.web`]: "^([0-9]+)$",
      [`${SORT_BY}.web`]: "ts",
    },
    "web",
    { key: `${SORT_BY}.web`, reason: /no group named "ts"/ },
  ],
  ["unknown order", "newest", { [TAG_PATTERN]: TS, [ORDER]: "numeric" }, "app", {
    key: ORDER,
    reason: /unknown order/,
  }],
  ["order is case-sensitive", "newest", { [TAG_PATTERN]: TS, [ORDER]: "SemVer" }, "app", {
    key: ORDER,
    reason: /unknown order/,
  }],
  ["unparsable range", "minor", { [SEMVER_RANGE]: "one point two" }, "app", {
    key: SEMVER_RANGE,
    reason: /not a semver range/,
  }],
  ["empty range", "minor", { [SEMVER_RANGE]: " " }, "app", {
    key: SEMVER_RANGE,
    reason: /empty range/,
  }],
];

for (const [name, label, annotations, container, want] of rows) {
  Deno.test(`rulesFor: ${name}`, () => {
    const got = rulesFor({ policyLabel: label, annotations }, container);
    if ("key" in want) {
      assert.ok(!got.ok, "invalid");
      assert.equal(got.error.key, want.key);
      assert.match(got.error.reason, want.reason);
      return;
    }
    assert.ok(got.ok, got.ok ? "" : `${got.error.key}: ${got.error.reason}`);
    const r = got.rules;
    assert.deepEqual({
      policy: r.policy,
      pattern: r.pattern?.source,
      sortBy: r.sortBy,
      order: r.order,
      range: r.range?.raw,
    }, { pattern: undefined, sortBy: undefined, order: undefined, range: undefined, ...want });
  });
}

Deno.test("rulesFor: the error carries the value at fault", () => {
  const got = rulesFor({ policyLabel: "minor", annotations: { [ORDER]: "numeric" } }, "app");
  assert.deepEqual(got, {
    ok: false,
    error: {
      key: ORDER,
      value: "numeric",
      reason: "unknown order (semver, numerical or alphabetical)",
    },
  });
});

Deno.test("rulesFor: the range bounds releases, pre-releases are left to the pre-release rule", () => {
  const got = rulesFor({ policyLabel: "minor", annotations: { [SEMVER_RANGE]: "^1.2" } }, "a");
  assert.ok(got.ok);
  assert.ok(got.rules.range!.test("1.3.0-rc.1"));
  assert.ok(!got.rules.range!.test("2.0.0-rc.1"));
});

const valid: RulesSource = {
  policyLabel: "minor",
  annotations: { [TAG_PATTERN]: ".*-alpine", [`${ORDER}.web`]: "numerical" },
};

const validations: [name: string, source: RulesSource, containers: string[], keys: string[]][] = [
  ["valid workload", valid, ["web", "worker"], []],
  ["override for a container that is not there", valid, ["worker"], [`${ORDER}.web`]],
  [
    "one error per key, not per container",
    {
      policyLabel: "minor",
      annotations: { [TAG_PATTERN]: "(" },
    },
    ["a", "b", "c"],
    [TAG_PATTERN],
  ],
  [
    "each container's own error",
    {
      policyLabel: "newest",
      annotations: { [`${TAG_PATTERN}.a`]: "(", [`${TAG_PATTERN}.b`]: TS, [`${SORT_BY}.b`]: "x" },
    },
    ["a", "b"],
    [`${TAG_PATTERN}.a`, `${SORT_BY}.b`],
  ],
  ["bad label", { policyLabel: "none", annotations: {} }, ["a", "b"], ["argoos.io/policy"]],
  [
    "gate annotations: invalid values and a container's key naming none",
    {
      policyLabel: "patch",
      annotations: {
        "argoos.io/min-age": "3 days",
        "argoos.io/update-window.b": "0 2 * * 6",
        "argoos.io/approval.c": "required",
      },
    },
    ["a", "b"],
    ["argoos.io/min-age", "argoos.io/update-window.b", "argoos.io/approval.c"],
  ],
];

Deno.test("rulesFor: a container's gate keys win over the workload's", () => {
  const got = rulesFor({
    policyLabel: "patch",
    annotations: { "argoos.io/approval": "required", "argoos.io/approval.sidecar": "none" },
  }, "sidecar");
  assert.ok(got.ok);
  assert.deepEqual(got.rules.gates, { approval: false });
});

for (const [name, source, containers, keys] of validations) {
  Deno.test(`validateWorkload: ${name}`, () => {
    assert.deepEqual(validateWorkload(source, containers).map((e) => e.key), keys);
  });
}

Deno.test("rulesOf: compiled once per rule annotations, shared by the workloads that have them", () => {
  const w = {
    resourceVersion: "1",
    policyLabel: "newest",
    annotations: { "argoos.io/tag-pattern": "^main-(?<ts>[0-9]+)$", "argoos.io/sort-by": "ts" },
    containers: [{ name: "a" }, { name: "b" }],
  };
  const first = rulesOf(w);
  assert.equal(rulesOf(w), first);
  assert.equal(first.rules.get("a")?.pattern?.source, "^main-(?<ts>[0-9]+)$");
  // A new resourceVersion, or another workload, with the same rules shares them.
  const same = { ...w, resourceVersion: "2", annotations: { ...w.annotations, other: "x" } };
  assert.equal(rulesOf(same), first);
  const changed = {
    ...w,
    resourceVersion: "3",
    annotations: { ...w.annotations, "argoos.io/order": "numerical" },
  };
  const next = rulesOf(changed);
  assert.notEqual(next, first);
  assert.deepEqual([...next.rules.keys()], ["a", "b"]);
  assert.equal(next.rules.get("a")?.order, "numerical");
  // So do other container names and another label.
  assert.notEqual(rulesOf({ ...w, containers: [{ name: "a" }] }), first);
  assert.notEqual(rulesOf({ ...w, policyLabel: "all" }), first);
  // One error anywhere leaves every container without rules.
  const broken = rulesOf({ ...w, annotations: { ...w.annotations, "argoos.io/sort-by.b": "x" } });
  assert.equal(broken.rules.size, 0);
  assert.deepEqual(broken.errors.map((e) => e.key), ["argoos.io/sort-by.b"]);
});
