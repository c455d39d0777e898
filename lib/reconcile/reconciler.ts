/**
 * One reconcile per workload key: read the workload from the cache as it is now, gather the
 * candidates its containers have (recorded pushes, the last listing), ask the registry the
 * workload names whether the preferred one exists and is an image, decide, and write one
 * guarded patch. Level-based: running it again with the same facts changes nothing.
 *
 * @module
 */

import type { Gates } from "./gates.ts";
import { type HealthKind, healthTimeout } from "../health/judge.ts";
import { encodeRollout, findRejected, ROLLOUT_ANNOTATION, startRecord } from "../health/record.ts";
import { RECHECK_MS, type RolloutTracker, type TrackOutcome } from "../health/tracker.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { currentTag, judgeTag } from "../policy/candidates.ts";
import { type Candidate, candidatesFor, type ContainerFacts, settle } from "../policy/decide.ts";
import { rulesOf } from "../policy/rules.ts";
import { parseVersion } from "../policy/version.ts";
import {
  readState,
  STATE_ANNOTATION,
  stateAnnotations,
  type WorkloadState,
} from "../policy/state.ts";
import type { Credentials } from "../registry/credentials.ts";
import type { Outcome, Plan, Rollout } from "../rollout/rollout.ts";
import { isChange, type Verdict } from "../rollout/verdict.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import { describe, keyOf, type Workload } from "../workloads/workload.ts";
import type { Push, RecordedPush } from "../image/push.ts";
import { splitRepository } from "../image/reference.ts";
import type { RepositoryFacts } from "./facts.ts";
import { TagNotYetServedError, type TagVerifier } from "../registry/tag_verifier.ts";

/** Candidates asked about per container and reconcile, at most: a bound on forged tags. */
export const MAX_VERIFIED_CANDIDATES = 5;

/**
 * How long after a push was first recorded its tag may still be missing while its digest is
 * served (the reconcile fails and is retried with back-off); after that the push is dropped.
 */
export const DEFAULT_TAG_SETTLE_MS = 10_000;

/** What one reconcile did: the write path's outcome, or `absent` (not a labelled workload). */
export type ReconcileOutcome = Outcome | "absent";

/** Options of {@linkcode Reconciler}. */
export interface ReconcilerOptions {
  cache: WorkloadCache;
  facts: RepositoryFacts;
  verifier: TagVerifier;
  rollout: Rollout;
  /** The registry credentials of a workload (its namespace's pull secrets, then the operator's). */
  credentialsOf: (w: Workload) => Promise<Credentials>;
  /** The digest each container's pods run, by container name (`runningDigests`). */
  runningDigestsOf: (w: Workload) => Promise<Map<string, string>>;
  logger?: Logger;
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
  /** Asks the work queue for another reconcile of `key` in `delayMs` (a rollout in progress). */
  followUp?: (key: string, delayMs: number) => void;
  /** ms until a rollout Argoos just wrote is looked at first. Default {@linkcode RECHECK_MS}. */
  recheckMs?: number;
  /** Told of each plan made (the status page's decisions store). */
  onPlan?: (workload: Workload, plan: Plan) => void;
  /** Update windows, minimum ages, approvals, observe mode: which chosen updates wait. */
  gates?: Gates;
}

/** Looks at a rollout in one reconcile when another replica or a human keeps writing first. */
const MAX_HEALTH_LOOKS = 3;

/**
 * Reconciles workloads by key (`Deployment/default/web`).
 *
 * @example
 * ```ts ignore
 * import { Reconciler } from "./reconciler.ts";
 * const reconciler = new Reconciler({ cache, facts, verifier, rollout, credentialsOf, runningDigestsOf });
 * await reconciler.reconcile("Deployment/default/web"); // "applied"
 * ```
 */
export class Reconciler {
  #opts: ReconcilerOptions;
  #log: Logger;

