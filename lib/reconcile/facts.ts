/**
 * What the triggers learned about repositories: pushes the webhook recorded and the last tag
 * listing the poll made. Facts are hints for the reconcile, never orders: whatever is chosen
 * from them is checked with the registry before it is written.
 *
 * @module
 */

import type { RecordedPush } from "../image/push.ts";

/** The last tag listing of a repository. */
export interface Listing {
  tags: readonly string[];
  /** ms epoch of the listing. */
  at: number;
}

/** Bounds of {@linkcode RepositoryFacts}. */
export interface FactsLimits {
  /** Pushes kept per repository, newest by push time. Default 64. */
  pushesPerRepository?: number;
  /** Repositories with facts; the least recently recorded one goes first. Default 10,000. */
  repositories?: number;
  /**
   * Pushes kept in all, whatever the number of repositories; past it, the least recently
   * recorded repositories go first. Default 5,000 (~2.5 MB: a push with its record is
   * ~500 bytes); a burst larger than this within one reconcile round is rare, and a push
   * dropped is only a hint lost: the poll, when on, lists the tag again.
   */
  maxPushes?: number;
  /**
   * Pushes recorded longer ago than this are dropped (by the time recorded, not the
   * registry's push time: a registry's clock may be off). Default 1 hour.
   */
  maxAgeMs?: number;
}

interface Entry {
  /** Sorted by pushedAt, oldest first; one entry per tag (the latest push of it). */
  pushes: RecordedPush[];
  listing?: Listing;
}

/**
 * Pushes and listings per repository, bounded: at most `repositories` repositories (least
 * recently recorded dropped first), `pushesPerRepository` pushes each (oldest dropped first,
 * one per tag: a later push of a tag replaces the earlier one), none recorded longer ago than
 * `maxAgeMs`, at most `maxPushes` pushes in all, and one listing each. Memory is thus at most
 * `maxPushes` pushes, plus one listing per repository the poll lists (those labelled
 * workloads use), plus `repositories` small entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RepositoryFacts } from "./facts.ts";
 * const facts = new RepositoryFacts();
 * const now = Date.now();
 * facts.recordPush({ repository: "docker.io/library/app", tag: "1.2.4", pushedAt: now, source: "distribution" });
 * facts.recordPush({ repository: "docker.io/library/app", tag: "1.2.4", pushedAt: now - 5, source: "distribution" });
 * assert.equal(facts.pushes("docker.io/library/app").length, 1);
 * assert.equal(facts.pushes("docker.io/library/app")[0].pushedAt, now); // the later push of a tag wins
 * facts.recordListing("docker.io/library/app", ["1.2.3", "1.2.4"], now);
 * assert.deepEqual(facts.listing("docker.io/library/app")?.tags, ["1.2.3", "1.2.4"]);
 * ```
 */
export class RepositoryFacts {
  readonly #pushesPerRepository: number;
  readonly #repositories: number;
  readonly #maxAgeMs: number;
  readonly #maxPushes: number;
  readonly #now: () => number;
  /** When each push held was recorded (ms epoch), for the age bound; one WeakMap for all. */
  readonly #recorded = new WeakMap<RecordedPush, number>();
  /** Pushes held in all entries. */
  #pushCount = 0;
  /** Bounded by `#repositories`; Map order is recording order, least recent first. */
  #byRepository = new Map<string, Entry>();

  constructor(limits: FactsLimits = {}, now: () => number = Date.now) {
    this.#pushesPerRepository = limits.pushesPerRepository ?? 64;
    this.#repositories = limits.repositories ?? 10_000;
    this.#maxAgeMs = limits.maxAgeMs ?? 3_600_000;
    this.#maxPushes = limits.maxPushes ?? 5_000;
    this.#now = now;
  }

  /** Record a push; a push of a tag older than the one recorded for it is ignored. */
  recordPush(p: RecordedPush): void {
    const entry = this.#touch(p.repository);
    const same = entry.pushes.findIndex((q) => q.tag === p.tag);
    if (same >= 0) {
      const known = entry.pushes[same];
      if (known.pushedAt > p.pushedAt) return;
      // The same push delivered again keeps the time it was first recorded (bounds waiting on it).
      if (known.pushedAt === p.pushedAt && known.digest === p.digest) return;
      entry.pushes.splice(same, 1);
      this.#pushCount--;
    }
    let at = entry.pushes.length;
    while (at > 0 && entry.pushes[at - 1].pushedAt > p.pushedAt) at--;
    const copy = { ...p };
    this.#recorded.set(copy, this.#now());
    entry.pushes.splice(at, 0, copy);
    this.#pushCount++;
    if (entry.pushes.length > this.#pushesPerRepository) {
      entry.pushes.shift();
      this.#pushCount--;
    }
    while (this.#pushCount > this.#maxPushes && this.#byRepository.size > 1) this.#dropOldest();
  }

  /**
   * Record the tags a listing returned at `at` (ms epoch), replacing the previous listing.
   * Returns whether the tags differ from the previous listing's (in any way, order included).
   * When they do not, the previous tags object is kept: candidates shared per listing object
   * (`decideContainer`) stay valid, and an unchanged listing is no new fact.
   */
  recordListing(repository: string, tags: readonly string[], at: number): boolean {
    const entry = this.#touch(repository);
    const before = entry.listing?.tags;
    const same = before === tags || before !== undefined && before.length === tags.length &&
        before.every((t, i) => t === tags[i]);
    entry.listing = { tags: same ? before : tags, at };
    return !same;
  }

  /** Recorded pushes of a repository, oldest push first, none past the age bound. */
  pushes(repository: string): readonly RecordedPush[] {
    const entry = this.#byRepository.get(repository);
    if (!entry) return [];
    const oldest = this.#now() - this.#maxAgeMs;
    if (entry.pushes.some((p) => this.#recorded.get(p)! < oldest)) {
      const kept = entry.pushes.filter((p) => this.#recorded.get(p)! >= oldest);
      this.#pushCount -= entry.pushes.length - kept.length;
      entry.pushes = kept;
    }
    return entry.pushes;
  }

  /** When a push returned by {@linkcode RepositoryFacts.pushes} was recorded (ms epoch). */
  recordedAt(p: RecordedPush): number | undefined {
    return this.#byRepository.has(p.repository) ? this.#recorded.get(p) : undefined;
  }

  /** The last listing of a repository, if any. */
  listing(repository: string): Listing | undefined {
    return this.#byRepository.get(repository)?.listing;
  }

  #touch(repository: string): Entry {
    let entry = this.#byRepository.get(repository);
    if (entry) this.#byRepository.delete(repository);
    else entry = { pushes: [] };
    if (this.#byRepository.size >= this.#repositories) this.#dropOldest();
    this.#byRepository.set(repository, entry);
    return entry;
  }

  #dropOldest(): void {
    const [repository, entry] = this.#byRepository.entries().next().value!;
    this.#pushCount -= entry.pushes.length;
    this.#byRepository.delete(repository);
  }
}
