/**
 * Which tags are updates for a container, and which of them is preferred: the pure decision both
 * triggers and `argoos plan` ask, following every rule of the policy spec (versions, variants,
 * pre-releases, `argoos.io/tag-pattern`, `argoos.io/semver-range`, `all`, `newest`).
 *
 * @module
 */

import type { Range } from "semver";
import { matchTag, type TagPattern } from "./pattern.ts";
import { judgeVersion, type Reason } from "./policy.ts";
import type { ContainerRules } from "./rules.ts";
import { readTag, sameForm, type TagVersion } from "./tag.ts";
import { compareVersions } from "./version.ts";

/** Reasons that make a tag an update (the webhook deploys it; the poll may choose it). */
export const UPDATE_REASONS: ReadonlySet<Reason> = new Set<Reason>(["update", "all-policy"]);

/**
 * Signature, attestation and SBOM tags (`sha256-<64 hex>` with any suffix).
 * TODO(merge with issue 7): main adds `isArtifactTag` in lib/image/artifact.ts; use it instead.
 */
const ARTIFACT_TAG = /^sha256-[0-9a-f]{64}/;

/** Decimal numbers as `numerical` reads them: digits with an optional fraction. */
const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;

/** Tags read once: bounded to this many entries, then started afresh (tags repeat across
 * workloads of one repository and across poll cycles). */
const READ_CACHE_LIMIT = 8192;
const readCache = new Map<string, TagVersion | null>();

function read(tag: string): TagVersion | undefined {
  let v = readCache.get(tag);
  if (v === undefined) {
    if (readCache.size >= READ_CACHE_LIMIT) readCache.clear();
    v = readTag(tag) ?? null;
    readCache.set(tag, v);
  }
  return v ?? undefined;
}

/** Pattern matches per compiled pattern, bounded like the read cache, freed with the pattern. */
const MATCH_CACHE_LIMIT = 4096;
const matchCache = new WeakMap<TagPattern, Map<string, RegExpExecArray | null>>();

function match(pattern: TagPattern, tag: string): RegExpExecArray | undefined {
  let cache = matchCache.get(pattern);
  if (cache === undefined) matchCache.set(pattern, cache = new Map());
  let m = cache.get(tag);
  if (m === undefined) {
    if (cache.size >= MATCH_CACHE_LIMIT) cache.clear();
    m = matchTag(pattern, tag) ?? null;
    cache.set(tag, m);
  }
  return m ?? undefined;
}

/**
 * Is `candidateTag` an update for a container on `currentTag` (undefined: pinned by digest only)?
 * Returns `update` or `all-policy` when it is, else why not. This is the webhook rule; the same
 * tag again is `same-tag` (only a new digest can make it an update, which the caller knows).
 * Under `newest` the key compared is the `sortBy` group (else the whole tag) of the pattern.
 *
 * @example
 * ```ts
 * import { judgeTag } from "./candidates.ts";
 * judgeTag({ policy: "minor" }, "1.25.3-alpine", "1.26.0-alpine"); // "update"
 * judgeTag({ policy: "minor" }, "1.25.3-alpine", "1.26.0"); // "variant-mismatch"
 * judgeTag({ policy: "all" }, "latest", "sha-1a2b3c4"); // "all-policy"
 * ```
 */
export function judgeTag(
  rules: ContainerRules,
  currentTag: string | undefined,
  candidateTag: string,
): Reason {
  if (ARTIFACT_TAG.test(candidateTag)) return "artifact-tag";
  const m = rules.pattern === undefined ? undefined : match(rules.pattern, candidateTag);
  if (m === undefined && (rules.pattern !== undefined || rules.policy === "newest")) {
    return "pattern-mismatch";
  }
  switch (rules.policy) {
    case "all":
      return judgeAll(currentTag, candidateTag);
    case "newest":
      return judgeNewest(rules, currentTag, candidateTag, m!);
    default: {
      const current = currentTag === undefined ? undefined : read(currentTag);
      if (current === undefined) return "current-not-version";
      if (candidateTag === currentTag) return "same-tag";
      const candidate = read(candidateTag);
      if (candidate === undefined) return "candidate-not-version";
      if (candidate.variant !== current.variant) return "variant-mismatch";
      if (!inRange(rules.range, candidate)) return "outside-range";
      return judgeVersion(rules.policy, current, candidate);
    }
  }
}

