/**
 * Update policies (`argoos.io/policy`) and the version rule: is a version an update for
 * another under a policy? Pure decisions, following the normative policy rules (summarised in
 * README.md, "Policies").
 *
 * @module
 */

import { compareVersions, type Version } from "./version.ts";

/** The label a workload opts in with; its value names the {@linkcode Policy}. */
export const POLICY_LABEL = "argoos.io/policy";

/**
 * How far a workload may move: within a minor, within a major, any greater version, anything
 * pushed, or the greatest tag matching a pattern by an order.
 */
export type Policy = "patch" | "minor" | "major" | "all" | "newest";

/** The policies judged by version order. */
export type VersionPolicy = Exclude<Policy, "all" | "newest">;

/**
 * Every policy, in the order the help lists them.
 *
 * @example
 * ```ts
 * import { POLICIES } from "./policy.ts";
 * [...POLICIES].join(" | "); // "patch | minor | major | all | newest"
 * ```
 */
export const POLICIES: ReadonlySet<string> = new Set<Policy>([
  "patch",
  "minor",
  "major",
  "all",
  "newest",
]);

/**
 * Reads a label value as a policy; anything but the exact names is undefined.
 *
 * @example
 * ```ts
 * import { parsePolicy } from "./policy.ts";
 * parsePolicy("minor"); // "minor"
 * parsePolicy("Minor"); // undefined
 * parsePolicy(undefined); // undefined
 * ```
 */
export function parsePolicy(value: string | undefined): Policy | undefined {
  return value !== undefined && POLICIES.has(value) ? value as Policy : undefined;
}

/**
 * Why a candidate was or was not taken; short stable machine-readable codes used in JSON logs
 * and Events.
 */
export type Reason =
  /** Version update allowed by the policy. */
  | "update"
  /** `all` takes any pushed tag. */
  | "all-policy"
  /** Same tag, new digest (`all`). */
  | "repushed"
  /** Current tag is not a version (patch/minor/major never update it). */
  | "current-not-version"
  /** Candidate tag is not a version. */
  | "candidate-not-version"
  /** Pre-release candidate, and current is not a pre-release of the same major.minor.patch. */
  | "prerelease-not-allowed"
  /** Equal or lower (covers downgrades and equal precedence). */
  | "not-greater"
  /** Greater but different major (patch/minor) or minor (patch). */
  | "outside-policy"
  /** Already running exactly this tag (and digest when known). */
  | "same-image"
  /** The tag names a signature, attestation or SBOM (`sha256-<hex>.sig`, ...), never an image. */
  | "artifact"
  /** Does not match `argoos.io/tag-pattern` (or there is none under `newest`). */
  | "pattern-mismatch"
  /** A variant other than the current tag's (`1.25.4` for a container on `1.25.3-alpine`). */
  | "variant-mismatch"
  /** Outside `argoos.io/semver-range`. */
  | "outside-range"
  /** `newest`: the `argoos.io/sort-by` group took no part in the match. */
  | "no-sort-key"
  /** `newest` in numerical order: the key is not a number. */
  | "key-not-number";

/**
 * Is `candidate` an update for `current` under a version policy? Returns "update" or the reason
 * it is not.
 *
 * @example
 * ```ts
 * import { judgeVersion } from "./policy.ts";
 * import { parseVersion } from "./version.ts";
 * judgeVersion("patch", parseVersion("1.2.3")!, parseVersion("1.2.4")!); // "update"
 * judgeVersion("patch", parseVersion("1.2.3")!, parseVersion("1.3.0")!); // "outside-policy"
 * judgeVersion("major", parseVersion("1.2.3")!, parseVersion("2.0.0-rc.1")!);
 * // "prerelease-not-allowed"
 * ```
 */
export function judgeVersion(
  policy: VersionPolicy,
  current: Version,
  candidate: Version,
): Reason {
  if (compareVersions(candidate, current) <= 0) return "not-greater";
  if (
    candidate.prerelease.length > 0 &&
    (current.prerelease.length === 0 || current.major !== candidate.major ||
      current.minor !== candidate.minor || current.patch !== candidate.patch)
  ) {
    return "prerelease-not-allowed";
  }
  if (policy !== "major" && candidate.major !== current.major) return "outside-policy";
  if (policy === "patch" && candidate.minor !== current.minor) return "outside-policy";
  return "update";
}
