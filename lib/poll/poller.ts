/**
 * The poll loop, a trigger: for every repository a labelled workload uses, list its tags,
 * record the listing and enqueue the workloads whose decision it may change, so a missed
 * notification, or a registry that sends none, still ends in the rollout the policy asks for.
 * The reconcile decides; the poll writes nothing itself.
 *
 * A listing identical to the last one is no new fact: a workload already reconciled with the
 * same listings of its repositories and the same version of itself is not enqueued again,
 * unless its policy follows digests (`all`: a moved tag shows in no listing), or its last look
 * is older than {@linkcode FULL_LOOK_MS}. Skipping is safe because the reconcile is
 * level-based and every other input enqueues on its own: a change of the workload (the cache
 * watch), a push (the webhook), a failed or refused reconcile (the queue's back-off), a gate
 * or hold that ends (the reconcile's requeue).
 *
 * @module
 */

import { MAX_TIMER_MS } from "../async/max_timer.ts";
import { Loop } from "../async/loop.ts";
import { sleep } from "../async/sleep.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { rulesOf } from "../policy/rules.ts";
import type { RepositoryFacts } from "../reconcile/facts.ts";
import type { RegistryClient } from "../registry/client.ts";
import type { Credentials } from "../registry/credentials.ts";
import { isFinal, type RegistryError } from "../registry/errors.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import { describe, keyOf, type Workload } from "../workloads/workload.ts";
import { parseDuration } from "../parse/duration.ts";
import { fetchOffers, usersByRepository } from "./offers.ts";

/** The shortest interval a workload's annotation may ask for. */
const MIN_INTERVAL_MS = 10_000;
/**
 * A workload whose listings did not change is still reconciled after this long: a safety net
 * for what no trigger reports (a listed tag the registry did not serve yet, then serves).
 */
export const FULL_LOOK_MS = 3_600_000;

/** Annotation with which a workload asks for its own poll interval (`1m`, `1h`). */
export const POLL_INTERVAL_ANNOTATION = "argoos.io/poll-interval";

/** Options of {@linkcode Poller}. */
export interface PollerOptions {
  cache: WorkloadCache;
  registry: Pick<RegistryClient, "listTags">;
  /** Where listings are recorded. */
  facts: RepositoryFacts;
  /** Queue a workload key for a reconcile; resolves when it ran. */
  enqueue: (key: string) => Promise<unknown>;
  /** A workload's registry credentials (pull secrets, then the operator's). */
  credentialsOf: (w: Workload) => Promise<Credentials>;
  intervalMs: number;
  /** Whether this replica polls now (leader election); default always. */
  isLeader?: () => boolean;
  logger?: Logger;
  /**
   * Told of a repository whose listing was refused this cycle (over its bounds), with the
   * workloads that use it (for Events on them).
   */
  onListingRefused?: (
    repository: string,
    workloads: readonly Workload[],
    err: RegistryError,
  ) => void;
  /** Told the duration of every cycle. */
  onCycle?: (stats: CycleStats) => void;
}

/** What one cycle did. */
export interface CycleStats {
  /** Repositories listed in the cycle. */
  repositories: number;
  /** Of them, those whose listing failed. */
  failedRepositories: number;
  /** Tag listings made: one per repository polled. */
  listings: number;
  /** Workloads reconciled after a listing of a repository they use. */
  workloads: number;
  /**
   * Workloads listed for but not reconciled: nothing they are decided from changed since
   * their last reconcile after a listing.
   */
  unchanged: number;
  /** How long the cycle took. */
  seconds: number;
}

/**
 * Polls registries on an interval with jitter; {@linkcode Poller.cycle} runs one pass.
 *
 * @example
 * ```ts ignore
 * import { Poller } from "./poller.ts";
 * const poller = new Poller({ cache, registry, facts, enqueue, credentialsOf, intervalMs: 300_000 });
 * poller.start();
 * await poller.stop();
 * ```
 */
