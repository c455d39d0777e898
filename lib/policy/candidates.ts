/**
 * Whether a tag is a candidate for a container, and which of two candidates is preferred:
 * the policy rules of the spec as pure functions, shared by every trigger.
 *
 * @module
 */

import { isArtifactTag } from "../image/artifact.ts";
import type { ImageReference } from "../image/reference.ts";
import { judgeVersion, type Reason } from "./policy.ts";
import type { ContainerRules } from "./rules.ts";
import { compareVersions, parseVersion } from "./version.ts";

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
 * Is `candidateTag` a candidate for a container on `current` (see {@linkcode currentTag})?
 * Returns `update` (version policies), `all-policy` or `repushed` (`all`), else why not.
 * Tags of signatures, attestations and SBOMs are never candidates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeTag } from "./candidates.ts";
 * assert.equal(judgeTag({ policy: "patch" }, "1.2.3", "1.2.4"), "update");
 * assert.equal(judgeTag({ policy: "patch" }, "1.2.3", "1.3.0"), "outside-policy");
 * assert.equal(judgeTag({ policy: "all" }, "latest", "1.3.0-rc.1"), "all-policy");
 * assert.equal(judgeTag({ policy: "all" }, "latest", "sha256-" + "a".repeat(64) + ".sig"), "artifact");
 * ```
 */
export function judgeTag(
  rules: ContainerRules,
  current: string | undefined,
  candidateTag: string,
): Reason {
  if (isArtifactTag(candidateTag)) return "artifact";
  if (rules.policy === "all") return candidateTag === current ? "repushed" : "all-policy";
  const currentVersion = current === undefined ? undefined : parseVersion(current);
  if (currentVersion === undefined) return "current-not-version";
  // The same version again: whatever its digest, not an update (only `all` follows digests).
  if (candidateTag === current) return "same-image";
  const candidate = parseVersion(candidateTag);
  if (candidate === undefined) return "candidate-not-version";
  return judgeVersion(rules.policy, currentVersion, candidate);
}

/**
 * Preference between two candidate tags: positive when `a` is preferred. Versions by semver
 * precedence; among tags of the same version (`1.3`, `1.3.0`, `v1.3.0`) the first in
 * code-point order, so the result does not depend on listing order; non-versions after.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareTags } from "./candidates.ts";
 * const rules = { policy: "major" } as const;
 * assert.deepEqual(["1.2.4", "2.0.0", "1.10.0"].sort((a, b) => compareTags(rules, b, a)),
 *   ["2.0.0", "1.10.0", "1.2.4"]);
 * ```
 */
export function compareTags(_rules: ContainerRules, a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va === undefined || vb === undefined) {
    if (va !== vb) return va === undefined ? -1 : 1;
    return a === b ? 0 : a < b ? 1 : -1;
  }
  const order = compareVersions(va, vb);
  if (order !== 0) return order;
  return a === b ? 0 : a < b ? 1 : -1;
}
