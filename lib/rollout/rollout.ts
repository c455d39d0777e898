/**
 * The write path every reconcile ends in: one guarded JSON patch (images and Argoos's
 * annotations together) of what the reconcile decided. It never decides: on a conflict it reads
 * the workload into the cache and says so, and the reconcile decides again. No other code
 * writes to workloads.
 *
 * @module
 */

import { KeyedMutex } from "../async/keyed_mutex.ts";
import type { KubeClient } from "../kube/client.ts";
import { classifyWriteError, type KubeApiError } from "../kube/errors.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import {
  describe,
  keyOf,
  type KubeObject,
  readWorkload,
  sameContainer,
  type Workload,
} from "../workloads/workload.ts";
import { type AnnotationWrites, type ImageChange, imagePatch } from "./image_patch.ts";
import { isChange, type Verdict } from "./verdict.ts";

/** Standing verdicts remembered as logged; beyond it the oldest is told again, once. */
const MAX_REPORTED = 10_000;

/** What became of one workload. */
export type Outcome = "applied" | "unchanged" | "refused" | "dry-run" | "gone";

/** What a decision asks the write path to do for one workload. */
export interface Plan {
  /** One per container considered; those with `to` change. */
  verdicts: Verdict[];
  /** Annotations to write in the same patch (`null` removes). */
  annotations?: Record<string, string | null>;
  /** Annotations that must still hold these values (null: absent) for the patch to apply. */
  expect?: Record<string, string | null>;
  /** Overrides the `source` reported for this plan (e.g. `webhook` or `poll`). */
  source?: string;
  /** ms until the plan may differ with no new fact (a gate that opens): decide again then. */
  againMs?: number;
}

/** Told of every rollout, refusal and dry run (Kubernetes Events, metrics). */
export interface RolloutReport {
  workload: Workload;
  outcome: Outcome;
  changes: ImageChange[];
  /** `webhook` or `poll`. */
  source: string;
  /** The policy label value. */
  policy: string;
  /** Why the API server refused, for `refused`. */
  error?: string;
}

/** Options of {@linkcode Rollout}. */
export interface RolloutOptions {
  client: KubeClient;
  /** Told of written objects so the next decision sees them at once. */
  cache?: WorkloadCache;
  logger?: Logger;
  /** Decide and log, patch nothing. */
  dryRun?: boolean;
  onReport?: (report: RolloutReport) => void;
}

/** One write decided by its caller (a revert, the end of a rollout), through the same patch. */
export interface GuardedWrite {
  /** Images to write; each is guarded by a `test` of the image it replaces. */
  changes: ImageChange[];
  /** Annotations to set (string) or remove (null), in the same patch. */
  annotations: Record<string, string | null>;
  /** Annotations that must still hold these values (null: absent). */
  expect?: Record<string, string | null>;
}

/**
 * What became of a {@linkcode GuardedWrite}: `guard-failed` when a `test` failed (someone
 * wrote first; nothing changed, decide again from the workload as it is now).
 */
export type WriteResult = "applied" | "unchanged" | "guard-failed" | "refused" | "gone";

/** A failure that may pass: the caller retries (webhook: 5xx; poll: next cycle). */
export class TransientRolloutError extends Error {
  override name = "TransientRolloutError";
}

/**
 * The one writer: each call is one guarded patch of one workload (one at a time per key),
 * never a decision. Whoever decided (the reconcile) reads again and decides again when a
 * guard failed.
 *
 * @example
 * ```ts ignore
 * import { Rollout } from "./rollout.ts";
 * const rollout = new Rollout({ client, cache, logger });
 * await rollout.apply(workload, await decide(workload), "webhook"); // "applied"
 * ```
 */
export class Rollout {
  #opts: RolloutOptions;
  #log: Logger;
  #mutex = new KeyedMutex();
  /**
   * Standing verdicts already logged at info level, so they are reported once: at most
   * MAX_REPORTED keys (workload, container, image, reason), the oldest dropped first.
   */
  #reported = new Set<string>();
  /**
   * The refusal each workload is in the middle of (its message), so a series of refusals is
   * reported once: at most MAX_REPORTED workloads, the oldest dropped first; a write that
   * applies ends the series.
   */
  #refusing = new Map<string, string>();

