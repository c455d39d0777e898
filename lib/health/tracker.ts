/**
 * Follows a rollout Argoos started until it is complete or has failed, and takes a failed one
 * back. Everything it needs is on the workload (`argoos.io/rollout`), so a restarted Argoos or
 * another replica carries on; every write goes through the single guarded patch and tests the
 * rollout record it read, so of two replicas only one clears, reports or reverts.
 *
 * @module
 */

import type { Job } from "kubernetes-types/batch/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type EventChange, eventChanges, type WorkloadEvent } from "../events/recorder.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import type { ImageChange } from "../rollout/image_patch.ts";
import type { GuardedWrite, Rollout } from "../rollout/rollout.ts";
import { parseReference } from "../image/reference.ts";
import {
  readState,
  STATE_ANNOTATION,
  stateAnnotations,
  type WorkloadState,
} from "../policy/state.ts";
import { kindNamed } from "../workloads/kinds.ts";
import { podDigests } from "../workloads/running.ts";
import {
  type KubeObject,
  readWorkload,
  sameContainer,
  type Workload,
  workloadKey,
} from "../workloads/workload.ts";
import {
  type FailureReason,
  type HealthKind,
  judgeRollout,
  type Progress,
  progressDeadline,
  type RolloutView,
} from "./judge.ts";
import {
  decodeRejected,
  decodeRollout,
  encodeRejected,
  failedDigests,
  REJECTED_ANNOTATION,
  REVERT_ANNOTATION,
  revertPlan,
  revertTarget,
  ROLLOUT_ANNOTATION,
  type RolloutRecord,
} from "./record.ts";

/** A workload by kind, namespace and name. */
export interface WorkloadRef {
  kind: HealthKind;
  namespace: string;
  name: string;
}

/** Reads what a judgement needs (in the service: the workload cache and the API server). */
export interface HealthSource {
  /** The workload object as stored now; undefined when it is gone. */
  workload(ref: WorkloadRef): Promise<KubeObject | undefined>;
  /** Pods the workload owns, of any revision (for a CronJob: the pods of `jobs`). */
  pods(workload: Workload, jobs?: readonly Job[]): Promise<Pod[]>;
  /**
   * The Jobs a CronJob (as just read) may be judged by: those it runs and the one it scheduled
   * last, a bounded read (never called for other kinds, nor while the CronJob is suspended).
   */
  jobs(cronJob: KubeObject): Promise<Job[]>;
}

/** The single write path (lib/rollout): one guarded patch. Transient failures throw. */
export type GuardedWriter = Pick<Rollout, "write">;

/** How the tracker behaves and where it reports. */
export interface TrackerOptions {
  /** false with `--no-revert` / `REVERT=false`: failures are only reported. */
  revert: boolean;
  /** `--dry-run`: write nothing, report what would be reverted. */
  dryRun: boolean;
  events: { record(ev: WorkloadEvent): void };
  metrics: ArgoosMetrics;
  logger?: Logger;
  /** Restarts of a new container beyond which the rollout fails (judge's default otherwise). */
  restartThreshold?: number;
  /**
   * Longest ms between looks at a rollout still progressing (the watch brings the others),
   * less up to a tenth ({@linkcode recheckDelayMs}); default {@linkcode RECHECK_MS}.
   */
  recheckMs?: number;
  /**
   * The digest the registry serves now for an image's tag (undefined: unknown), so a revert to
   * a tag that moved pins what ran. Without it, a revert with a known digest that ran pins.
   */
  tagDigest?: (workload: Workload, image: string) => Promise<string | undefined>;
  now?: () => number;
  /** Draws the spread of each safety-net look ({@linkcode recheckDelayMs}); Math.random. */
  random?: () => number;
}

/**
 * Default longest time between two looks at a rollout in progress: a safety net. A rollout is
 * followed from the watch of its workload (each status change is a look); this bounds how late
 * an early sign that only its pods show (a new pod crash-looping while the old ones still
 * serve, which leaves the workload's status as it was) is seen.
 */
export const RECHECK_MS = 120_000;