function judgeAll(currentTag: string | undefined, candidateTag: string): Reason {
  if (candidateTag === currentTag) return "same-tag";
  const current = currentTag === undefined ? undefined : read(currentTag);
  // A word tag has no variant to keep; a non-version candidate has none (it may follow `1.2.3`).
  if (current !== undefined && (read(candidateTag)?.variant ?? "") !== current.variant) {
    return "variant-mismatch";
  }
  return "all-policy";
}

function judgeNewest(
  rules: ContainerRules,
  currentTag: string | undefined,
  candidateTag: string,
  m: RegExpExecArray,
): Reason {
  if (candidateTag === currentTag) return "same-tag";
  const key = keyOf(rules, m);
  if (key === undefined) return "no-sort-key";
  // A current tag outside the scheme (no key) is left for the greatest candidate, as Flux does.
  const currentMatch = currentTag === undefined ? undefined : match(rules.pattern!, currentTag);
  const currentKey = currentMatch === undefined ? undefined : keyOf(rules, currentMatch);
  switch (rules.order ?? "semver") {
    case "numerical": {
      if (!DECIMAL.test(key)) return "key-not-number";
      if (currentKey === undefined || !DECIMAL.test(currentKey)) return "update";
      return compareDecimals(key, currentKey) > 0 ? "update" : "not-greater";
    }
    case "alphabetical":
      return currentKey === undefined || key > currentKey ? "update" : "not-greater";
    case "semver": {
      const candidate = read(key);
      if (candidate === undefined) return "candidate-not-version";
      if (!inRange(rules.range, candidate)) return "outside-range";
      const current = currentKey === undefined ? undefined : read(currentKey);
      if (current === undefined) {
        return candidate.prerelease.length === 0 ? "update" : "prerelease-not-allowed";
      }
      if (candidate.variant !== current.variant) return "variant-mismatch";
      return judgeVersion("major", current, candidate);
    }
  }
}

/**
 * Preference among admitted candidates: positive when `a` is preferred over `b`, negative when
 * `b` is, 0 only for the same tag. `newest` compares keys by its order; the other policies
 * compare versions by precedence (a version before a word). Ties go to the tag written in the
 * current tag's form (`v` prefix, two or three parts), then to the first in code-point order, so
 * the choice never depends on listing order. (Under `all` the webhook's last push wins by push
 * time, which the caller knows; this order serves the poll.)
 *
 * @example
 * ```ts
 * import { compareTags } from "./candidates.ts";
 * compareTags({ policy: "minor" }, "1.3.0", "1.2.9") > 0; // true
 * compareTags({ policy: "minor" }, "v1.3", "1.3.0", "v1.2") > 0; // true: same form as current
 * compareTags({ policy: "minor" }, "1.3", "v1.3.0", "1.2.0") > 0; // true: code-point order
 * ```
 */
export function compareTags(
  rules: ContainerRules,
  a: string,
  b: string,
  currentTag?: string,
): number {
  if (a === b) return 0;
  const primary = rules.policy === "newest" ? compareKeys(rules, a, b) : compareAsVersions(a, b);
  if (primary !== 0) return primary;
  const current = currentTag === undefined ? undefined : read(currentTag);
  const va = read(a);
  const vb = read(b);
  if (current !== undefined && va !== undefined && vb !== undefined) {
    const fa = sameForm(va, current);
    if (fa !== sameForm(vb, current)) return fa ? 1 : -1;
  }
  return a < b ? 1 : -1;
}

function compareAsVersions(a: string, b: string): number {
  const va = read(a);
  const vb = read(b);
  if (va === undefined || vb === undefined) return va === vb ? 0 : va === undefined ? -1 : 1;
  return compareVersions(va, vb);
}

