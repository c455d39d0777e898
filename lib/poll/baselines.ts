/**
 * The digest an unpinned tag had when Argoos last looked, kept in an
 * annotation on the workload so that a re-push made while Argoos was down or
 * handed over to another replica is still noticed.
 *
 * @module
 */

import type { Workload } from "../workloads/workload.ts";

/** Annotation holding `{"<container>": {"image": "...", "digest": "sha256:..."}}`. */
export const DIGESTS_ANNOTATION = "argoos.io/digests";

/** Recorded digest per container name, for the image it was recorded with. */
export type Baselines = Record<string, { image: string; digest: string }>;

/**
 * The recorded digests of a workload (empty when absent or unreadable).
 *
 * @example
 * ```ts ignore
 * import { readBaselines } from "./baselines.ts";
 * readBaselines(workload).app?.digest;
 * ```
 */
export function readBaselines(w: Workload): Baselines {
  try {
    const parsed = JSON.parse(w.annotations[DIGESTS_ANNOTATION] ?? "{}");
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * The digest recorded for a container, if it was recorded for the image it runs now.
 *
 * @example
 * ```ts
 * import { baselineFor } from "./baselines.ts";
 * baselineFor({ app: { image: "a:latest", digest: "sha256:1" } }, "app", "a:latest"); // "sha256:1"
 * baselineFor({ app: { image: "a:latest", digest: "sha256:1" } }, "app", "a:v2"); // undefined
 * ```
 */
export function baselineFor(b: Baselines, container: string, image: string): string | undefined {
  const entry = b[container];
  return entry?.image === image ? entry.digest : undefined;
}

/**
 * A merge patch recording new baselines beside the existing ones; touches
 * only metadata, so it restarts nothing.
 *
 * @example
 * ```ts ignore
 * import { baselinePatch } from "./baselines.ts";
 * await client.patch(type, ns, name, baselinePatch(workload, { app: { image, digest } }), "merge");
 * ```
 */
export function baselinePatch(w: Workload, add: Baselines): Record<string, unknown> {
  const merged = { ...readBaselines(w), ...add };
  return { metadata: { annotations: { [DIGESTS_ANNOTATION]: JSON.stringify(merged) } } };
}