/**
 * The wait before the safety-net look at a rollout in progress: `ms` (default
 * {@linkcode RECHECK_MS}) less up to a tenth, drawn at random, so the looks at rollouts started
 * together (one push to a base image used by thousands) are spread over time instead of falling
 * due in one burst of API requests, and none waits longer than `ms`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recheckDelayMs } from "./tracker.ts";
 * assert.equal(recheckDelayMs(60_000, () => 0), 60_000);
 * assert.equal(recheckDelayMs(60_000, () => 0.5), 57_000);
 * ```
 */
export function recheckDelayMs(
  ms: number = RECHECK_MS,
  random: () => number = Math.random,
): number {
  return Math.round(ms * (1 - random() / 10));
}

/** Rollouts whose progress one tracker remembers at most. */
const MAX_FOLLOWED = 10_000;

/** What one look at a workload found and did. */
export type TrackOutcome =
  | { kind: "none" }
  | { kind: "gone" }
  /** The workload dropped its policy label: Argoos keeps its hands off. */
  | { kind: "opted-out" }
  /** The record could not be read; it was removed (reported, never fatal). */
  | { kind: "corrupt"; error: string }
  /** Someone changed a container Argoos changed: no longer Argoos's rollout; record removed. */
  | { kind: "changed-since"; detail: string }
  /** Look again at `recheckAt` (ms epoch), or on any change of the workload or its pods. */
  | { kind: "progressing"; detail: string; recheckAt: number }
  | { kind: "succeeded"; detail: string }
  | {
    kind: "failed";
    reason: FailureReason;
    detail: string;
    /** reverted: put back; report-only: reverts are off; would-revert: dry run. */
    action: "reverted" | "report-only" | "would-revert";
    changes: ImageChange[];
  }
  /** Another replica (or a human) wrote first; look again to see what stands. */
  | { kind: "lost-race" }
  /** The API server refused the write (admission, validation): retried with back-off. */
  | { kind: "refused" };

/**
 * Follows rollouts in progress, one look per {@linkcode RolloutTracker.check} call.
 *
 * @example
 * ```ts ignore
 * import { RolloutTracker } from "./tracker.ts";
 * const tracker = new RolloutTracker(source, writer, { revert: true, dryRun: false, events, metrics });
 * const outcome = await tracker.check({ kind: "Deployment", namespace: "default", name: "web" });
 * if (outcome.kind === "progressing") queue.addAt(key, outcome.recheckAt);
 * ```
 */
export class RolloutTracker {
  #source: HealthSource;
  #writer: GuardedWriter;
  #opts: TrackerOptions;
  #log: Logger;
  #now: () => number;
  /**
   * Each rollout being followed, by workload: when it started and (StatefulSets, DaemonSets) its
   * progress. An entry lives while its rollout progresses, at most `MAX_FOLLOWED`.
   * Progress is kept in memory, not on the rollout record: recording every move would cost a
   * workload write per pod that becomes ready. A tracker that has not seen the rollout (after a
   * restart, on another replica, once evicted) counts from its first look, not from the record's
   * `startedAt` (it may have moved since): losing this only ever delays a failure.
   */
  #progress = new Map<string, Followed>();

