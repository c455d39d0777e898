/**
 * The rules one container is judged by: the workload's policy label refined by the annotations
 * `argoos.io/tag-pattern`, `argoos.io/sort-by`, `argoos.io/order` and `argoos.io/semver-range`,
 * and the gates that decide when (lib/gates), each also in a per-container form
 * (`argoos.io/order.<container>`) that wins over the plain key.
 *
 * @module
 */

import type { Range } from "semver";
import { GATE_ANNOTATIONS, type GateRules, readGateRules, UPDATE_WINDOW } from "../gates/gates.ts";
import { HOLD_ANNOTATION, holdProblem } from "./hold.ts";
import { compilePattern, type TagPattern } from "./pattern.ts";
import { parsePolicy, type Policy, POLICY_LABEL } from "./policy.ts";
import { loadParsers, ParserNotLoadedError, semverRange } from "../parse/on_demand.ts";

/** Only tags matching this regexp (whole tag) are candidates, under every policy. */
export const TAG_PATTERN = "argoos.io/tag-pattern";
/** The pattern group (name or number) `newest` orders by. */
export const SORT_BY = "argoos.io/sort-by";
/** How `newest` orders: {@linkcode Order}. */
export const ORDER = "argoos.io/order";
/** An npm `semver` range versions must be in. */
export const SEMVER_RANGE = "argoos.io/semver-range";

const ANNOTATIONS = [TAG_PATTERN, SORT_BY, ORDER, SEMVER_RANGE, ...GATE_ANNOTATIONS] as const;

/** How `newest` orders candidates: semver precedence, as a number, or by code points. */
export type Order = "semver" | "numerical" | "alphabetical";
const ORDERS: ReadonlySet<string> = new Set<Order>(["semver", "numerical", "alphabetical"]);

/** What a container is judged by. Only `policy` is required; the rest refine it. */
export interface ContainerRules {
  /** The policy of the `argoos.io/policy` label. */
  policy: Policy;
  /** Only tags matching it are candidates. Required by `newest`. */
  pattern?: TagPattern;
  /** The pattern group `newest` orders by (name, or number ≥ 1); the whole tag when absent. */
  sortBy?: string | number;
  /** How `newest` orders; `semver` when absent. */
  order?: Order;
  /** Versions outside it are never candidates (version policies, `newest` in semver order). */
  range?: Range;
  /** The gates its annotations set (the service's defaults fill in the rest). */
  gates?: GateRules;
}

/** Why a workload's label or annotations cannot be used, for the InvalidPolicy report. */
export interface RulesError {
  /** The label or annotation key at fault, as written (`argoos.io/order.web`). */
  key: string;
  /** Its value. */
  value: string;
  /** Why, one line. */
  reason: string;
}

/** The inputs of a workload's rules (a `Workload` from the cache has them). */
export interface RulesSource {
  /** The `argoos.io/policy` label value. */
  policyLabel: string;
  /** The workload's annotations. */
  annotations: Readonly<Record<string, string>>;
}

/**
 * Load the parsers the rules of these workloads need (`semver` for a range, `cron-parser` for
 * an update window), before {@linkcode rulesFor} or {@linkcode rulesOf} reads them; undefined
 * when they name neither, so the common case waits for nothing. See lib/parse/on_demand.ts.
 *
 * @example
 * ```ts
 * import { loadParsersFor, rulesFor } from "./rules.ts";
 * const w = { policyLabel: "minor", annotations: { "argoos.io/semver-range": "^1" } };
 * await loadParsersFor([w]);
 * rulesFor(w, "app").ok; // true
 * loadParsersFor([{ annotations: { "argoos.io/min-age": "1h" } }]); // undefined: nothing to load
 * ```
 */
export function loadParsersFor(
  sources: Iterable<Pick<RulesSource, "annotations">>,
): Promise<void> | undefined {
  let semver = false;
  let cron = false;
  for (const { annotations } of sources) {
    for (const key in annotations) {
      if (key === SEMVER_RANGE || key.startsWith(`${SEMVER_RANGE}.`)) semver = true;
      else if (key === UPDATE_WINDOW || key.startsWith(`${UPDATE_WINDOW}.`)) cron = true;
    }
  }
  return semver || cron ? loadParsers({ semver, cron }) : undefined;
}

