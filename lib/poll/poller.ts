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
    await Promise.race([this.#opts.cache.synced, sleep(2 ** 31 - 1, signal)]);
    while (!signal.aborted) {
      if (this.#opts.isLeader?.() ?? true) {
        try {
          await this.cycle();
        } catch (err) {
          this.#log.error("poll cycle failed", { error: err });
        }
      }
      const tick = this.#tickMs();
      await sleep(tick * (0.9 + Math.random() * 0.2), signal);
    }
  }

  /** The shortest interval any workload asks for, so its repository is polled in time. */
  #tickMs(): number {
    let tick = this.#opts.intervalMs;
    for (const w of this.#opts.cache.all()) tick = Math.min(tick, this.#intervalOf(w));
    return Math.max(tick, 1_000);
  }

  #intervalOf(w: Workload): number {
    const override = w.annotations[POLL_INTERVAL_ANNOTATION];
    if (override === undefined) return this.#opts.intervalMs;
    try {
      return parseDuration(override) || this.#opts.intervalMs;
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

    const { offers, failures, listings, heads } = await fetchOffers(
      users,
      registry,
      (w) => secrets.forWorkload(w),
    );
    for (const repo of offers.keys()) this.#lastPolled.set(repo, now);
    // A failing registry is told once per cycle, not once per workload or repository.
    for (const [host, f] of failures) {
      this.#log.warn("registry unavailable this cycle", { host, ...f });
    }

    const workloads = new Set([...users].filter(([r]) => offers.has(r)).flatMap(([, ws]) => ws));
    await Promise.all([...workloads].map((w) => this.#decide(w, offers)));

    const stats: CycleStats = {
      repositories: users.size,
      failedRepositories: [...failures.values()].reduce((n, f) => n + f.repositories, 0),
      listings,
      heads,
      workloads: workloads.size,
      seconds: (performance.now() - started) / 1000,
    };
    this.#log.debug("poll cycle done", { ...stats });
    this.#opts.onCycle?.(stats);
    return stats;
  }

  async #decide(w: Workload, offers: ReadonlyMap<string, RepositoryOffer>): Promise<void> {
    let last: Verdict[] = [];
    let current = w;
    try {
      await this.#opts.rollout.apply(w, "poll", (fresh) => {
        current = fresh;
        return last = pollVerdicts(fresh, offers);
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