  constructor(source: HealthSource, writer: GuardedWriter, opts: TrackerOptions) {
    this.#source = source;
    this.#writer = writer;
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "health" });
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Look at a workload's rollout in progress, if any, and act on the verdict. `expect`: what
   * the caller read and decided from (e.g. no hold), tested by every write besides the record.
   */
  async check(
    ref: WorkloadRef,
    expect: Readonly<Record<string, string | null>> = {},
  ): Promise<TrackOutcome> {
    const outcome = await this.#look(ref, expect);
    if (outcome.kind !== "progressing") this.#progress.delete(keyOf(ref));
    return outcome;
  }

  async #look(
    ref: WorkloadRef,
    expected: Readonly<Record<string, string | null>>,
  ): Promise<TrackOutcome> {
    const obj = await this.#source.workload(ref);
    if (!obj) return { kind: "gone" };
    const workload = readWorkload(kindNamed(ref.kind)!, obj);
    const text = workload.annotations[ROLLOUT_ANNOTATION];
    if (text === undefined) return { kind: "none" };
    if (!workload.policyLabel) return { kind: "opted-out" };
    const log = this.#log.with({ workload: keyOf(ref) });
    const expect = { ...expected, [ROLLOUT_ANNOTATION]: text };
    const forget = { changes: [], annotations: { [ROLLOUT_ANNOTATION]: null }, expect };

    const decoded = decodeRollout(text);
    if (decoded.error !== undefined) {
      log.warn("rollout record unreadable, removing it", { error: decoded.error });
      return await this.#forget(workload, forget) ?? { kind: "corrupt", error: decoded.error };
    }
    const record = decoded.value;
    const plan = revertPlan(workload, record);
    if (plan.kind === "changed-since") {
      log.info("rollout no longer followed: changed since Argoos wrote it", {
        detail: plan.detail,
      });
      return await this.#forget(workload, forget) ?? { kind: "changed-since", detail: plan.detail };
    }

    const now = this.#now();
    const view = await this.#view(ref, workload, obj, record, now, log);
    const verdict = judgeRollout(view);
    const changed = describe(record);
    if (verdict.state === "progressing") {
      const followed = this.#progress.get(keyOf(ref));
      if (followed && verdict.progress) followed.progress = verdict.progress;
      const due = [
        now + recheckDelayMs(this.#opts.recheckMs, this.#opts.random),
        record.deadline ?? Infinity,
        // Set for StatefulSets and DaemonSets only, which always have a progress deadline.
        verdict.progress ? verdict.progress.since + view.progressDeadlineMs! : Infinity,
      ];
      return { kind: "progressing", detail: verdict.detail, recheckAt: Math.min(...due) };
    }
    if (verdict.state === "complete") {
      if (this.#opts.dryRun) return { kind: "succeeded", detail: verdict.detail };
      const wrote = await this.#writer.write(workload, forget);
      if (wrote !== "applied") return lost(wrote);
      this.#opts.metrics.rolloutsCompleted.inc({ outcome: "succeeded" });
      log.info("rollout succeeded", { changed, detail: verdict.detail });
      this.#event(workload, "RolloutSucceeded", "Normal", `${changed}: ${verdict.detail}`, {
        changes: fields(record),
      });
      return { kind: "succeeded", detail: verdict.detail };
    }

    const reason = verdict.reason!;
    const failed = { kind: "failed" as const, reason, detail: verdict.detail };
    const revert = this.#opts.revert && workload.annotations[REVERT_ANNOTATION] !== "false";
    if (this.#opts.dryRun) {
      log.info("rollout failed; dry run, would revert", {
        changed,
        reason,
        detail: verdict.detail,
      });
      return { ...failed, action: revert ? "would-revert" : "report-only", changes: plan.changes };
    }
    const ranSeen = this.#progress.get(keyOf(ref))?.ran;
    const changes = revert ? await this.#pinned(workload, record, plan.changes, ranSeen) : [];
    const annotations: Record<string, string | null> = {
      ...(revert ? restored(workload, record, changes) : {}),
      [ROLLOUT_ANNOTATION]: null,
    };
    const rejected = this.#rejected(workload, record, now, verdict.container, reason, log);
    if (rejected !== undefined) annotations[REJECTED_ANNOTATION] = rejected;
    const wrote = await this.#writer.write(workload, { changes, annotations, expect });
    if (wrote !== "applied") return lost(wrote);
    this.#opts.metrics.rolloutsCompleted.inc({ outcome: "failed" });
    const why = `${reason}: ${verdict.detail}`;
    if (!revert) {
      const off = workload.annotations[REVERT_ANNOTATION] === "false"
        ? `${REVERT_ANNOTATION}: "false"`
        : "reverts are off (--no-revert)";
      log.warn("rollout failed, not reverted", { changed, reason, detail: verdict.detail, off });
      const message = `${changed}: ${why}; not reverted: ${off}`;
      this.#event(workload, "RolloutFailed", "Warning", message, {
        changes: fields(record),
        cause: reason,
      });
      return { ...failed, action: "report-only", changes };
    }
    this.#opts.metrics.reverts.inc();
    const back = changes.map((c) => `${c.container.name}: ${c.container.image} → ${c.to}`)
      .join(", ");
    log.warn("rollout failed, reverted", { changed, reason, detail: verdict.detail, back });
    this.#event(workload, "RolloutFailed", "Warning", `${changed}: ${why}`, {
      changes: fields(record),
      cause: reason,
    });
    this.#event(workload, "Reverted", "Warning", back, {
      changes: eventChanges(changes),
      cause: reason,
    });
    return { ...failed, action: "reverted", changes };
  }

  /** Remove a record no longer followed; what a write not applied means, else undefined. */
  async #forget(workload: Workload, forget: GuardedWrite): Promise<TrackOutcome | undefined> {
    if (this.#opts.dryRun) return undefined;
    const wrote = await this.#writer.write(workload, forget);
    return wrote === "applied" ? undefined : lost(wrote);
  }

  async #view(
    ref: WorkloadRef,
    workload: Workload,
    obj: KubeObject,
    record: RolloutRecord,
    now: number,
    log: Logger,
  ): Promise<RolloutView> {
    const kind = ref.kind;
    const deadline = progressDeadline(kind, workload);
    let followed = this.#progress.get(keyOf(ref));
    if (followed?.startedAt !== record.startedAt) {
      // A rollout seen for the first time here: told once about an unusable deadline.
      if (deadline?.invalid) {
        log.warn("progress deadline not used", { why: deadline.invalid, using: deadline.source });
      }
      followed = { startedAt: record.startedAt };
      this.#progress.set(keyOf(ref), followed);
      // Entries of workloads deleted mid-rollout are never looked at again: the oldest go.
      if (this.#progress.size > MAX_FOLLOWED) {
        this.#progress.delete(this.#progress.keys().next().value!);
      }
    }
    // A suspended CronJob is not judged, so nothing is read for it.
    const suspended = kind === "CronJob" && (obj.spec as { suspend?: boolean })?.suspend === true;
    const jobs = kind === "CronJob" && !suspended ? await this.#source.jobs(obj) : [];
    const pods = suspended ? [] : await this.#source.pods(workload, jobs);
    noteRan(followed, record, pods);
    return {
      kind,
      workload: obj as RolloutView["workload"],
      pods,
      jobs,
      containers: record.containers.map((c) => c.name),
      startedAt: record.startedAt,
      now,
      deadline: record.deadline,
      progressDeadlineMs: deadline?.ms,
      progress: followed.progress ?? { since: now },
      restartThreshold: this.#opts.restartThreshold,
    };
  }

  /**
   * The revert's changes, each container back to the reference it had; one whose tag now names
   * other content than ran carries the digest that ran: the record's, else what the old pods
   * showed at a look at this rollout (`seen`).
   */
  async #pinned(
    workload: Workload,
    record: RolloutRecord,
    changes: ImageChange[],
    seen: Readonly<Record<string, string>> | undefined,
  ): Promise<ImageChange[]> {
    return await Promise.all(changes.map(async (change) => {
      const ran = record.containers.find((c) => sameContainer(c, change.container))?.ran ??
        (seen && Object.hasOwn(seen, change.container.name)
          ? seen[change.container.name]
          : undefined);
      // Nothing to pin: what ran is unknown, or the reference carries a digest already.
      if (revertTarget(change.to, ran, undefined) === change.to) return change;
      const now = await this.#opts.tagDigest?.(workload, change.to).catch((error) => {
        this.#log.warn("cannot ask the registry what the tag names now; pinning what ran", {
          image: change.to,
          error,
        });
        return undefined;
      });
      return { ...change, to: revertTarget(change.to, ran, now) };
    }));
  }

  /**
   * The rejected annotation with the failed digests added (the failing container's, else every
   * one the rollout wrote); undefined when none is known.
   */
  #rejected(
    workload: Workload,
    record: RolloutRecord,
    now: number,
    container: string | undefined,
    reason: FailureReason,
    log: Logger,
  ): string | undefined {
    const failed = failedDigests(record, container);
    if (failed.length === 0) {
      log.warn("failed digest unknown, not recorded as rejected", {
        repository: record.push.repository,
        tag: record.push.tag,
      });
      return undefined;
    }
    const known = decodeRejected(workload.annotations[REJECTED_ANNOTATION]);
    if (known.error) log.warn("rejected list partly unreadable", { error: known.error });
    let entries = known.value;
    let text = "";
    for (const f of failed) {
      text = encodeRejected(entries, { ...f, at: now, reason });
      entries = decodeRejected(text).value;
    }
    return text;
  }

  #event(
    w: Workload,
    reason: WorkloadEvent["reason"],
    type: WorkloadEvent["type"],
    message: string,
    detail: Pick<WorkloadEvent, "changes" | "cause">,
  ) {
    this.#opts.events.record({ workload: w, reason, type, message, ...detail });
  }
}

