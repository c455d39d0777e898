/**
 * The gates in a reconcile: for one workload, which chosen updates wait (and are recorded in
 * `argoos.io/pending`), which approvals a write consumes, and when to look again.
 *
 * @module
 */

import { parseReference, referenceRepository } from "../image/reference.ts";
import { rulesOf } from "../policy/rules.ts";
import type { RecordedPush } from "../image/push.ts";
import type { ContainerImage, Workload } from "../workloads/workload.ts";
import { FirstSeen } from "./first_seen.ts";
import { gateFor, type GateRules, type Held } from "../gates/gates.ts";
import {
  APPROVE_ANNOTATION,
  approvedDigests,
  encodePending,
  type Pending,
  PENDING_ANNOTATION,
  type PendingUpdate,
  readPending,
} from "../gates/pending.ts";

/**
 * Longest wait before a held update is looked at again, whatever its gate says: a timer beyond
 * 2^31 ms fires at once, and a day bounds what a clock jump can cost.
 */
export const MAX_GATE_RECHECK_MS = 24 * 3_600_000;

/** Options of {@linkcode Gates}. */
export interface GatesOptions {
  /** The service's gates (`--update-window`, `--min-age`, `--observe`); annotations win. */
  defaults?: GateRules;
  /** First sightings of tags at digests; default a new one of 10,000 entries. */
  firstSeen?: FirstSeen;
  /** Told after each decision about a workload of the updates its gates hold (none: `{}`). */
  onHeld?: (w: Workload, held: Readonly<Record<string, HeldUpdate>>) => void;
}

/**
 * The gates of every workload: the service's defaults and what was first seen when.
 *
 * @example
 * ```ts ignore
 * import { Gates } from "./gates.ts";
 * const gates = new Gates({ defaults: { minAgeMs: 3_600_000 } });
 * const g = gates.begin(workload, Date.now());
 * const closed = g.hold(container, rules.gates, candidate, digest, "app:1.2.4");
 * const annotations = {};
 * const recheckInMs = g.finish(annotations); // annotations now holds argoos.io/pending
 * ```
 */
export class Gates {
  #opts: GatesOptions;
  #firstSeen: FirstSeen;

  constructor(opts: GatesOptions = {}) {
    this.#opts = opts;
    this.#firstSeen = opts.firstSeen ?? new FirstSeen();
  }