  constructor(opts: ReconcilerOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "reconcile" });
  }

  /** Reconcile one workload; rejects when the API server or a registry is unavailable. */
  async reconcile(key: string): Promise<ReconcileOutcome> {
    let workload = this.#opts.cache.get(key);
    if (!workload) return "absent";
    let recheckIn: number | undefined;
    if (this.#opts.tracker && workload.annotations[ROLLOUT_ANNOTATION] !== undefined) {
      const looked = await this.#follow(workload);
      if (looked.kind === "progressing") recheckIn = looked.recheckAt - this.#now();
      if (looked.kind === "lost-race") recheckIn = 0;
      workload = this.#opts.cache.get(key);
      if (!workload) return "absent";
    }
    try {
      const outcome = await this.#opts.rollout.apply(workload, "reconcile", async (w) => {
        const plan = await this.plan(w);
        this.#opts.onPlan?.(w, plan);
        return plan;
      });
      if (this.#opts.tracker && outcome === "applied") {
        recheckIn = this.#opts.recheckMs ?? RECHECK_MS;
      }
      return outcome;
    } finally {
      if (recheckIn !== undefined) this.#opts.followUp?.(key, Math.max(0, recheckIn));
    }
  }

  /** Look at the rollout in progress; again when someone wrote first (a bounded number). */
  async #follow(w: Workload): Promise<TrackOutcome> {
    const ref = { kind: w.kind.type.kind as HealthKind, namespace: w.namespace, name: w.name };
    let looked: TrackOutcome = { kind: "none" };
    for (let i = 0; i < MAX_HEALTH_LOOKS; i++) {
      looked = await this.#opts.tracker!.check(ref);
      if (looked.kind !== "lost-race") return looked;
    }
    return looked;
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
    // Compiled once per resourceVersion; none when the label or an annotation is invalid.
    const { rules: byContainer } = rulesOf(w);
    const gates = this.#opts.gates?.begin(w, this.#now());
    for (const c of w.containers) {
      if (!c.ref || !c.repository) continue;
      const rules = byContainer.get(c.name);
      const pushes = gates?.pushes(c, facts.pushes(c.repository)) ?? facts.pushes(c.repository);
      const listing = facts.listing(c.repository)?.tags;
      if (!rules) {
        if (pushes.length > 0 || listing) {
          verdicts.push({ container: c, policy: w.policyLabel, reason: "invalid-policy" });
        }
        continue;
      }
      const f: ContainerFacts = {
        rules,
        image: c.image,
        ref: c.ref,
        state: recorded[c.name],
        pushes,
        listing,
      };
      const candidates = candidatesFor(f);
      if (candidates.length === 0) {
        if (pushes.length > 0 || listing) {
          verdicts.push({ container: c, policy: w.policyLabel, reason: noCandidate(f) });
        }
        continue;
      }
      // Pods are asked only when a decision compares with what runs.
      if (candidates.some((k) => k.tag === currentTag(c.ref!))) {
        running ??= this.#opts.runningDigestsOf(w).catch((err) => {
          this.#log.warn("cannot read what the pods run", { workload: describe(w), error: err });
          return new Map();
        });
        f.running = (await running).get(c.name);
      }
      credentials ??= this.#opts.credentialsOf(w);
      const chosen = await this.#firstServed(
        w,
        c.repository,
        pushes,
        candidates,
        await credentials,
      );
      if (!chosen) {
        verdicts.push({ container: c, policy: w.policyLabel, reason: "not-served" });
        continue;
      }
      const settled = settle(f, chosen.candidate, chosen.served);
      // A gate keeps the update (in argoos.io/pending) and makes it when it opens.
      const held = settled.to &&
        gates?.hold(c, rules.gates, chosen.candidate, chosen.served.digest, settled.to);
      if (held) {
        const gated = { ...held, to: settled.to! };
        verdicts.push({ container: c, policy: w.policyLabel, reason: "gated", gated });
        continue;
      }
      if (settled.state) state[c.name] = settled.state;
      verdicts.push({
        container: c,
        policy: w.policyLabel,
        reason: settled.reason,
        ...(settled.to ? { to: settled.to } : {}),
      });
      if (settled.to) {
        source ??= chosen.candidate.pushedAt !== undefined ? "webhook" : "poll";
        push ??= {
          repository: c.repository,
          tag: chosen.candidate.tag,
          digest: chosen.served.digest,
          pushedAt: chosen.candidate.pushedAt ?? this.#now(),
        };
      }
    }
    const annotations = stateAnnotations(w.annotations, state);
    const gateOpensIn = gates?.finish(annotations);
    if (gateOpensIn !== undefined) {
      this.#opts.followUp?.(keyOf(w), gateOpensIn);
    }
    if (push && this.#opts.tracker) {
      annotations[ROLLOUT_ANNOTATION] = this.#rolloutRecord(w, verdicts, push);
    }
    return { verdicts, annotations, ...(source ? { source } : {}) };
  }

  /**
   * `argoos.io/rollout` for the rollout this plan starts, written in its own patch: what runs
   * now (put back on failure), the user's total budget and the push, so any replica carries on.
   */
  #rolloutRecord(
    w: Workload,
    verdicts: Verdict[],
    push: Push,
  ): string {
    const timeout = healthTimeout(w.annotations);
    if (timeout.invalid) {
      this.#log.warn("health timeout unreadable, judged by progress alone", {
        workload: describe(w),
        why: timeout.invalid,
      });
    }
    const changes = verdicts.filter(isChange).map((v) => ({ container: v.container, to: v.to }));
    return encodeRollout(startRecord(w, {
      changes,
      push,
      now: this.#now(),
      timeoutMs: timeout.ms,
      restore: { [STATE_ANNOTATION]: w.annotations[STATE_ANNOTATION] ?? null },
    }));
  }

  /** The first candidate the registry serves as an image, asking about a bounded number. */
  async #firstServed(
    w: Workload,
    repository: string,
    pushes: readonly RecordedPush[],
    candidates: Candidate[],
    credentials: Credentials,
  ) {
    // The registry the workload names (normalized host: what its pods pull from).
    const [host, path] = splitRepository(repository);
    for (const candidate of candidates.slice(0, MAX_VERIFIED_CANDIDATES)) {
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
        continue;
      }
      if (!served) {
        this.#log.info("tag not served by the registry, not written", line);
        continue;
      }
      if (served.notImage) {
        this.#log.info("tag is not an image, not written", { ...line, why: served.notImage });
        continue;
      }
      // A digest that failed here before is never tried again; a new push of the tag is.
      const rejected = findRejected(w.annotations, repository, served.digest);
      if (rejected) {
        this.#log.info("digest rejected on this workload, skipped", {
          ...line,
          digest: served.digest,
          reason: rejected.reason,
        });
        continue;
      }
      return { candidate, served };
    }
    return undefined;
  }
}

/** Why a container with facts has no candidate: what the policy says of the newest push. */
function noCandidate(f: ContainerFacts): Verdict["reason"] {
  const newest = f.pushes.at(-1);
  if (f.rules.policy === "all" || !newest) {
    const tag = currentTag(f.ref);
    const versions = f.rules.policy !== "all" && f.rules.policy !== "newest";
    const standing = versions && (tag === undefined || !parseVersion(tag));
    return standing ? "current-not-version" : "no-candidate";
  }
  return judgeTag(f.rules, currentTag(f.ref), newest.tag);
}
