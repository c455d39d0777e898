/**
 * From a pushed tag to rollouts: the matching workloads from the cache, each
 * decided and patched by the shared routine.
 *
 * @module
 */

import type { Outcome, Rollout } from "../rollout/rollout.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import { type PushTarget, pushVerdicts } from "./push_verdicts.ts";

/** Applies one push; rejects when some workload could not be patched for now. */
export type ApplyPush = (target: PushTarget) => Promise<Outcome[]>;

/**
 * Build the function the webhook calls per push. Workloads are patched in
 * parallel; if any failed transiently the promise rejects with that error, so
 * the delivery is answered 5xx and retried (the ones that succeeded are no-ops then).
 *
 * @example
 * ```ts ignore
 * import { pushApplier } from "./apply_push.ts";
 * const applyPush = pushApplier(cache, rollout);
 * await applyPush({ repository: "docker.io/library/myapp", tag: "1.2.4", digest });
 * ```
 */
export function pushApplier(cache: WorkloadCache, rollout: Rollout): ApplyPush {
  return async (target) => {
    const results = await Promise.allSettled(
      cache.byRepository(target.repository).map((w) =>
        rollout.apply(w, "webhook", (fresh) => pushVerdicts(fresh, target))
      ),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return results.map((r) => (r as PromiseFulfilledResult<Outcome>).value);
  };
}
