/**
 * What a pushed tag means for each container of a workload (webhook rule).
 *
 * @module
 */

import { withTarget } from "../image/reference.ts";
import { decidePush, parsePolicy } from "../policy/policy.ts";
import type { Verdict } from "../rollout/verdict.ts";
import type { Workload } from "../workloads/workload.ts";

/** A pushed manifest, its repository normalized with the registry's public name. */
export interface PushTarget {
  /** Normalized repository, e.g. `registry.example.com/team/app`. */
  repository: string;
  tag: string;
  digest: string;
}

/**
 * One verdict per container (and init container) whose image names the pushed
 * repository; other containers are not considered at all.
 *
 * @example
 * ```ts
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * import { pushVerdicts } from "./push_verdicts.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default", labels: { "argoos.io/policy": "patch" } },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "myapp:1.2.3" }] } } },
 * });
 * pushVerdicts(w, { repository: "docker.io/library/myapp", tag: "1.2.4", digest: "sha256:" + "a".repeat(64) })[0].to;
 * // "myapp:1.2.4"
 * ```
 */
export function pushVerdicts(workload: Workload, target: PushTarget): Verdict[] {
  const policy = parsePolicy(workload.policyLabel);
  return workload.containers.filter((c) => c.repository === target.repository).map((c) => {
    const base = { container: c, policy: workload.policyLabel };
    if (!policy) return { ...base, reason: "invalid-policy" };
    const ref = c.ref!;
    const decision = decidePush(policy, { tag: ref.tag, digest: ref.digest }, target);
    if (!decision.update) return { ...base, reason: decision.reason };
    const to = withTarget(ref, target.tag, decision.pinDigest ? target.digest : undefined);
    return { ...base, reason: decision.reason, to };
  });
}