function compareKeys(rules: ContainerRules, a: string, b: string): number {
  const ma = rules.pattern === undefined ? undefined : match(rules.pattern, a);
  const mb = rules.pattern === undefined ? undefined : match(rules.pattern, b);
  const ka = ma === undefined ? undefined : keyOf(rules, ma);
  const kb = mb === undefined ? undefined : keyOf(rules, mb);
  if (ka === undefined || kb === undefined) return ka === kb ? 0 : ka === undefined ? -1 : 1;
  switch (rules.order ?? "semver") {
    case "numerical": {
      const na = DECIMAL.test(ka);
      const nb = DECIMAL.test(kb);
      return na && nb ? compareDecimals(ka, kb) : na === nb ? 0 : na ? 1 : -1;
    }
    case "alphabetical":
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    case "semver":
      return compareAsVersions(ka, kb);
  }
}

/** One listed tag and what the rules made of it. */
export interface Considered {
  tag: string;
  reason: Reason;
}

/** What {@linkcode chooseTag} chose, and every listed tag with its reason (for `argoos plan`). */
export interface Choice {
  /** The preferred update, or undefined when no listed tag is one. */
  tag: string | undefined;
  /** Each listed tag once, in listing order, with why it is or is not an update. */
  considered: Considered[];
}

/**
 * Poll rule: among listed tags, the preferred update for a container on `currentTag`. Judged as
 * {@linkcode judgeTag} does, except under `all`, which here only moves a version to a greater
 * listed version of its variant (pre-releases included); following a re-pushed tag's digest is
 * the caller's, and a sequence of word tags is followed by the webhook or by `newest`.
 *
 * @example
 * ```ts
 * import { chooseTag } from "./candidates.ts";
 * const tags = ["1.25.3-alpine", "1.25.4", "1.25.4-alpine", "1.26.0-alpine", "latest"];
 * chooseTag({ policy: "patch" }, "1.25.3-alpine", tags).tag; // "1.25.4-alpine"
 * chooseTag({ policy: "minor" }, "1.25.3-alpine", tags).tag; // "1.26.0-alpine"
 * chooseTag({ policy: "minor" }, "1.25.3-alpine", tags).considered[1];
 * // { tag: "1.25.4", reason: "variant-mismatch" }
 * ```
 */
export function chooseTag(
  rules: ContainerRules,
  currentTag: string | undefined,
  tags: readonly string[],
): Choice {
  const considered: Considered[] = []; // one per listed tag: bounded by the listing's cap
  const current = rules.policy === "all" && currentTag !== undefined ? read(currentTag) : undefined;
  let best: string | undefined;
  for (const tag of tags) {
    let reason = judgeTag(rules, currentTag, tag);
    if (reason === "all-policy") reason = pollAll(current, tag);
    considered.push({ tag, reason });
    if (!UPDATE_REASONS.has(reason)) continue;
    if (best === undefined || compareTags(rules, tag, best, currentTag) > 0) best = tag;
  }
  return { tag: best, considered };
}

/** `all` in poll mode: a greater version (the variant was checked by {@linkcode judgeTag}). */
function pollAll(current: TagVersion | undefined, tag: string): Reason {
  if (current === undefined) return "current-not-version";
  const candidate = read(tag);
  if (candidate === undefined) return "candidate-not-version";
  return compareVersions(candidate, current) > 0 ? "update" : "not-greater";
}

/** The key `newest` orders by: the sort-by group, else the whole tag. */
function keyOf(rules: ContainerRules, m: RegExpExecArray): string | undefined {
  const by = rules.sortBy;
  if (by === undefined) return m[0];
  return typeof by === "number" ? m[by] : m.groups?.[by];
}

function inRange(range: Range | undefined, v: TagVersion): boolean {
  if (range === undefined) return true;
  const pre = v.prerelease.length === 0 ? "" : `-${v.prerelease.join(".")}`;
  return range.test(`${v.major}.${v.minor}.${v.patch}${pre}`);
}

/** Orders two {@linkcode DECIMAL} strings exactly (no float rounding of long timestamps). */
function compareDecimals(a: string, b: string): number {
  const [, ia, fa = ""] = DECIMAL.exec(a)!;
  const [, ib, fb = ""] = DECIMAL.exec(b)!;
  const x = ia.replace(/^0+/, "");
  const y = ib.replace(/^0+/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  if (x !== y) return x < y ? -1 : 1;
  const p = fa.replace(/0+$/, "");
  const q = fb.replace(/0+$/, "");
  return p < q ? -1 : p > q ? 1 : 0;
}