/** The result of {@linkcode rulesFor}. */
export type RulesResult = { ok: true; rules: ContainerRules } | { ok: false; error: RulesError };

/**
 * The rules for one container of a workload, or the first error (label, then the annotations in
 * the order of the spec's table). Pure; compiles the pattern, so callers keep the result for
 * the life of the workload's resourceVersion rather than calling it per tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rulesFor } from "./rules.ts";
 * const r = rulesFor({
 *   policyLabel: "newest",
 *   annotations: {
 *     "argoos.io/tag-pattern": "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$",
 *     "argoos.io/sort-by": "ts",
 *     "argoos.io/order": "numerical",
 *   },
 * }, "app");
 * assert.equal(r.ok ? r.rules.order : r.error.reason, "numerical");
 * assert.deepEqual(rulesFor({ policyLabel: "newest", annotations: {} }, "app"), {
 *   ok: false,
 *   error: {
 *     key: "argoos.io/tag-pattern",
 *     value: "",
 *     reason: "newest needs a pattern to know which tags to order",
 *   },
 * });
 * ```
 */
export function rulesFor(source: RulesSource, containerName: string): RulesResult {
  const policy = parsePolicy(source.policyLabel);
  if (policy === undefined) {
    return fail(
      POLICY_LABEL,
      source.policyLabel,
      "unknown policy (patch, minor, major, all or newest)",
    );
  }
  const value = (key: string) => {
    const own = `${key}.${containerName}`;
    const v = source.annotations[own];
    return v !== undefined ? { key: own, value: v } : { key, value: source.annotations[key] };
  };
  const rules: ContainerRules = { policy };

  const pattern = value(TAG_PATTERN);
  if (pattern.value !== undefined) {
    const compiled = compilePattern(pattern.value);
    if (typeof compiled === "string") return fail(pattern.key, pattern.value, compiled);
    rules.pattern = compiled;
  } else if (policy === "newest") {
    return fail(pattern.key, "", "newest needs a pattern to know which tags to order");
  }

  const sortBy = value(SORT_BY);
  if (sortBy.value !== undefined) {
    const group = sortGroup(rules.pattern, sortBy.value);
    if ("error" in group) return fail(sortBy.key, sortBy.value, group.error);
    rules.sortBy = group.group;
  }

  const order = value(ORDER);
  if (order.value !== undefined) {
    if (!ORDERS.has(order.value)) {
      return fail(order.key, order.value, "unknown order (semver, numerical or alphabetical)");
    }
    rules.order = order.value as Order;
  }

  const range = value(SEMVER_RANGE);
  if (range.value !== undefined) {
    if (range.value.trim() === "") return fail(range.key, range.value, "empty range");
    try {
      // Pre-releases are governed by the pre-release rule; the range only bounds the release.
      rules.range = semverRange(range.value, { includePrerelease: true });
    } catch (err) {
      if (err instanceof ParserNotLoadedError) throw err;
      return fail(range.key, range.value, "not a semver range (e.g. ~1.2, ^2, >=1.4 <2)");
    }
  }

  const gates = readGateRules(value);
  if ("reason" in gates) return { ok: false, error: gates };
  if (Object.keys(gates).length > 0) rules.gates = gates;
  return { ok: true, rules };
}

/**
 * Every problem that would keep a workload's containers from being judged: the errors of
 * {@linkcode rulesFor} for each container, and per-container keys naming no container (a typo
 * there would otherwise be silently ignored). One entry per key at fault.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateWorkload } from "./rules.ts";
 * assert.deepEqual(
 *   validateWorkload(
 *     { policyLabel: "minor", annotations: { "argoos.io/order.wbe": "numerical" } },
 *     ["web"],
 *   ),
 *   [{ key: "argoos.io/order.wbe", value: "numerical", reason: "names no container of the workload" }],
 * );
 * ```
 */
export function validateWorkload(
  source: RulesSource,
  containerNames: readonly string[],
): readonly RulesError[] {
  return judgeWorkload(source, containerNames).errors;
}

/** Every container's rules of one workload, and what is wrong with its label and annotations. */
export interface WorkloadRules {
  /** Rules by container name; empty when `errors` is not (the workload is then left alone). */
  rules: ReadonlyMap<string, ContainerRules>;
  /** See {@linkcode validateWorkload}. */
  errors: readonly RulesError[];
}

