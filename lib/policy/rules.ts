/**
 * The rules a container is decided under, read from its workload's label (and, later,
 * annotations): the one place the decision learns what a workload asked for.
 *
 * @module
 */

import type { Workload } from "../workloads/workload.ts";
import { parsePolicy, type Policy } from "./policy.ts";

/**
 * What one container follows. Issue 9 adds tag pattern, sort-by, order, semver range and
 * per-container overrides here; deciders only read this.
 */
export interface ContainerRules {
  policy: Policy;
}

/**
 * The rules for `containerName` of `workload`, or undefined when its policy label is not a
 * policy (the workload is then left alone and reported).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * import { rulesFor } from "./rules.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default", labels: { "argoos.io/policy": "minor" } },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "myapp:1.2.3" }] } } },
 * });
 * assert.deepEqual(rulesFor(w, "app"), { policy: "minor" });
 * ```
 */
export function rulesFor(workload: Workload, _containerName: string): ContainerRules | undefined {
  const policy = parsePolicy(workload.policyLabel);
  return policy === undefined ? undefined : { policy };
}
