/**
 * Versions as the update policies understand them: semantic versioning 2.0 tags, also with a
 * leading "v" or without the patch part, ordered by semver precedence.
 *
 * @module
 */

/** A tag read as a version. */
export interface Version {
  /** Major number. */
  major: number;
  /** Minor number. */
  minor: number;
  /** Patch number (0 when the tag has none). */
  patch: number;
  /** Pre-release identifiers, numeric ones as numbers; empty for a stable version. */
  prerelease: readonly (string | number)[];
  /** The original tag text. */
  tag: string;
}

const NUMBER = "0|[1-9]\\d*";
const PRERELEASE_ID = `${NUMBER}|\\d*[a-zA-Z-][0-9a-zA-Z-]*`;
const VERSION_RE = new RegExp(
  `^v?(${NUMBER})\\.(${NUMBER})(?:\\.(${NUMBER}))?` +
    `(?:-((?:${PRERELEASE_ID})(?:\\.(?:${PRERELEASE_ID}))*))?` +
    `(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?$`,
);
const NUMERIC_ID = /^\d+$/;
const NO_PRERELEASE: readonly (string | number)[] = Object.freeze([]);

/**
 * Reads a tag as a version, or returns undefined when it is not one (words, dates, leading
 * zeros, four parts, numbers beyond the safe integer range).
 *
 * @example
 * ```ts
 * import { parseVersion } from "./version.ts";
 * parseVersion("v1.2"); // { major: 1, minor: 2, patch: 0, prerelease: [], tag: "v1.2" }
 * parseVersion("1.3.0-rc.1")?.prerelease; // ["rc", 1]
 * parseVersion("latest"); // undefined
 * parseVersion("01.2.3"); // undefined
 * ```
 */
export function parseVersion(tag: string): Version | undefined {
  const m = VERSION_RE.exec(tag);
  if (m === null) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] === undefined ? 0 : Number(m[3]);
  if (
    !Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)
  ) {
    return undefined;
  }
  const prerelease = m[4] === undefined ? NO_PRERELEASE : prereleaseIdentifiers(m[4]);
  if (prerelease === undefined) return undefined;
  return { major, minor, patch, prerelease, tag };
}

/**
 * The identifiers of a pre-release text already matched by the version grammar (`rc.1`), numeric
 * ones as numbers; undefined when a number is beyond the safe integer range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prereleaseIdentifiers } from "./version.ts";
 * assert.deepEqual(prereleaseIdentifiers("rc.10"), ["rc", 10]);
 * ```
 */
export function prereleaseIdentifiers(text: string): readonly (string | number)[] | undefined {
  const ids = text.split(".").map((id) => NUMERIC_ID.test(id) ? Number(id) : id);
  return ids.some((id) => typeof id === "number" && !Number.isSafeInteger(id)) ? undefined : ids;
}

/**
 * Orders two versions by semver precedence (build metadata ignored): negative when `a` comes
 * first, 0 when they are the same version, positive otherwise. Allocates nothing.
 *
 * @example
 * ```ts
 * import { compareVersions, parseVersion } from "./version.ts";
 * compareVersions(parseVersion("1.2")!, parseVersion("v1.2.0")!); // 0
 * compareVersions(parseVersion("1.3.0-rc.1")!, parseVersion("1.3.0")!); // -1
 * ```
 */
export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  const ap = a.prerelease;
  const bp = b.prerelease;
  // A stable version ranks above its pre-releases.
  if (ap.length === 0) return bp.length === 0 ? 0 : 1;
  if (bp.length === 0) return -1;
  const n = Math.min(ap.length, bp.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(ap[i], bp[i]);
    if (c !== 0) return c;
  }
  return ap.length === bp.length ? 0 : ap.length < bp.length ? -1 : 1;
}

/** Semver 2.0 identifier precedence: numbers numerically, below words, words by code units. */
function compareIdentifiers(a: string | number, b: string | number): number {
  if (a === b) return 0;
  if (typeof a === "number") return typeof b === "number" && b < a ? 1 : -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : 1;
}
