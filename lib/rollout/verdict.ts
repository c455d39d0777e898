/**
 * A decision about one container, as logged and as applied.
 *
 * @module
 */

import type { Reason } from "../policy/policy.ts";
import type { ContainerImage } from "../workloads/workload.ts";

/** Why a container is left alone, beyond the policy's own reasons. */
export type SkipReason =
  /** The `argoos.io/policy` value is not a policy. */
  | "invalid-policy"
  /** Poll: no listed tag is an update. */
  | "no-newer-tag"
  /** Poll: the registry did not tell the digest needed to decide. */
  | "digest-unknown"
  /** Poll, `all`: first sight of an unpinned tag; its digest is recorded, nothing rolled out. */
  | "baseline"
  /** Poll: the image changed after the registry was asked (a webhook rollout); next cycle decides. */
  | "changed-since-poll";

/** The decision for one container of one workload. */
export interface Verdict {
  container: ContainerImage;
  /** The raw policy label value. */
  policy: string;
  reason: Reason | SkipReason;
  /** The image to write, when the container is to be updated. */
  to?: string;
}

/**
 * Whether a verdict asks for a change.
 *
 * @example
 * ```ts
 * import { isChange } from "./verdict.ts";
 * isChange({ container: { section: "containers", index: 0, name: "app", image: "a:1" },
 *   policy: "all", reason: "all-policy", to: "a:2" }); // true
 * ```
 */
export function isChange(v: Verdict): v is Verdict & { to: string } {
  return v.to !== undefined && v.to !== v.container.image;
}