/** What a tracker remembers of a rollout it follows. */
interface Followed {
  startedAt: number;
  progress?: Progress;
  /**
   * Per container the record knows no `ran` for: the digest its old pods (still on the image it
   * goes back to) reported at a look, the first one seen.
   */
  ran?: Record<string, string>;
}

/**
 * Notes in `followed` what the old pods run, for the containers whose `ran` the record does not
 * know (the pods were not read when the rollout started). A digest that is the one written is
 * never taken: an old pod restarted under a moved tag may have pulled the failed content.
 */
function noteRan(followed: Followed, record: RolloutRecord, pods: readonly Pod[]): void {
  const unknown = record.containers.filter((c) =>
    !c.ran && !(followed.ran && Object.hasOwn(followed.ran, c.name))
  );
  if (unknown.length === 0 || pods.length === 0) return;
  const seen = podDigests(pods, new Map(unknown.map((c) => [c.name, c.from])));
  for (const c of unknown) {
    const digest = seen.get(c.name);
    // A plain object: a Map costs some 100 bytes more, 10,000 rollouts followed.
    if (digest && digest !== c.digest) (followed.ran ??= {})[c.name] = digest;
  }
}

function keyOf(ref: WorkloadRef): string {
  return workloadKey(ref.kind, ref.namespace, ref.name);
}

