/**
 * One reconcile per workload key, controller-runtime's contract (done, again after D, or an
 * error retried with back-off): read the workload from the cache as it is now; keep a hold;
 * record a person's change; follow the rollout in progress; gather the candidates its
 * containers have (recorded pushes, the last listing), ask the registry the workload names
 * about them as the one per-container decision says, and write one guarded patch through the
 * one writer. Level-based: running it again with the same facts changes nothing.
 *
 * @module
 */

import type { WorkloadEvent } from "../events/recorder.ts";
import type { Gates } from "./gates.ts";
import { type HealthKind, healthTimeout } from "../health/judge.ts";
import {
  encodeRollout,
  rejectionOf,
  ROLLOUT_ANNOTATION,
  type StartedChange,
  startRecord,
} from "../health/record.ts";
import { recheckDelayMs, type RolloutTracker } from "../health/tracker.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import {
  type Hold,
  HOLD_ANNOTATION,
  HOLD_REASON_ANNOTATION,
  readHold,
  unchangedHold,
} from "../policy/hold.ts";
import { type Answer, type Candidate, decideWith, type DecisionFacts } from "../policy/decide.ts";
import { rulesOf } from "../policy/rules.ts";
import {
  readState,
  STATE_ANNOTATION,
  stateAnnotations,
  type WorkloadState,
} from "../policy/state.ts";
import type { Credentials } from "../registry/credentials.ts";
import {
  type Outcome,
  type Plan,
  type Rollout,
  TransientRolloutError,
  type WriteResult,
} from "../rollout/rollout.ts";
import { isChange, type Verdict } from "../rollout/verdict.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import { describe, type Workload } from "../workloads/workload.ts";
import type { Push, RecordedPush } from "../image/push.ts";
import { splitRepository } from "../image/reference.ts";
import type { RepositoryFacts } from "./facts.ts";
import { type ManualChange, manualChanges, recordManual } from "./manual.ts";
import { TagNotYetServedError, type TagVerifier } from "../registry/tag_verifier.ts";

/**
 * How long after a push was first recorded its tag may still be missing while its digest is
 * served (the reconcile fails and is retried with back-off); after that the push is dropped.
 */
export const DEFAULT_TAG_SETTLE_MS = 10_000;

/**
 * What one reconcile did: the write path's outcome, `absent` (not a labelled workload) or
 * `held` (`argoos.io/hold`: nothing written).
 */
export type ReconcileOutcome = Outcome | "absent" | "held";

/**
 * controller-runtime's contract: done, or done and to be looked at again `afterMs` from now (a
 * rollout in progress, a hold that ends). A failure rejects and is retried with back-off; so is
 * `refused` (the work queue's `retry`).
 */
export interface ReconcileResult {
  /** What the reconcile did. */
  outcome: ReconcileOutcome;
  /** Look at the workload again this long (ms) from now; absent: only on a new trigger. */
  afterMs?: number;
}

/** Options of {@linkcode Reconciler}. */
export interface ReconcilerOptions {
  cache: WorkloadCache;
  facts: RepositoryFacts;
  verifier: TagVerifier;
  /** The one writer. */
  rollout: Rollout;
  /** The registry credentials of a workload (its namespace's pull secrets, then the operator's). */
  credentialsOf: (w: Workload) => Promise<Credentials>;
  /** The digest each container's pods run, by container name (`runningDigests`). */
  runningDigestsOf: (w: Workload) => Promise<Map<string, string>>;
  logger?: Logger;
  /** Told of holds and human changes (Kubernetes Events). */
  events?: { record(ev: WorkloadEvent): void };
  /** Cancels registry requests when the service stops. */
  signal?: AbortSignal;
  /** Default {@linkcode DEFAULT_TAG_SETTLE_MS}. */
  tagSettleMs?: number;
  now?: () => number;
  /**
   * Follows rollouts in progress (`argoos.io/rollout`): looked at first in each reconcile of a
   * workload that has one; a failed one is reverted before anything new is decided.
   */
  tracker?: RolloutTracker;
  /**
   * ms until a rollout Argoos just wrote is looked at, unless its workload's status changes
   * first (the watch enqueues it), less up to a tenth: see {@linkcode recheckDelayMs}, whose
   * default is the tracker's.
   */
  recheckMs?: number;
  /** Told of each plan made (the status page's decisions store). */
  onPlan?: (workload: Workload, plan: Plan) => void;
  /** Update windows, minimum ages, approvals, observe mode: which chosen updates wait. */
  gates?: Gates;
}

