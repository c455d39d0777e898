/**
 * A decision about one container, as logged and as applied.
 *
 * @module
 */

import type { Held } from "../gates/gates.ts";
import type { Reason } from "../policy/policy.ts";
import type { ContainerImage } from "../workloads/workload.ts";

/** Why a container is left alone, beyond the policy's own reasons. */
export type SkipReason =
  /** The `argoos.io/policy` value is not a policy. */
  | "invalid-policy"
  /** No pushed or listed tag is a candidate. */
  | "no-candidate"
  /** No candidate is served by the registry as an image (unknown tag, artifact). */
  | "not-served"
  /** `all`: first sight of a listed tag with pods unknown; its digest is recorded, nothing rolled out. */
  | "baseline"
  /** A gate (update window, minimum age, approval, observe mode) holds the update: `gated`. */
  | "gated";

/** The decision for one container of one workload. */
export interface Verdict {
  container: ContainerImage;
  /** The raw policy label value. */
  policy: string;
  reason: Reason | SkipReason;
  /** The image to write, when the container is to be updated. */
  to?: string;
  /** For `gated`: the image it would write and the gate holding it. */
  gated?: Held & { to: string };
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