/** A cached workload's rules, computed once per workload object (one per resourceVersion). */
const cached = new WeakMap<object, WorkloadRules>();

/**
 * Rules by what they are read from (label, container names, rule annotations): most workloads
 * share theirs (no rule annotation, one policy), and 10,000 copies of the same rules cost about
 * 2.5 MB. Bounded: emptied when full, which only loses the sharing.
 */
const shared = new Map<string, WorkloadRules>();
const MAX_SHARED = 1_000;

/**
 * The rules of every container of a workload as read from the cache, computed once per
 * workload object: the cache holds one object per resourceVersion, so patterns compile once per
 * change of the workload, and the entry goes when the cache lets go of the object (bounded by
 * the live workloads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rulesOf } from "./rules.ts";
 * const w = {
 *   policyLabel: "minor",
 *   annotations: { "argoos.io/tag-pattern": "^[0-9.]+-alpine$" },
 *   containers: [{ name: "web" }],
 * };
 * assert.equal(rulesOf(w).rules.get("web")?.pattern?.source, "^[0-9.]+-alpine$");
 * assert.equal(rulesOf(w), rulesOf(w));
 * assert.equal(rulesOf({ ...w, policyLabel: "weekly" }).errors[0].key, "argoos.io/policy");
 * ```
 */
export function rulesOf(
  workload: RulesSource & { containers: readonly { name: string }[] },
): WorkloadRules {
  let r = cached.get(workload);
  if (r === undefined) {
    const names = workload.containers.map((c) => c.name);
    const inputs = ruleInputs(workload, names);
    r = shared.get(inputs);
    if (r === undefined) {
      r = judgeWorkload(workload, names);
      if (shared.size >= MAX_SHARED) shared.clear();
      shared.set(inputs, r);
    }
    cached.set(workload, r);
  }
  return r;
}

/** Everything {@linkcode judgeWorkload} reads, as one text. */
function ruleInputs(source: RulesSource, containerNames: readonly string[]): string {
  const read: string[] = [];
  for (const [key, value] of Object.entries(source.annotations)) {
    if (key === HOLD_ANNOTATION || ANNOTATIONS.some((a) => key === a || key.startsWith(`${a}.`))) {
      read.push(key, value);
    }
  }
  return JSON.stringify([source.policyLabel, containerNames, read]);
}

function judgeWorkload(source: RulesSource, containerNames: readonly string[]): WorkloadRules {
  const errors = new Map<string, RulesError>(); // bounded by the workload's annotation count
  const rules = new Map<string, ContainerRules>(); // one per container
  for (const name of containerNames) {
    const r = rulesFor(source, name);
    if (r.ok) rules.set(name, r.rules);
    else if (!errors.has(r.error.key)) errors.set(r.error.key, r.error);
  }
  const hold = source.annotations[HOLD_ANNOTATION];
  const holdError = hold === undefined ? undefined : holdProblem(hold);
  if (holdError) {
    errors.set(HOLD_ANNOTATION, { key: HOLD_ANNOTATION, value: hold!, reason: holdError });
  }
  const names = new Set(containerNames);
  for (const [key, value] of Object.entries(source.annotations)) {
    for (const base of ANNOTATIONS) {
      if (!key.startsWith(`${base}.`)) continue;
      const container = key.slice(base.length + 1);
      if (!names.has(container) && !errors.has(key)) {
        errors.set(key, { key, value, reason: `names no container of the workload` });
      }
    }
  }
  return { rules: errors.size === 0 ? rules : new Map(), errors: [...errors.values()] };
}

/** The group a sort-by value names in the pattern, or why it names none. */
function sortGroup(
  pattern: TagPattern | undefined,
  value: string,
): { group: string | number } | { error: string } {
  if (pattern === undefined) return { error: `names a group, but there is no ${TAG_PATTERN}` };
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= pattern.groupCount) return { group: n };
    return { error: `the pattern has no group ${value} (it has ${pattern.groupCount})` };
  }
  if (pattern.groupNames.includes(value)) return { group: value };
  return { error: `the pattern has no group named "${value}"` };
}

function fail(key: string, value: string, reason: string): RulesResult {
  return { ok: false, error: { key, value, reason } };
}
