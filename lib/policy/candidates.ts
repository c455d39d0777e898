/**
 * Whether a tag is a candidate for a container, and which of two candidates is preferred: the
 * policy rules of the spec as pure functions, shared by every trigger and `argoos plan`
 * (versions, variants, pre-releases, `argoos.io/tag-pattern`, `argoos.io/semver-range`, `all`,
 * `newest`).
 *
 * @module
 */

import type { Range } from "semver";
import { isArtifactTag } from "../image/artifact.ts";
import type { ImageReference } from "../image/reference.ts";
import { matchTag, type TagPattern } from "./pattern.ts";
import { judgeVersion, type Reason } from "./policy.ts";
import type { ContainerRules } from "./rules.ts";
import { readTag, sameForm, type TagVersion } from "./tag.ts";
import { compareVersions } from "./version.ts";

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

/**
 * Pattern matches by pattern text and tag, shared by every workload with the same pattern (one
 * compiled pattern per workload object, the same text across many), bounded in total: at
 * {@linkcode MATCH_CACHE_LIMIT} entries it starts afresh.
 */
const MATCH_CACHE_LIMIT = 65_536;
const matchCache = new Map<string, Map<string, RegExpExecArray | null>>();
let matchCount = 0;

function match(pattern: TagPattern, tag: string): RegExpExecArray | undefined {
  let cache = matchCache.get(pattern.source);
  if (cache === undefined) matchCache.set(pattern.source, cache = new Map());
  let m = cache.get(tag);
  if (m === undefined) {
    if (matchCount >= MATCH_CACHE_LIMIT) {
      matchCache.clear();
      matchCache.set(pattern.source, cache = new Map());
      matchCount = 0;
    }
    m = matchTag(pattern, tag) ?? null;
    cache.set(tag, m);
    matchCount++;
  }
  return m ?? undefined;
}

/**
 * The tag a container runs: its tag, or `latest` when the reference names neither tag nor
 * digest (as Docker reads it); undefined when it is pinned by digest only. The one place
 * the implicit `latest` rule lives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "../image/reference.ts";
 * import { currentTag } from "./candidates.ts";
 * assert.equal(currentTag(parseReference("nginx")), "latest");
 * assert.equal(currentTag(parseReference("nginx:1.27")), "1.27");
 * assert.equal(currentTag(parseReference("nginx@sha256:" + "a".repeat(64))), undefined);
 * ```
 */
export function currentTag(ref: ImageReference): string | undefined {
  return ref.tag ?? (ref.digest === undefined ? "latest" : undefined);
}

/**
 * Is `candidateTag` a candidate for a container on `current` (see {@linkcode currentTag};
 * undefined: pinned by digest only)? Returns `update` (version policies, `newest`),
 * `all-policy` or `repushed` (`all`: another tag, the same tag to follow its digest), else why
 * not. The same tag is otherwise `same-image`: only `all` follows digests. Tags of signatures,
 * attestations and SBOMs are never candidates. Under `newest` the key compared is the `sortBy`
 * group (else the whole tag) of the pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeTag } from "./candidates.ts";
 * assert.equal(judgeTag({ policy: "minor" }, "1.25.3-alpine", "1.26.0-alpine"), "update");
 * assert.equal(judgeTag({ policy: "minor" }, "1.25.3-alpine", "1.26.0"), "variant-mismatch");
 * assert.equal(judgeTag({ policy: "patch" }, "1.2.3", "1.3.0"), "outside-policy");
 * assert.equal(judgeTag({ policy: "all" }, "latest", "sha-1a2b3c4"), "all-policy");
 * assert.equal(judgeTag({ policy: "all" }, "latest", "latest"), "repushed");
 * assert.equal(judgeTag({ policy: "all" }, "latest", `sha256-${"a".repeat(64)}.sig`), "artifact");
 * ```
 */
export function judgeTag(
  rules: ContainerRules,
  currentTag: string | undefined,
  candidateTag: string,
): Reason {
  if (isArtifactTag(candidateTag)) return "artifact";
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
      // The same version again: whatever its digest, not an update (only `all` follows digests).
      if (candidateTag === currentTag) return "same-image";
      const candidate = read(candidateTag);
      if (candidate === undefined) return "candidate-not-version";
      if (candidate.variant !== current.variant) return "variant-mismatch";
      if (!inRange(rules.range, candidate)) return "outside-range";
      return judgeVersion(rules.policy, current, candidate);
    }
  }
}

function judgeAll(currentTag: string | undefined, candidateTag: string): Reason {
  if (candidateTag === currentTag) return "repushed";
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
  if (candidateTag === currentTag) return "same-image";
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
 * import assert from "node:assert/strict";
 * import { compareTags } from "./candidates.ts";
 * const minor = { policy: "minor" } as const;
 * assert.ok(compareTags(minor, "1.3.0", "1.2.9") > 0);
 * assert.ok(compareTags(minor, "v1.3", "1.3.0", "v1.2") > 0); // the current tag's form
 * assert.ok(compareTags(minor, "1.3", "v1.3.0", "1.2.0") > 0); // else code-point order
 * assert.deepEqual(["1.2.4", "2.0.0", "1.10.0"].sort((a, b) => compareTags(minor, b, a)),
 *   ["2.0.0", "1.10.0", "1.2.4"]);
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