/**
 * Writes that lost a race (someone wrote first) in one reconcile before it fails and the work
 * queue's back-off takes over.
 */
export const MAX_RACES = 3;

/** Holds remembered as reported, so `Held` is told once per hold; the oldest go first. */
const MAX_HOLDS = 10_000;

/** Human changes remembered as told while left unrecorded; the oldest go first. */
const MAX_TOLD = 10_000;

/** The look a failed reconcile still owes (ms), by the error it rejected with. */
const owedLooks = new WeakMap<object, number>();

/**
 * In how many ms a reconcile that rejected with `cause` must still look at the workload: the
 * recheck of a rollout in progress when deciding a newer image failed (a registry down or
 * refusing), so the work queue retries no later than that (`retryWithin`), not after the whole
 * back-off; undefined for other failures.
 *
 * @example
 * ```ts
 * import { owedLookMs } from "./reconciler.ts";
 * owedLookMs(new Error("registry down")); // undefined: no look owed
 * ```
 */
export function owedLookMs(cause: unknown): number | undefined {
  return typeof cause === "object" && cause !== null ? owedLooks.get(cause) : undefined;
}

/** One step of a reconcile: a result, or `again` (something was written or lost a race). */
type Step = ReconcileResult | { again: "wrote" | "race" };

/**
 * Reconciles workloads by key (`Deployment/default/web`): one loop that reads the workload from
 * the cache, and in order keeps a hold, records a person's change, follows the rollout in
 * progress, then decides and writes through the one writer; after any write it reads and
 * decides again, until nothing is left to write.
 *
 * @example
 * ```ts ignore
 * import { Reconciler } from "./reconciler.ts";
 * const reconciler = new Reconciler({ cache, facts, verifier, rollout, credentialsOf, runningDigestsOf });
 * await reconciler.reconcile("Deployment/default/web"); // { outcome: "applied", afterMs: 120000 }
 * ```
 */
export class Reconciler {
  #opts: ReconcilerOptions;
  #log: Logger;
  /** The hold value last reported per workload key: at most MAX_HOLDS. */
  #holds = new Map<string, string>();
  /** Human changes told without being recorded (observe mode, dry run): at most MAX_TOLD. */
  #told = new Set<string>();