export class Poller {
  #opts: PollerOptions;
  #log: Logger;
  /** When each repository was last listed: only repositories labelled workloads use now. */
  #lastPolled = new Map<string, number>();
  /**
   * A number per repository, bumped when its listing changes; with #lastPolled's repositories.
   */
  #listingVersions = new Map<string, number>();
  /**
   * What each workload (by key) was last reconciled from after a poll (#inputsOf)
   * and when: at most one entry per workload in the cache.
   */
  #looked = new Map<string, { inputs: string; at: number }>();
  #loop: Loop;

  /** A poller; nothing happens before {@linkcode Poller.start}. */
  constructor(opts: PollerOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "poll" });
    this.#loop = new Loop({
      ready: (signal) => Promise.race([opts.cache.synced, sleep(MAX_TIMER_MS, signal)]),
      turn: () => this.#turn(),
      pauseMs: () => Math.min(this.#tickMs() * (0.9 + Math.random() * 0.2), MAX_TIMER_MS),
    });
  }

  /** Start the loop: first cycle once the cache is in sync, then every interval (±10%). */
  start(): void {
    this.#loop.start();
  }

  /** Stop the loop, waiting for a cycle in progress. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  async #turn(): Promise<void> {
    if (!(this.#opts.isLeader?.() ?? true)) return;
    try {
      await this.cycle();
    } catch (err) {
      this.#log.error("poll cycle failed", { error: err });
    }
  }

  /** The shortest interval any workload asks for, so its repository is polled in time. */
  #tickMs(): number {
    let tick = this.#opts.intervalMs;
    for (const w of this.#opts.cache.all()) tick = Math.min(tick, this.#intervalOf(w));
    // A floor, so a mistyped `--poll-interval 1ms` cannot turn the loop into a spin.
    return Math.max(tick, 1_000);
  }

  #intervalOf(w: Workload): number {
    const override = w.annotations[POLL_INTERVAL_ANNOTATION];
    if (override === undefined) return this.#opts.intervalMs;
    try {
      const ms = parseDuration(override);
      return ms === 0 ? this.#opts.intervalMs : Math.max(ms, MIN_INTERVAL_MS);
    } catch {
      return this.#opts.intervalMs;
    }
  }

  /**
   * One pass over every repository that is due: one tags listing per repository, whatever
   * the number of workloads using it, recorded; each workload is enqueued once the
   * repositories it uses are listed, and the cycle waits for those reconciles.
   */
  async cycle(now: number = Date.now()): Promise<CycleStats> {
    const started = performance.now();
    const { cache, registry, facts } = this.#opts;
    const users = usersByRepository(cache.all(), (w) => rulesOf(w).errors.length === 0);
    for (const repo of this.#lastPolled.keys()) {
      if (!users.has(repo)) {
        this.#lastPolled.delete(repo);
        this.#listingVersions.delete(repo);
      }
    }
    for (const key of this.#looked.keys()) {
      if (cache.get(key) === undefined) this.#looked.delete(key);
    }
    for (const [repo, ws] of users) {
      const interval = Math.min(...ws.map((w) => this.#intervalOf(w)));
      const last = this.#lastPolled.get(repo);
      // A little slack so jitter does not skip a repository for a whole tick.
      if (last !== undefined && now - last < interval * 0.85) users.delete(repo);
    }

    // Each workload is enqueued as soon as the repositories it uses are done, so one slow
    // registry holds back only its own workloads.
    const signal = this.#loop.signal;
    const waiting = new Map<Workload, number>();
    for (const ws of users.values()) for (const w of ws) waiting.set(w, (waiting.get(w) ?? 0) + 1);
    const listed = new Set<Workload>();
    const reconciles: Promise<unknown>[] = [];
    let unchanged = 0;
    const { offers, failures, listings } = await fetchOffers(
      users,
      registry,
      this.#opts.credentialsOf,
      {
        signal,
        onSettled: (repo, offer, refused) => {
          if (offer && facts.recordListing(repo, offer.tags, Date.now())) {
            this.#listingVersions.set(repo, (this.#listingVersions.get(repo) ?? 0) + 1);
          }
          if (refused) {
            this.#log.warn("tag listing refused this cycle", {
              repository: repo,
              workloads: users.get(repo)!.length,
              error: refused,
            });
            this.#opts.onListingRefused?.(repo, users.get(repo)!, refused);
          }
          const withoutAccess = new Set(offer?.withoutAccess);
          if (withoutAccess.size > 0) this.#warnWithoutAccess(repo, offer!.withoutAccess);
          for (const w of users.get(repo)!) {
            if (offer && !withoutAccess.has(w)) listed.add(w);
            // Not served by this listing: looked at afresh once it is.
            else if (offer) this.#looked.delete(keyOf(w));
            const left = waiting.get(w)! - 1;
            waiting.set(w, left);
            if (left > 0 || !listed.has(w)) continue;
            if (this.#due(w, now)) reconciles.push(this.#enqueue(w, now));
            else unchanged++;
          }
        },
      },
    );
    for (const repo of offers.keys()) this.#lastPolled.set(repo, now);
    // A failing registry is told once per cycle, not once per workload or repository.
    for (const [host, f] of failures) {
      this.#log.warn("registry unavailable this cycle", { host, ...f });
    }
    await Promise.all(reconciles);

    const stats: CycleStats = {
      repositories: users.size,
      failedRepositories: [...failures.values()].reduce((n, f) => n + f.repositories, 0),
      listings,
      workloads: listed.size - unchanged,
      unchanged,
      seconds: (performance.now() - started) / 1000,
    };
    this.#log.debug("poll cycle done", { ...stats });
    this.#opts.onCycle?.(stats);
    return stats;
  }

  /** Told once per cycle and repository, naming a few of the workloads. */
  #warnWithoutAccess(repository: string, workloads: readonly Workload[]): void {
    this.#log.warn(
      "private repository listed for other namespaces only: these hold no credentials for it",
      {
        repository,
        workloads: workloads.length,
        first: workloads.slice(0, 5).map(describe),
      },
    );
  }

  /**
   * Whether a listed workload is reconciled this cycle: its policy follows digests, something
   * it is decided from changed since its last look after a poll, or that look is old.
   */
  #due(w: Workload, now: number): boolean {
    for (const rules of rulesOf(w).rules.values()) if (rules.policy === "all") return true;
    const looked = this.#looked.get(keyOf(w));
    return looked === undefined || looked.inputs !== this.#inputsOf(w) ||
      now - looked.at >= FULL_LOOK_MS;
  }

  /**
   * What a listed workload is decided from that the poll knows of: its version (any change of
   * it, Argoos's own writes included) and the listing of each repository it uses.
   */
  #inputsOf(w: Workload): string {
    const versions = w.containers.map((c) =>
      c.repository === undefined ? "" : this.#listingVersions.get(c.repository) ?? "-"
    );
    return `${w.resourceVersion} ${versions.join(" ")}`;
  }

  /**
   * Enqueue `w`; once it is reconciled, what it was decided from is remembered (#looked). A
   * failed reconcile is logged (the queue retries it) and looked at again next cycle.
   */
  async #enqueue(w: Workload, now: number): Promise<void> {
    // A replica that stopped or lost the Lease mid-cycle leaves the rest to the new leader.
    if (this.#loop.signal.aborted || !(this.#opts.isLeader?.() ?? true)) return;
    const key = keyOf(w);
    const inputs = this.#inputsOf(w);
    this.#looked.delete(key);
    try {
      await this.#opts.enqueue(key);
      this.#looked.set(key, { inputs, at: now });
    } catch (err) {
      // A final registry answer is told once per series where the queue runs it, not per cycle.
      if (isFinal(err)) return;
      this.#log.warn("reconcile after poll failed, retried from the queue", {
        workload: describe(w),
        error: err,
      });
    }
  }
}
