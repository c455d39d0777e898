/**
 * A person's change of an image Argoos wrote (a rollback, `kubectl set image`, `kubectl rollout
 * undo`, a GitOps sync): found by comparing each container with the image `argoos.io/state`
 * says Argoos wrote there, and recorded as a decision that sticks: what Argoos had written is
 * rejected for that container (reason `manual`), the state then describes what the person set,
 * and a rollout Argoos was following there is no longer its own. Pure; the reconcile writes it.
 *
 * @module
 */

import {
  decodeRejected,
  decodeRollout,
  encodeRejected,
  MANUAL_REASON,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../health/record.ts";
import { parseReference, referenceRepository } from "../image/reference.ts";
import {
  type ContainerState,
  readState,
  stateAnnotations,
  type WorkloadState,
} from "../policy/state.ts";
import { type ContainerImage, sameContainer, type Workload } from "../workloads/workload.ts";

/** One container a person moved away from what Argoos wrote there. */
export interface ManualChange {
  container: ContainerImage;
  /** What Argoos had written (image, digest). */
  wrote: ContainerState;
}

/** The guarded annotation writes that record human changes. */
export interface ManualRecord {
  annotations: Record<string, string | null>;
  /** Annotations that must still hold what was read (the rollout record dropped). */
  expect: Record<string, string | null>;
}

/**
 * The containers whose image differs from the one Argoos last wrote there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * import { manualChanges } from "./manual.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", annotations: {
 *     "argoos.io/state": JSON.stringify({ app: { image: "app:1.0.1", written: true } }),
 *   } },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "app:1.0.0" }] } } },
 * });
 * assert.deepEqual(manualChanges(w).map((m) => m.wrote.image), ["app:1.0.1"]);
 * ```
 */
export function manualChanges(w: Workload): ManualChange[] {
  const state = readState(w.annotations);
  return w.containers.flatMap((container) => {
    const wrote = state[container.name];
    return wrote?.written && wrote.image !== container.image ? [{ container, wrote }] : [];
  });
}

/**
 * The annotation writes recording `changes` at `now` (ms epoch): each container's written
 * digest rejected (`manual`) unless the person set that very content; its state now the image
 * the person set (its push time kept, so under `all` only a newer push follows); and the
 * rollout record dropped when it follows one of those containers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRejected } from "../health/record.ts";
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * import { manualChanges, recordManual } from "./manual.ts";
 * const digest = "sha256:" + "a".repeat(64);
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", annotations: {
 *     "argoos.io/state": JSON.stringify({ app: { image: "app:1.0.1", digest, written: true } }),
 *   } },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "app:1.0.0" }] } } },
 * });
 * const r = recordManual(w, manualChanges(w), 0);
 * assert.equal(decodeRejected(r.annotations["argoos.io/rejected"]!).value[0].reason, "manual");
 * assert.equal(r.annotations["argoos.io/state"], '{"app":{"image":"app:1.0.0"}}');
 * ```
 */
export function recordManual(
  w: Workload,
  changes: readonly ManualChange[],
  now: number,
): ManualRecord {
  const state: WorkloadState = {};
  let rejected = decodeRejected(w.annotations[REJECTED_ANNOTATION]).value;
  let rejectedText: string | undefined;
  for (const { container, wrote } of changes) {
    state[container.name] = {
      image: container.image,
      ...(wrote.pushedAt !== undefined ? { pushedAt: wrote.pushedAt } : {}),
    };
    const entry = rejection(wrote, now);
    if (!entry || container.ref?.digest === entry.digest) continue;
    rejectedText = encodeRejected(rejected, entry);
    rejected = decodeRejected(rejectedText).value;
  }
  const annotations: Record<string, string | null> = {
    ...stateAnnotations(w.annotations, state),
    ...(rejectedText === undefined ? {} : { [REJECTED_ANNOTATION]: rejectedText }),
  };
  const expect: Record<string, string | null> = {};
  const record = w.annotations[ROLLOUT_ANNOTATION];
  const followed = record === undefined ? undefined : decodeRollout(record).value;
  if (
    record !== undefined &&
    (!followed ||
      followed.containers.some((c) => changes.some((m) => sameContainer(c, m.container))))
  ) {
    annotations[ROLLOUT_ANNOTATION] = null;
    expect[ROLLOUT_ANNOTATION] = record;
  }
  return { annotations, expect };
}

/** The rejection of what Argoos wrote, when its digest is known. */
function rejection(wrote: ContainerState, at: number) {
  if (!wrote.digest) return undefined;
  try {
    const ref = parseReference(wrote.image);
    return {
      repository: referenceRepository(ref),
      digest: wrote.digest,
      ...(ref.tag ? { tag: ref.tag } : {}),
      at,
      reason: MANUAL_REASON,
    };
  } catch {
    return undefined;
  }
}