  constructor(opts: RolloutOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "rollout" });
  }

  /** Whether nothing is patched (`--dry-run`). */
  get dryRun(): boolean {
    return this.#opts.dryRun ?? false;
  }

  /**
   * Write what a plan decided for one workload, once. `guard-failed`: someone wrote first
   * (the cache holds the fresh object); decide again. Rejects with
   * {@linkcode TransientRolloutError} when the API server could not be reached.
   */
  apply(workload: Workload, plan: Plan, source: string): Promise<WriteResult | "dry-run"> {
    return this.#mutex.run(keyOf(workload), async () => {
      source = plan.source ?? source;
      this.#logVerdicts(workload, source, plan.verdicts);
      const changes = plan.verdicts.filter(isChange).map((v) => ({
        container: v.container,
        to: v.to,
      }));
      const report = { workload, changes, source, policy: workload.policyLabel };
      if (this.#opts.dryRun) {
        if (changes.length === 0) return "unchanged";
        this.#log.info("dry-run: would roll out", {
          workload: describe(workload),
          source,
          changes: changeFields(changes),
        });
        this.#opts.onReport?.({ ...report, outcome: "dry-run" });
        return "dry-run";
      }
      const write = { changes, annotations: plan.annotations ?? {}, expect: plan.expect };
      const result = await this.#patch(workload, write, source);
      if (result.outcome === "refused") {
        this.#refused({ ...report, outcome: "refused" }, result.error!);
        return "refused";
      }
      if (result.outcome === "guard-failed") {
        this.#log.debug("workload changed under us, to decide again", {
          workload: describe(workload),
        });
      }
      // Only Argoos's own records changed: nothing rolled out.
      if (result.outcome !== "applied" || changes.length === 0) return result.outcome;
      this.#log.info("rolled out", {
        workload: describe(workload),
        source,
        changes: changeFields(changes),
      });
      this.#opts.onReport?.({ ...report, outcome: "applied" });
      return "applied";
    });
  }

  /**
   * Write what the caller decided (a revert, the end of a rollout, a human change recorded) as
   * one guarded patch, once: a failed guard is answered `guard-failed`, for the caller to look
   * again. Patches nothing in a dry run (`unchanged`). Rejects like `apply`.
   */
  write(workload: Workload, write: GuardedWrite, source = "health"): Promise<WriteResult> {
    if (this.#opts.dryRun) return Promise.resolve("unchanged");
    return this.#mutex.run(keyOf(workload), async () => {
      const result = await this.#patch(workload, write, source);
      if (result.outcome === "refused") {
        this.#refused({
          workload,
          outcome: "refused",
          changes: write.changes,
          source,
          policy: workload.policyLabel,
        }, result.error!);
      }
      return result.outcome;
    });
  }

  /** The one PATCH: guarded images and annotations; a 409/422 is told apart by reading again. */
  async #patch(
    workload: Workload,
    write: GuardedWrite,
    source: string,
  ): Promise<{ outcome: WriteResult; error?: KubeApiError }> {
    const { client } = this.#opts;
    const notes: AnnotationWrites = {
      before: workload.annotations,
      hasAnnotations: workload.hasAnnotations,
      resourceVersion: workload.resourceVersion,
      writes: write.annotations,
      expect: write.expect,
    };
    const ops = imagePatch(workload.kind, workload.policyLabel, write.changes, notes);
    if (ops.length === 0) return { outcome: "unchanged" };
    const { type } = workload.kind;
    const key = keyOf(workload);
    try {
      // Our own write, seen by the watch or in the answer, must not reconcile it again.
      this.#opts.cache?.expectWrite(key, afterWrite(workload, write.changes, notes.writes));
      try {
        const written = await client.patch<KubeObject>(
          type,
          workload.namespace,
          workload.name,
          ops,
          "json",
        );
        await this.#opts.cache?.observe(workload.kind, written);
      } finally {
        this.#opts.cache?.expectWrite(key, undefined);
      }
      this.#refusing.delete(key);
      return { outcome: "applied" };
    } catch (err) {
      const kind = classifyWriteError(err);
      if (kind === "transient" || kind === "access") {
        // Passes by itself (API server back) or once an operator fixes Argoos's Role: retry.
        throw new TransientRolloutError(`patching ${describe(workload)}: ${message(err)}`);
      }
      if (kind === "gone") {
        this.#log.info("workload gone", { workload: describe(workload), source });
        return { outcome: "gone" };
      }
      const apiErr = err as KubeApiError; // only API errors are refused or conflicts
      if (kind === "refused") return { outcome: "refused", error: apiErr };
      // A conflict (409, a failed `test`): the caller reads and decides again. If everything
      // the patch tested still holds, the 422 was a refusal that names no cause (an admission
      // webhook's own Status), not ours to fix by deciding again.
      let raw: KubeObject;
      try {
        raw = await client.get<KubeObject>(type, workload.namespace, workload.name);
      } catch (readErr) {
        if (classifyWriteError(readErr) === "gone") return { outcome: "gone" };
        throw new TransientRolloutError(`re-reading ${describe(workload)}: ${message(readErr)}`);
      }
      await this.#opts.cache?.observe(workload.kind, raw);
      const fresh = readWorkload(workload.kind, raw);
      if (apiErr.status === 422 && guardsHold(workload, fresh, write.changes, notes)) {
        return { outcome: "refused", error: apiErr };
      }
      return { outcome: "guard-failed" };
    }
  }

  #refused(report: RolloutReport, err: KubeApiError): void {
    report.error = err.message;
    const key = keyOf(report.workload);
    const repeat = this.#refusing.get(key) === err.message;
    this.#refusing.delete(key);
    this.#refusing.set(key, err.message);
    if (this.#refusing.size > MAX_REPORTED) {
      this.#refusing.delete(this.#refusing.keys().next().value!);
    }
    if (repeat) {
      // Told once per series; the work queue's back-off paces the tries.
      this.#log.debug("write refused again", { workload: key, error: err.message });
      return;
    }
    this.#log.error("rollout refused by the API server", {
      workload: describe(report.workload),
      source: report.source,
      status: err.status,
      reason: err.reason,
      error: err.message,
    });
    this.#opts.onReport?.(report);
  }

  #logVerdicts(workload: Workload, source: string, verdicts: Verdict[]): void {
    for (const v of verdicts) {
      const line = {
        workload: describe(workload),
        container: v.container.name,
        from: v.container.image,
        to: v.to ?? null,
        policy: v.policy,
        reason: v.reason,
        source,
      };
      if (isChange(v)) {
        this.#log.info("decision", line);
        continue;
      }
      // A standing refusal (bad label, `latest` under `minor`, …) is told once per image, and so
      // is the image already running (a rollout followed is reconciled at every look).
      const key = `${keyOf(workload)}|${v.container.name}|${v.container.image}|${v.reason}`;
      const standing = v.reason === "invalid-policy" || v.reason === "current-not-version" ||
        v.reason === "same-image";
      if (standing && this.#reported.has(key)) {
        this.#log.debug("decision", line);
      } else {
        if (standing) {
          this.#reported.add(key);
          if (this.#reported.size > MAX_REPORTED) {
            this.#reported.delete(this.#reported.values().next().value!);
          }
        }
        this.#log.info("decision", line);
      }
    }
  }
}