  constructor(opts: ReconcilerOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "reconcile" });
  }

  /**
   * Reconcile one workload. Rejects when the API server or a registry is unavailable, or when
   * writes kept losing races ({@linkcode MAX_RACES}): the work queue retries with back-off.
   */
  async reconcile(key: string): Promise<ReconcileResult> {
    let races = 0;
    // Each write moves the workload on (a human change recorded, a rollout judged, a
    // rollout written); a few in a row at most, then a race or a result ends it.
    for (let steps = 0; steps < MAX_RACES * 3; steps++) {
      const workload = this.#opts.cache.get(key);
      if (!workload) return { outcome: "absent" };
      const step = await this.#step(key, workload);
      if (!("again" in step)) return step;
      if (step.again === "race" && ++races >= MAX_RACES) break;
    }
    throw new TransientRolloutError(
      `${key} kept changing under Argoos's writes; retried with back-off`,
    );
  }

  async #step(key: string, w: Workload): Promise<Step> {
    const now = this.#now();
    const hold = readHold(w.annotations, now);
    if (hold.held) {
      this.#reportHold(key, w, hold);
      return { outcome: "held", ...(hold.until ? { afterMs: hold.until - now } : {}) };
    }
    if (this.#holds.delete(key)) this.#log.info("hold ended", { workload: describe(w) });

    // Every write tests that the hold is still as read: one set meanwhile stops it.
    const unheld = unchangedHold(w.annotations);
    const manual = manualChanges(w);
    if (manual.length > 0) {
      // Observe mode writes nothing but argoos.io/pending: the change is told, not recorded.
      if (this.#opts.gates?.observes(w)) this.#reportManual(key, w, manual, "observe");
      else {
        const record = recordManual(w, manual, now);
        const wrote = await this.#opts.rollout.write(w, {
          changes: [],
          annotations: record.annotations,
          expect: { ...record.expect, ...unheld },
        }, "manual");
        if (wrote === "applied") this.#reportManual(key, w, manual, "recorded");
        else if (this.#opts.rollout.dryRun) this.#reportManual(key, w, manual, "dry-run");
        return afterWrite(wrote);
      }
    }

    const { tracker } = this.#opts;
    /** When to look at the rollout in progress again; a newer image may still be decided. */
    let recheckMs: number | undefined;
    if (tracker && w.annotations[ROLLOUT_ANNOTATION] !== undefined) {
      const ref = { kind: w.kind.type.kind as HealthKind, namespace: w.namespace, name: w.name };
      const looked = await tracker.check(ref, unheld);
      switch (looked.kind) {
        case "progressing":
          recheckMs = Math.max(0, looked.recheckAt - now);
          break;
        case "lost-race":
          return { again: "race" };
        case "refused":
          return { outcome: "refused" };
        case "gone":
          return { outcome: "gone" };
        case "none":
        case "opted-out":
          break;
        default:
          // Judged (record written off) or dropped: decide from the workload as it is now.
          if (!this.#opts.rollout.dryRun) return { again: "wrote" };
      }
    }

    let plan: Plan;
    try {
      plan = await this.plan(w);
    } catch (err) {
      // A registry failure must not hold the rollout's next look back by the whole back-off.
      if (recheckMs !== undefined && typeof err === "object" && err !== null) {
        owedLooks.set(err, recheckMs);
      }
      throw err;
    }
    this.#opts.onPlan?.(w, plan);
    const expect = { ...plan.expect, ...unheld };
    const wrote = await this.#opts.rollout.apply(w, { ...plan, expect }, "reconcile");
    if (wrote === "guard-failed") return { again: "race" };
    if (wrote === "applied" && tracker && plan.verdicts.some(isChange)) {
      recheckMs = recheckDelayMs(this.#opts.recheckMs);
    }
    // A gate that opens later is a look of its own, with no new push needed.
    const afterMs = Math.min(recheckMs ?? Infinity, plan.againMs ?? Infinity);
    return { outcome: wrote, ...(afterMs === Infinity ? {} : { afterMs }) };
  }

  /** `Held`, once per hold value: the update Argoos would make is kept for its end. */
  #reportHold(key: string, w: Workload, hold: Hold & { held: true }): void {
    const text = w.annotations[HOLD_ANNOTATION]!;
    if (this.#holds.get(key) === text) return;
    this.#holds.delete(key);
    this.#holds.set(key, text);
    if (this.#holds.size > MAX_HOLDS) this.#holds.delete(this.#holds.keys().next().value!);
    const until = hold.until ? `until ${new Date(hold.until).toISOString()}` : "until released";
    const reason = w.annotations[HOLD_REASON_ANNOTATION];
    const message = `held ${until}${reason ? ` (${reason})` : ""}: Argoos writes nothing`;
    this.#log.info("held", { workload: describe(w), hold: text, reason, invalid: hold.invalid });
    this.#opts.events?.record({ workload: w, reason: "Held", type: "Normal", message });
  }

  /**
   * `ManualChange` and a log line naming who, where the API server says. A change recorded is
   * told once by nature (it is no longer one); one left unrecorded (observe mode: the Event and
   * log line; dry run: the log line) is told once per change.
   */
  #reportManual(
    key: string,
    w: Workload,
    manual: readonly ManualChange[],
    how: "recorded" | "observe" | "dry-run",
  ): void {
    const by = w.specManager ?? "unknown (no managedFields)";
    for (const { container, wrote } of manual) {
      const change = `${key}|${container.name}|${wrote.image}|${container.image}`;
      if (how !== "recorded" && !this.#firstTold(change)) continue;
      const fields = {
        workload: describe(w),
        container: container.name,
        wrote: wrote.image,
        now: container.image,
        by,
      };
      if (how === "dry-run") {
        this.#log.info("dry-run: would keep a human change and reject what Argoos wrote", fields);
        continue;
      }
      const observed = how === "observe";
      this.#log.warn(
        observed
          ? "human change seen: observe mode, nothing recorded"
          : "human change kept: what Argoos wrote is rejected here",
        fields,
      );
      const kept = observed
        ? "observe mode: nothing recorded"
        : `${wrote.image} is not written here again`;
      this.#opts.events?.record({
        workload: w,
        reason: "ManualChange",
        type: "Warning",
        message: `${container.name}: ${wrote.image} → ${container.image} by ${by}; ${kept}`,
        changes: [{
          container: container.name,
          from: wrote.image,
          to: container.image,
          ...(container.ref?.digest ? { digest: container.ref.digest } : {}),
        }],
      });
    }
  }

  /** Whether `text` is told for the first time (at most MAX_TOLD remembered, oldest go first). */
  #firstTold(text: string): boolean {
    if (this.#told.has(text)) return false;
    this.#told.add(text);
    if (this.#told.size > MAX_TOLD) this.#told.delete(this.#told.values().next().value!);
    return true;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  /** The plan for a workload as it is: which containers change, and the state to record. */
  async plan(w: Workload): Promise<Plan> {
    const { facts } = this.#opts;
    const recorded = readState(w.annotations);
    const verdicts: Verdict[] = [];
    const state: WorkloadState = {};
    let credentials: Promise<Credentials> | undefined;
    let running: Promise<Map<string, string>> | undefined;
    let source: string | undefined;
    /** The push behind the first change, for the rollout record. */
    let push: Push | undefined;
    /** The digest each changed container is written with. */
    const digests = new Map<string, string>();
    // Compiled once per resourceVersion; none when the label or an annotation is invalid.
    const { rules: byContainer } = rulesOf(w);
    const gates = this.#opts.gates?.begin(w, this.#now());
    for (const c of w.containers) {
      if (!c.ref || !c.repository) continue;
      const rules = byContainer.get(c.name);
      const listing = facts.listing(c.repository)?.tags;
      const recordedPushes = facts.pushes(c.repository);
      const pushes = gates?.pushes(c, recordedPushes, listing) ?? recordedPushes;
      if (!rules) {
        if (pushes.length > 0 || listing) {
          verdicts.push({ container: c, policy: w.policyLabel, reason: "invalid-policy" });
        }
        continue;
      }
      if (pushes.length === 0 && !listing) continue;
      const f: DecisionFacts = {
        rules,
        image: c.image,
        ref: c.ref,
        state: recorded[c.name],
        pushes,
        listing,
        rejected: rejectionOf(w.annotations, c.repository, rules.policy),
      };
      // The one decision; this loop only reads the pods and asks the registry when it says.
      const verdict = await decideWith(f, {
        running: async () => (await (running ??= this.#running(w))).get(c.name),
        ask: async (candidate) =>
          this.#answer(
            w,
            c.repository!,
            pushes,
            candidate,
            await (credentials ??= this.#opts.credentialsOf(w)),
          ),
      });
      for (const s of verdict.skipped) {
        if (s.digest === undefined) continue;
        this.#log.info("digest rejected on this workload, skipped", {
          workload: describe(w),
          repository: c.repository,
          tag: s.tag,
          digest: s.digest,
          reason: s.why,
        });
      }
      // A gate keeps the update (in argoos.io/pending) and makes it when it opens.
      const held = verdict.to && verdict.chosen &&
        gates?.hold(c, rules.gates, verdict.chosen.candidate, verdict.chosen.digest, verdict.to);
      if (held) {
        const gated = { ...held, to: verdict.to! };
        verdicts.push({ container: c, policy: w.policyLabel, reason: "gated", gated });
        continue;
      }
      if (verdict.state) state[c.name] = verdict.state;
      verdicts.push({
        container: c,
        policy: w.policyLabel,
        reason: verdict.reason,
        ...(verdict.to ? { to: verdict.to } : {}),
      });
      if (verdict.to && verdict.chosen) {
        const { candidate, digest } = verdict.chosen;
        digests.set(c.name, digest);
        source ??= candidate.pushedAt !== undefined ? "webhook" : "poll";
        push ??= {
          repository: c.repository,
          tag: candidate.tag,
          digest,
          pushedAt: candidate.pushedAt ?? this.#now(),
        };
      }
    }
    const annotations = stateAnnotations(w.annotations, state);
    const againMs = gates?.finish(annotations);
    if (push && this.#opts.tracker) {
      // What runs now, pinned by a revert should its pods be gone by then: the pods' digests
      // if this decision read them, else the state's. The pods are not read for this alone: a
      // failed rollout's look reads them, and those still running the old image say it then.
      const ran = running && await running;
      const recorded = readState(w.annotations);
      const changes = verdicts.filter(isChange).map((v): StartedChange => {
        const known = recorded[v.container.name];
        const before = ran?.get(v.container.name) ??
          (known?.image === v.container.image ? known.digest : undefined);
        const digest = digests.get(v.container.name);
        return {
          container: v.container,
          to: v.to,
          ...(digest ? { digest } : {}),
          ...(before ? { ran: before } : {}),
        };
      });
      annotations[ROLLOUT_ANNOTATION] = this.#rolloutRecord(w, changes, push);
    }
    return {
      verdicts,
      annotations,
      ...(source ? { source } : {}),
      ...(againMs === undefined ? {} : { againMs }),
    };
  }

  /**
   * `argoos.io/rollout` for the rollout this plan starts, written in its own patch: what runs
   * now (put back on failure), the user's total budget and the push, so any replica carries on.
   */
  #rolloutRecord(
    w: Workload,
    changes: StartedChange[],
    push: Push,
  ): string {
    const timeout = healthTimeout(w.annotations);
    if (timeout.invalid) {
      this.#log.warn("health timeout unreadable, judged by progress alone", {
        workload: describe(w),
        why: timeout.invalid,
      });
    }
    return encodeRollout(startRecord(w, {
      changes,
      push,
      now: this.#now(),
      timeoutMs: timeout.ms,
      restore: { [STATE_ANNOTATION]: w.annotations[STATE_ANNOTATION] ?? null },
    }));
  }

  /** The digest each container's pods run; empty when the pods cannot be read. */
  #running(w: Workload): Promise<Map<string, string>> {
    return this.#opts.runningDigestsOf(w).catch((err) => {
      this.#log.warn("cannot read what the pods run", { workload: describe(w), error: err });
      return new Map();
    });
  }

  /**
   * What the registry the workload names (its normalized host: what its pods pull from) says of
   * one candidate, for {@linkcode decideWith}. Rejects when the registry is unavailable, or
   * while a pushed tag is not served yet (within the settle time).
   */
  async #answer(
    w: Workload,
    repository: string,
    pushes: readonly RecordedPush[],
    candidate: Candidate,
    credentials: Credentials,
  ): Promise<Answer> {
    const [host, path] = splitRepository(repository);
    const push = candidate.pushedAt === undefined
      ? undefined
      : pushes.find((p) => p.tag === candidate.tag);
    const recordedAt = push && this.#opts.facts.recordedAt(push);
    const line = { workload: describe(w), repository, tag: candidate.tag };
    let served;
    try {
      // An answer older than the fact behind this candidate is not reused.
      served = await this.#opts.verifier.verify(host, path, candidate.tag, credentials, {
        signal: this.#opts.signal,
        expectDigest: push?.digest,
        notBefore: push ? recordedAt : this.#opts.facts.listing(repository)?.at,
      });
    } catch (err) {
      // A final registry answer (credentials refused, a malformed answer: `isFinal`) rejects
      // too: the delivery answers 200 for the others, the queue reports it and backs off.
      if (!(err instanceof TagNotYetServedError)) throw err;
      const settleMs = this.#opts.tagSettleMs ?? DEFAULT_TAG_SETTLE_MS;
      if (this.#now() - (recordedAt ?? -Infinity) < settleMs) throw err;
      this.#log.warn("the tag never named the pushed digest, push dropped", {
        ...line,
        digest: push?.digest,
        afterMs: settleMs,
      });
      return { skip: "the tag never named the pushed digest" };
    }
    if (!served) {
      this.#log.info("tag not served by the registry, not written", line);
      return { skip: "not served" };
    }
    if (served.notImage) {
      this.#log.info("tag is not an image, not written", { ...line, why: served.notImage });
      return { skip: `not an image: ${served.notImage}` };
    }
    return { digest: served.digest };
  }
}

/** What a write that ended a step means for the loop. */
function afterWrite(wrote: WriteResult): Step {
  if (wrote === "applied") return { again: "wrote" };
  if (wrote === "guard-failed") return { again: "race" };
  return { outcome: wrote };
}