/**
 * The rollout's containers as an Event's structured changes; the push's digest belongs to one
 * container, so it is given when there is only one.
 */
function fields(record: RolloutRecord): EventChange[] {
  const digest = record.containers.length === 1 ? record.push.digest : undefined;
  return record.containers.map((c) => ({
    container: c.name,
    from: c.from,
    to: c.to,
    ...(digest ? { digest } : {}),
  }));
}

/** What a write that is not applied means to the caller. */
function lost(wrote: "unchanged" | "guard-failed" | "refused" | "gone"): TrackOutcome {
  return wrote === "refused"
    ? { kind: "refused" }
    : wrote === "gone"
    ? { kind: "gone" }
    : { kind: "lost-race" };
}

/**
 * The annotations a revert puts back as they were before the rollout; the state only for the
 * containers the rollout changed (another container's entry, e.g. a human change recorded
 * since, stays as it is now), that of a container whose reference was pinned naming the pinned
 * reference (so it is not taken for a human change).
 */
function restored(
  workload: Workload,
  record: RolloutRecord,
  changes: ImageChange[],
): Record<string, string | null> {
  const { [STATE_ANNOTATION]: then, ...restore } = record.restore ?? {};
  if (then === undefined) return restore;
  const before = readState(then === null ? {} : { [STATE_ANNOTATION]: then });
  const state: WorkloadState = {};
  const removed: string[] = [];
  for (const c of record.containers) {
    const entry = before[c.name];
    if (!entry) {
      removed.push(c.name);
      continue;
    }
    const to = changes.find((x) => sameContainer(x.container, c))?.to;
    const pinned = to !== undefined && to !== c.from && entry.image === c.from;
    state[c.name] = pinned ? { ...entry, image: to, digest: parseReference(to).digest } : entry;
  }
  return { ...restore, ...stateAnnotations(workload.annotations, state, removed) };
}

/** `app: a:1 → a:2, sidecar: …` */
function describe(record: RolloutRecord): string {
  return record.containers.map((c) => `${c.name}: ${c.from} → ${c.to}`).join(", ");
}
