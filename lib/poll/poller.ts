/**
 * The poll loop: for every repository a labelled workload uses, ask the
 * registry what exists and hand the decision to the shared patch routine, so a
 * missed notification, or a registry that sends none, still ends in the
 * rollout the policy asks for.
 *
 * @module
 */

import { sleep } from "../async/sleep.ts";
import type { KubeClient } from "../kube/client.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { parsePolicy } from "../policy/policy.ts";
import type { RegistryClient } from "../registry/client.ts";
import type { CredentialMap } from "../registry/credentials.ts";
import { type Rollout, TransientRolloutError } from "../rollout/rollout.ts";
import type { Verdict } from "../rollout/verdict.ts";
import type { WorkloadCache } from "../workloads/cache.ts";
import type { KubeObject, Workload } from "../workloads/workload.ts";
import { baselinePatch, type Baselines } from "./baselines.ts";
import { parseDuration } from "./duration.ts";
import { fetchOffers, usersByRepository } from "./offers.ts";
import { currentTag, pollVerdicts, type RepositoryOffer } from "./poll_verdicts.ts";
import { PullSecrets } from "./pull_secrets.ts";

/** Timers longer than this (about 24.8 days) fire at once: they are capped, not passed on. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The shortest interval a workload's annotation may ask for. */
const MIN_INTERVAL_MS = 10_000;

/** Annotation with which a workload asks for its own poll interval (`1m`, `1h`). */
export const POLL_INTERVAL_ANNOTATION = "argoos.io/poll-interval";

/** Options of {@linkcode Poller}. */
export interface PollerOptions {
  cache: WorkloadCache;
  rollout: Rollout;
  registry: RegistryClient;
  /** Reads pull secrets and records digest baselines. */
  client: KubeClient;
  intervalMs: number;
  /** Credentials from `--docker-config`, used after the workloads' own. */
  dockerCredentials?: CredentialMap;
  /** Whether this replica polls now (leader election); default always. */
  isLeader?: () => boolean;
  dryRun?: boolean;
  logger?: Logger;
  /** Told the duration of every cycle. */
  onCycle?: (stats: CycleStats) => void;
}

/** What one cycle did. */
export interface CycleStats {
  repositories: number;
  failedRepositories: number;
  /** Tag listings made: one per repository polled. */
  listings: number;
  /** Digest HEADs made. */
  heads: number;
  workloads: number;
  seconds: number;
}

/**
 * Polls registries on an interval with jitter; {@linkcode Poller.cycle} runs one pass.
 *
 * @example
 * ```ts ignore
 * import { Poller } from "./poller.ts";
 * const poller = new Poller({ cache, rollout, registry, client, intervalMs: 300_000 });
 * poller.start();
 * await poller.stop();
 * ```
 */
export class Poller {
  #opts: PollerOptions;
  #log: Logger;
  #lastPolled = new Map<string, number>();
  #abort = new AbortController();
  #running?: Promise<void>;

