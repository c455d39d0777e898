/**
 * An in-memory cache of labelled workloads, fed by list+watch and indexed by
 * normalized repository, so an event costs work in proportion to the
 * workloads it matches instead of a cluster-wide LIST.
 *
 * @module
 */

import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { sleep } from "../async/sleep.ts";
import { POLICY_LABEL } from "../policy/policy.ts";
import type { WorkloadKind } from "./kinds.ts";
import { type KubeObject, readWorkload, type Workload, workloadKey } from "./workload.ts";

/** What the cache watches. */
export interface WorkloadCacheOptions {
  kinds: readonly WorkloadKind[];
  /** Namespaces to watch; empty means all namespaces. */
  namespaces?: readonly string[];
  logger?: Logger;
  /** Longest wait between retries after a failed list or watch. Default 30 s. */
  maxBackoffMs?: number;
  /** Told of every workload added or changed (e.g. to report a bad policy label). */
  onUpsert?: (workload: Workload) => void;
}

/**
 * Labelled workloads by key and by repository.
 *
 * @example
 * ```ts ignore
 * import { WorkloadCache } from "./cache.ts";
 * import { WORKLOAD_KINDS } from "./kinds.ts";
 * const cache = new WorkloadCache(client, { kinds: WORKLOAD_KINDS });
 * cache.start();
 * await cache.synced;
 * cache.byRepository("docker.io/library/nginx");
 * ```
 */
export class WorkloadCache {
  #client: KubeClient;
  #opts: WorkloadCacheOptions;
  #log: Logger;
  #byKey = new Map<string, Workload>();
  #byRepo = new Map<string, Set<string>>();
  #abort = new AbortController();
  #running: Promise<void>[] = [];
  #pending: number;
  #resolveSynced!: () => void;
  /** Resolves once every kind and namespace has been listed once. */
  readonly synced: Promise<void>;

  constructor(client: KubeClient, opts: WorkloadCacheOptions) {
    this.#client = client;
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).with({ component: "cache" });
    this.#pending = opts.kinds.length * Math.max(1, opts.namespaces?.length ?? 0);
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    if (this.#pending === 0) this.#resolveSynced();
  }

  /** True once every kind and namespace has been listed once. */
  get isSynced(): boolean {
    return this.#pending === 0;
  }

  /** Number of cached workloads. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Start list+watch loops for every kind and namespace. */
  start(): void {
    const scopes = this.#opts.namespaces?.length ? this.#opts.namespaces : [undefined];
    for (const kind of this.#opts.kinds) {
      for (const ns of scopes) this.#running.push(this.#informer(kind, ns));
    }
  }

  /** Stop every loop and wait for them to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#running);
  }

  /** The workload with this key (see `workloadKey`). */
  get(key: string): Workload | undefined {
    return this.#byKey.get(key);
  }

  /** Workloads with at least one container image of this normalized repository. */
  byRepository(repository: string): Workload[] {
    const keys = this.#byRepo.get(repository);
    return keys ? [...keys].map((k) => this.#byKey.get(k)!) : [];
  }

  /** Every normalized repository some cached workload uses. */
  repositories(): string[] {
    return [...this.#byRepo.keys()];
  }

  /** Every cached workload. */
  all(): Workload[] {
    return [...this.#byKey.values()];
  }

  /**
   * Record an object the caller just wrote (a PATCH answer), so the next
   * decision sees it before the watch delivers it.
   */
  observe(kind: WorkloadKind, obj: KubeObject): void {
    this.#upsert(readWorkload(kind, obj));
  }

  #upsert(w: Workload): void {
    const key = workloadKey(w.kind.type.kind, w.namespace, w.name);
    this.#remove(key);
    this.#byKey.set(key, w);
    this.#opts.onUpsert?.(w);
    for (const c of w.containers) {
      if (!c.repository) continue;
      let keys = this.#byRepo.get(c.repository);
      if (!keys) this.#byRepo.set(c.repository, keys = new Set());
      keys.add(key);
    }
  }

  #remove(key: string): void {
    const old = this.#byKey.get(key);
    if (!old) return;
    this.#byKey.delete(key);
    for (const c of old.containers) {
      if (!c.repository) continue;
      const keys = this.#byRepo.get(c.repository);
      keys?.delete(key);
      if (keys?.size === 0) this.#byRepo.delete(c.repository);
    }
  }

  /** Replace everything of one kind (and namespace) with a fresh list. */
  #replace(kind: WorkloadKind, namespace: string | undefined, objs: KubeObject[]): void {
    const fresh = new Set<string>();
    for (const obj of objs) {
      const w = readWorkload(kind, obj);
      fresh.add(workloadKey(kind.type.kind, w.namespace, w.name));
      this.#upsert(w);
    }
    for (const [key, w] of this.#byKey) {
      const inScope = w.kind === kind && (namespace === undefined || w.namespace === namespace);
      if (inScope && !fresh.has(key)) this.#remove(key);
    }
  }

  async #informer(kind: WorkloadKind, namespace: string | undefined): Promise<void> {
    const signal = this.#abort.signal;
    const log = this.#log.with({ kind: kind.type.kind, namespace: namespace ?? "*" });
    const maxBackoff = this.#opts.maxBackoffMs ?? 30_000;
    let listed = false;
    let backoff = 250;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.#client.listAll<KubeObject>(kind.type, {
            namespace,
            labelSelector: POLICY_LABEL,
          });
          this.#replace(kind, namespace, list.items);
          resourceVersion = list.metadata.resourceVersion ?? "";
          log.debug("listed", { count: list.items.length, resourceVersion });
          if (!listed) {
            listed = true;
            if (--this.#pending === 0) this.#resolveSynced();
          }
        }
        const events = this.#client.watch<KubeObject>(kind.type, {
          namespace,
          labelSelector: POLICY_LABEL,
          resourceVersion,
          allowWatchBookmarks: true,
          // Spread re-watches over time; the server ends the stream after this.
          timeoutSeconds: 240 + Math.floor(Math.random() * 120),
          signal,
        });
        for await (const ev of events) {
          resourceVersion = ev.object.metadata?.resourceVersion ?? resourceVersion;
          if (ev.type === "ADDED" || ev.type === "MODIFIED") {
            this.#upsert(readWorkload(kind, ev.object));
          } else if (ev.type === "DELETED") {
            const m = ev.object.metadata ?? {};
            this.#remove(workloadKey(kind.type.kind, m.namespace ?? "", m.name ?? ""));
          }
        }
        backoff = 250; // a stream that ended normally is resumed at once
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof KubeApiError && err.status === 410) {
          log.info("watch expired, listing again", { resourceVersion });
          resourceVersion = undefined;
          continue;
        }
        log.warn("list/watch failed, retrying", { error: err, retryInMs: backoff });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }
}
