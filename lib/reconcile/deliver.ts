/**
 * What a trigger that receives pushes does with them: record them as facts, enqueue every
 * workload that uses the repositories, and wait (bounded) for those reconciles. Receivers of
 * any registry (issue 10) end here with `RecordedPush[]`.
 *
 * @module
 */

import { isFinal } from "../registry/errors.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import { keyOf } from "../workloads/workload.ts";
import type { RecordedPush } from "../image/push.ts";
import type { RepositoryFacts } from "./facts.ts";
import type { WorkQueue } from "./queue.ts";
import type { ReconcileResult } from "./reconciler.ts";
import { TagNotYetServedError } from "../registry/tag_verifier.ts";

/** A reconcile that ended in a final registry failure, in a delivery's count. */
const REJECTED = Symbol("rejected");

/** The reconciles a delivery caused did not all finish in time; the sender should retry. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
}

/** How the reconciles a delivery caused ended. */
export interface DeliverySummary {
  /** Workloads rolled out (or that would be, in a dry run). */
  applied: number;
  /** Workloads decided to stay as they are. */
  unchanged: number;
  /** Workloads whose write was refused (admission, validation): reported, retried from the queue. */
  refused: number;
  /**
   * Workloads whose registry gave an answer no retry can fix (`isFinal`: credentials refused,
   * a malformed or oversized answer, a `4xx`): reported, retried from the queue with back-off.
   */
  rejected: number;
}

/** What {@linkcode deliverPushes} works with. */
export interface DeliveryDeps {
  facts: RepositoryFacts;
  cache: WorkloadCache;
  queue: WorkQueue<ReconcileResult>;
}

/**
 * Record `pushes`, enqueue the workloads using their repositories, and resolve once every one
 * of those reconciles finished, a final registry failure (`isFinal`) counted as `rejected`.
 * Rejects with the first transient reconcile failure (API server or registry unavailable) or
 * a {@linkcode DeadlineError} after `deadlineMs`; the queue keeps retrying either way. A
 * pushed tag not served yet (its digest is) is not a failure of the delivery: its
 * reconcile's retries are waited for until the deadline.
 *
 * @example
 * ```ts ignore
 * import { deliverPushes } from "./deliver.ts";
 * const summary = await deliverPushes({ facts, cache, queue }, [
 *   { repository: "docker.io/library/app", tag: "1.2.4", pushedAt: Date.now(), source: "dockerhub" },
 * ], 4_000);
 * ```
 */
export async function deliverPushes(
  deps: DeliveryDeps,
  pushes: readonly RecordedPush[],
  deadlineMs: number,
): Promise<DeliverySummary> {
  const keys = new Set<string>();
  for (const p of pushes) {
    deps.facts.recordPush(p);
    for (const w of deps.cache.byRepository(p.repository)) {
      keys.add(keyOf(w));
    }
  }
  const summary: DeliverySummary = { applied: 0, unchanged: 0, refused: 0, rejected: 0 };
  if (keys.size === 0) return summary;
  // Made only when a reconcile waits for retries: an abort costs a DOMException per delivery.
  let stop: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeadlineError(`reconciles not finished within ${deadlineMs} ms`));
      stop?.abort();
    }, deadlineMs);
  });
  // A tag not served yet is waited for through the queue's retries, up to the deadline.
  const settled = async (key: string) => {
    let err: unknown;
    try {
      return await deps.queue.add(key);
    } catch (e) {
      err = e;
    }
    while (err instanceof TagNotYetServedError) {
      try {
        stop ??= new AbortController();
        return await deps.queue.next(key, stop.signal);
      } catch (e) {
        err = e;
      }
    }
    // That workload's own problem: the others are answered, the sender is not held back.
    if (isFinal(err)) return { outcome: REJECTED };
    throw err;
  };
  const all = Promise.all([...keys].map(settled));
  // The queue answers every add; one that loses the race is not left unhandled.
  all.catch(() => {});
  try {
    for (const { outcome } of await Promise.race([all, deadline])) {
      if (outcome === "applied" || outcome === "dry-run") summary.applied++;
      else if (outcome === "refused") summary.refused++;
      else if (outcome === REJECTED) summary.rejected++;
      else summary.unchanged++;
    }
  } finally {
    clearTimeout(timer);
    stop?.abort();
  }
  return summary;
}