  constructor(opts: PollerOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "poll" });
  }

  /** Start the loop: first cycle once the cache is in sync, then every interval (±10%). */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stop the loop, waiting for a cycle in progress. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    await Promise.race([this.#opts.cache.synced, sleep(MAX_TIMER_MS, signal)]);
    while (!signal.aborted) {
      if (this.#opts.isLeader?.() ?? true) {
        try {
          await this.cycle();
        } catch (err) {
          this.#log.error("poll cycle failed", { error: err });
        }
      }
      const tick = this.#tickMs();
      await sleep(Math.min(tick * (0.9 + Math.random() * 0.2), MAX_TIMER_MS), signal);
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
   * One pass over every repository that is due: one tags listing per
   * repository, whatever the number of workloads using it, plus the digest
   * HEADs the decisions need; then one decision and at most one patch per workload.
   */
  async cycle(now: number = Date.now()): Promise<CycleStats> {
    const started = performance.now();
    const { cache, registry } = this.#opts;
    const secrets = new PullSecrets(this.#opts.client, this.#opts.dockerCredentials, this.#log);

    const users = usersByRepository(cache.all(), (w) => parsePolicy(w.policyLabel) !== undefined);
    for (const [repo, ws] of users) {
      const interval = Math.min(...ws.map((w) => this.#intervalOf(w)));
      const last = this.#lastPolled.get(repo);
      // A little slack so jitter does not skip a repository for a whole tick.
      if (last !== undefined && now - last < interval * 0.85) users.delete(repo);
    }

    // Each workload is decided as soon as the repositories it uses are done, so one slow
    // registry holds back only its own workloads.
    const signal = this.#abort.signal;
    const waiting = new Map<Workload, number>();
    for (const ws of users.values()) for (const w of ws) waiting.set(w, (waiting.get(w) ?? 0) + 1);
    const settled = new Map<string, RepositoryOffer | undefined>();
    const decisions: Promise<void>[] = [];
    const { offers, failures, incomplete, listings, heads } = await fetchOffers(
      users,
      registry,
      (w) => secrets.forWorkload(w),
      {
        signal,
        onSettled: (repo, offer) => {
          settled.set(repo, offer);
          for (const w of users.get(repo)!) {
            const left = waiting.get(w)! - 1;
            waiting.set(w, left);
            if (left === 0) decisions.push(this.#decideOffered(w, settled));
          }
        },
      },
    );
    for (const repo of offers.keys()) if (!incomplete.has(repo)) this.#lastPolled.set(repo, now);
    // A failing registry is told once per cycle, not once per workload or repository.
    for (const [host, f] of failures) {
      this.#log.warn("registry unavailable this cycle", { host, ...f });
    }
    await Promise.all(decisions);
    const workloads = [...waiting.keys()].filter((w) =>
      w.containers.some((c) => c.repository !== undefined && offers.has(c.repository))
    );

    const stats: CycleStats = {
      repositories: users.size,
      failedRepositories: [...failures.values()].reduce((n, f) => n + f.repositories, 0),
      listings,
      heads,
      workloads: workloads.length,
      seconds: (performance.now() - started) / 1000,
    };
    this.#log.debug("poll cycle done", { ...stats });
    this.#opts.onCycle?.(stats);
    return stats;
  }

  /** Decide `w` with the offers of its repositories that did not fail. */
  #decideOffered(
    w: Workload,
    settled: ReadonlyMap<string, RepositoryOffer | undefined>,
  ): Promise<void> {
    const offers = new Map<string, RepositoryOffer>();
    for (const c of w.containers) {
      const offer = c.repository === undefined ? undefined : settled.get(c.repository);
      if (offer) offers.set(c.repository!, offer);
    }
    // A replica that stopped or lost the Lease mid-cycle leaves the rest to the new leader.
    if (offers.size === 0 || this.#abort.signal.aborted || !(this.#opts.isLeader?.() ?? true)) {
      return Promise.resolve();
    }
    return this.#decide(w, offers);
  }

  async #decide(w: Workload, offers: ReadonlyMap<string, RepositoryOffer>): Promise<void> {
    let last: Verdict[] = [];
    let current = w;
    try {
      // `w` is the workload the registry was asked for; a container changed since is left
      // to the next cycle, so an offer never overrides a newer rollout (e.g. a webhook's).
      await this.#opts.rollout.apply(w, "poll", (fresh) => {
        current = fresh;
        return last = pollVerdicts(fresh, offers, w);
      });
    } catch (err) {
      const level = err instanceof TransientRolloutError ? "warn" : "error";
      this.#log[level]("poll rollout not applied, will retry next cycle", { error: err });
      return;
    }
    const baselines: Baselines = {};
    for (const v of last) {
      if (v.reason !== "baseline") continue;
      const digest = offers.get(v.container.repository!)?.digests.get(
        currentTag(v.container)!,
      );
      if (digest) baselines[v.container.name] = { image: v.container.image, digest };
    }
    if (Object.keys(baselines).length === 0 || this.#opts.dryRun) return;
    try {
      const written = await this.#opts.client.patch<KubeObject>(
        current.kind.type,
        current.namespace,
        current.name,
        baselinePatch(current, baselines),
        "merge",
      );
      this.#opts.cache.observe(current.kind, written);
    } catch (err) {
      this.#log.warn("cannot record digest baseline", {
        workload: `${current.namespace}/${current.name}`,
        error: err,
      });
    }
  }
}
