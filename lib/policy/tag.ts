/**
 * Tags read as a version plus a pre-release or a variant (policy spec, "Pre-releases and
 * variants"): `1.25.3-alpine` is version 1.25.3 of variant `alpine`, `1.3.0-rc.1` is a
 * pre-release of 1.3.0, and the form a tag is written in (`v` prefix, two or three parts).
 *
 * @module
 */

import { parseVersion, prereleaseIdentifiers, type Version } from "./version.ts";

/** A version tag split into its release (with pre-release identifiers only), variant and form. */
export interface TagVersion extends Version {
  /** The variant name (`alpine`, `slim-bookworm`); "" for none. Compared exactly. */
  variant: string;
  /** Written with a leading `v`. */
  vPrefix: boolean;
  /** Written with two (`1.2`) or three (`1.2.0`) parts. */
  parts: 2 | 3;
}

/** The spec's pre-release words, case-insensitive, optionally followed by digits; or all digits. */
const PRERELEASE_FIRST =
  /^(?:(?:alpha|beta|rc|pre|preview|dev|snapshot|canary|nightly|next|ea|m)\d*|\d+)$/i;
/** Within a pre-release, a variant starts at a `-` followed by a letter (`rc.1-alpine`). */
const VARIANT_AFTER_PRERELEASE = /-(?=[A-Za-z])/;

/**
 * Reads a tag as a version with its variant and form, or undefined when it is not a version.
 * The text after the version is a pre-release when its first identifier (up to the first `.` or
 * `-`) is a pre-release word or all digits, else the whole text is the variant. A pre-release
 * may itself carry a variant after a `-` and a letter (`1.26.0-rc.1-alpine` is pre-release
 * `rc.1` of variant `alpine`): the spec is silent there, and keeping the variant is what Keel
 * and Renovate users expect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTag } from "./tag.ts";
 * assert.equal(readTag("1.25.3-alpine")?.variant, "alpine");
 * assert.deepEqual(readTag("1.25.3-alpine")?.prerelease, []);
 * assert.deepEqual(readTag("v1.3-RC2")?.prerelease, ["RC2"]);
 * assert.equal(readTag("1.26.0-rc.1-alpine")?.variant, "alpine");
 * assert.equal(readTag("latest"), undefined);
 * ```
 */
export function readTag(tag: string): TagVersion | undefined {
  const version = parseVersion(tag);
  if (version === undefined) return undefined;
  const vPrefix = tag.startsWith("v");
  const coreEnd = tag.search(/[-+]/);
  const core = tag.slice(vPrefix ? 1 : 0, coreEnd === -1 ? undefined : coreEnd);
  const parts = core.indexOf(".") === core.lastIndexOf(".") ? 2 : 3;
  if (version.prerelease.length === 0) return { ...version, variant: "", vPrefix, parts };
  const plus = tag.indexOf("+");
  const text = tag.slice(coreEnd + 1, plus === -1 ? undefined : plus);
  const first = /^[^.-]*/.exec(text)![0];
  if (!PRERELEASE_FIRST.test(first)) {
    return { ...version, prerelease: [], variant: text, vPrefix, parts };
  }
  const rest = text.slice(first.length);
  const cut = rest.search(VARIANT_AFTER_PRERELEASE);
  if (cut === -1) return { ...version, variant: "", vPrefix, parts };
  // The identifiers were validated by parseVersion; a prefix of them stays valid.
  const prerelease = prereleaseIdentifiers(text.slice(0, first.length + cut))!;
  return { ...version, prerelease, variant: rest.slice(cut + 1), vPrefix, parts };
}

/**
 * Whether two version tags are written in the same form (`v` prefix, number of parts); used to
 * pick among tags of the same version the one shaped like the current tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTag, sameForm } from "./tag.ts";
 * assert.equal(sameForm(readTag("v1.2")!, readTag("v1.3")!), true);
 * assert.equal(sameForm(readTag("v1.2")!, readTag("1.3")!), false);
 * ```
 */
export function sameForm(a: TagVersion, b: TagVersion): boolean {
  return a.vPrefix === b.vPrefix && a.parts === b.parts;
}