/** Changes as log fields. */
function changeFields(changes: readonly ImageChange[]) {
  return changes.map((c) => ({ container: c.container.name, from: c.container.image, to: c.to }));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether everything the patch tested still holds on the fresh object (label, images,
 * annotations as read, expectations): then a 422 was not a failed test but a refusal
 * (validation, admission).
 */
function guardsHold(
  read: Workload,
  fresh: Workload,
  changes: ImageChange[],
  notes: AnnotationWrites,
): boolean {
  const keys = Object.keys(notes.writes);
  const expected = Object.entries(notes.expect ?? {});
  const absentTested = keys.some((k) => read.annotations[k] === undefined) ||
    !read.hasAnnotations && expected.some(([, v]) => v === null);
  return fresh.policyLabel === read.policyLabel &&
    changes.every(({ container: c }) =>
      fresh.containers.some((f) => sameContainer(f, c) && f.image === c.image)
    ) &&
    keys.every((k) => fresh.annotations[k] === read.annotations[k]) &&
    expected.every(([k, v]) => (fresh.annotations[k] ?? null) === v) &&
    (!absentTested || fresh.resourceVersion === read.resourceVersion);
}

/**
 * The workload as a write of `changes` and annotation `writes` leaves it, in what the cache's
 * change rule compares (images, annotations); other fields stay as read.
 */
function afterWrite(
  w: Workload,
  changes: ImageChange[],
  writes: Readonly<Record<string, string | null>>,
): Workload {
  const annotations: Record<string, string> = { ...w.annotations };
  for (const [k, v] of Object.entries(writes)) {
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  }
  const containers = w.containers.map((c) => {
    const change = changes.find((x) => sameContainer(x.container, c));
    return change ? { ...c, image: change.to } : c;
  });
  return {
    ...w,
    annotations,
    hasAnnotations: w.hasAnnotations || Object.values(writes).some((v) => v !== null),
    containers,
  };
}