  /** The gates of one decision about `w` at `now` (ms epoch). */
  begin(w: Workload, now: number): WorkloadGates {
    return new WorkloadGates(w, now, this.#opts, this.#firstSeen);
  }

  /**
   * Whether every container of `w` is in observe mode (its annotations, else the service's
   * `--observe`): Argoos writes nothing there but `argoos.io/pending`. False when a rule of `w`
   * does not read (the workload is left alone anyway).
   */
  observes(w: Workload): boolean {
    return observesAll(w, this.#opts.defaults);
  }
}

/** {@linkcode Gates.observes}, with the service's defaults. */
function observesAll(w: Workload, defaults: GateRules | undefined): boolean {
  const { rules, errors } = rulesOf(w);
  if (errors.length > 0) return false;
  return w.containers.every((c) => ({ ...defaults, ...rules.get(c.name)?.gates }).observe === true);
}

/** One container's held update as recorded, and why it waits (`Held.message`). */
export type HeldUpdate = PendingUpdate & { message: string };

/** The gates of one decision about one workload (see {@linkcode Gates.begin}). */
export class WorkloadGates {
  #w: Workload;
  #now: number;
  #opts: GatesOptions;
  #firstSeen: FirstSeen;
  #recorded: Pending;
  #approved: Set<string>;
  #held: Record<string, HeldUpdate> = {};
  /** Approved digests this decision writes. */
  #consumed = new Set<string>();

  constructor(w: Workload, now: number, opts: GatesOptions, firstSeen: FirstSeen) {
    this.#w = w;
    this.#now = now;
    this.#opts = opts;
    this.#firstSeen = firstSeen;
    this.#recorded = readPending(w.annotations);
    this.#approved = approvedDigests(w.annotations);
  }

  /**
   * A container's recorded pushes, with the push its pending record holds when neither a
   * recorded push nor the current `listing` names that tag: a window or a minimum age may
   * outlast the facts, and the update is made when the gate opens, without a new push. Only a
   * pending update a push brought is given back, with that push's own time; a listed one comes
   * back with the listing (a push time it never had would outrank newer listed tags).
   */
  pushes(
    c: ContainerImage,
    recorded: readonly RecordedPush[],
    listing: readonly string[] | undefined,
  ): readonly RecordedPush[] {
    const p = this.#recorded[c.name];
    if (p?.pushedAt === undefined || !c.repository) return recorded;
    let tag: string | undefined;
    try {
      const ref = parseReference(p.image);
      if (referenceRepository(ref) === c.repository) tag = ref.tag;
    } catch {
      return recorded;
    }
    if (tag === undefined || recorded.some((r) => r.tag === tag) || listing?.includes(tag)) {
      return recorded;
    }
    const held = { repository: c.repository, tag, digest: p.digest, pushedAt: p.pushedAt };
    return [...recorded, { ...held, source: "pending" }];
  }

  /**
   * Whether the update of `c` to `to` (the candidate's tag, with its push time when a push named
   * it, served at `digest`) waits: the gate that holds it, recorded for `argoos.io/pending`;
   * undefined when it may be written.
   */
  hold(
    c: ContainerImage,
    rules: GateRules | undefined,
    candidate: { tag: string; pushedAt?: number },
    digest: string,
    to: string,
  ): Held | undefined {
    const gates = { ...this.#opts.defaults, ...rules };
    const known = this.#recorded[c.name];
    // The earliest time it is known from: a later notification of the same digest, or a
    // restart, does not move its clock (nor rewrite its record).
    const since = Math.min(
      candidate.pushedAt ??
        this.#firstSeen.seen(`${c.repository}:${candidate.tag}@${digest}`, this.#now),
      known?.digest === digest ? known.since : Infinity,
    );
    const pushedAt = Math.min(
      candidate.pushedAt ?? Infinity,
      known?.digest === digest ? known.pushedAt ?? Infinity : Infinity,
    );
    const decision = gateFor(gates, { digest, since }, this.#approved, this.#now);
    if (decision.open) {
      if (gates.approval) this.#consumed.add(digest);
      return undefined;
    }
    this.#held[c.name] = {
      image: to,
      digest,
      since,
      ...(pushedAt !== Infinity ? { pushedAt } : {}),
      gate: decision.gate,
      ...(decision.opensAt !== undefined ? { opensAt: decision.opensAt } : {}),
      message: decision.message,
    };
    return decision;
  }

  /**
   * Add this decision's writes to the plan's annotation `writes`: the pending record as it now
   * is, the approvals a write consumes removed (others kept). A workload whose every container
   * is in observe mode keeps no other write; one with an invalid gate or policy is left alone.
   * Returns in how many ms a held update may be written, if a gate says when.
   */
  finish(writes: Record<string, string | null>): number | undefined {
    this.#opts.onHeld?.(this.#w, this.#held);
    if (rulesOf(this.#w).errors.length > 0) return undefined;
    if (observesAll(this.#w, this.#opts.defaults)) {
      for (const key of Object.keys(writes)) delete writes[key];
    }
    const text = encodePending(this.#held);
    if (text !== (this.#w.annotations[PENDING_ANNOTATION] ?? null)) {
      writes[PENDING_ANNOTATION] = text;
    }
    if (this.#consumed.size > 0 && this.#w.annotations[APPROVE_ANNOTATION] !== undefined) {
      const left = [...this.#approved].filter((d) => !this.#consumed.has(d));
      writes[APPROVE_ANNOTATION] = left.length > 0 ? left.join(",") : null;
    }
    const opensAt = Math.min(...Object.values(this.#held).map((p) => p.opensAt ?? Infinity));
    if (opensAt === Infinity) return undefined;
    return Math.min(Math.max(0, opensAt - this.#now), MAX_GATE_RECHECK_MS);
  }
}
