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
import { TimeSlice } from "../async/time_slice.ts";
import { POLICY_LABEL } from "../policy/policy.ts";
import { loadParsersFor } from "../policy/rules.ts";
import type { WorkloadKind } from "./kinds.ts";
import { keyOf, type KubeObject, readWorkload, type Workload, workloadKey } from "./workload.ts";

/** What the cache watches. */
export interface WorkloadCacheOptions {
  kinds: readonly WorkloadKind[];
  /** Namespaces to watch; empty means all namespaces. */
  namespaces?: readonly string[];
  logger?: Logger;
  /** Longest wait between retries after a failed list or watch. Default 30 s. */
  maxBackoffMs?: number;
  /** How long the server should keep each watch open. Default 240–360 s, at random. */
  watchTimeoutSeconds?: number;
  /**
   * Told of every workload added or changed, with what the cache held before, or what a
   * write in flight is expected to leave (see `expectWrite`): to report a bad policy label,
   * to enqueue a reconcile when what Argoos decides from changed.
   */
  onUpsert?: (workload: Workload, previous: Workload | undefined) => void;
}

/** Objects per LIST page (client-go's reflector pages by 500 too). */
const LIST_PAGE = 500;

/** A watch that ends sooner than this without any event failed (client-go's rule). */
const SHORT_WATCH_MS = 1_000;
/** How long, and for how many keys, a deletion is remembered against late PATCH answers. */
const TOMBSTONE_TTL_MS = 60_000;
const TOMBSTONE_LIMIT = 10_000;

/** A workload and what it was before, as `onUpsert` is told. */
type Change = [Workload, Workload | undefined];

/** A recently deleted (or opted-out) workload: its resourceVersion and when it went. */
interface Tombstone {
  resourceVersion: string;
  at: number;
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
  /** Labelled workloads as the API server has them: tied to live objects (watch deletes). */
  #byKey = new Map<string, Workload>();
  /**
   * Repository -> the key of #byKey using it, or the keys when several do (most repositories
   * have one user: a Set each would cost 10,000 workloads about 1.3 MB); none: no entry.
   */
  #byRepo = new Map<string, string | Set<string>>();
  /**
   * Writes in flight by key: what the writer expects the workload to become. One entry per
   * write, so at most as many as writes run at once (the reconcile workers).
   */
  #expected = new Map<string, Workload>();
  /** Oldest first (Map order), so pruning stops at the first fresh entry. */
  #tombstones = new Map<string, Tombstone>();
  #abort = new AbortController();
  /** Telling lists' workloads, shared by every informer: 5 ms a turn in all. */
  #slice = new TimeSlice();
  #running: Promise<void>[] = [];
  #pending: number;
  /** Informers whose last list or watch failed (at most one entry per kind and namespace). */
  #failing = new Set<string>();
  #resolveSynced!: () => void;
  /** Resolves once every kind and namespace has been listed once. */
  readonly synced: Promise<void>;

  /** A cache of the labelled workloads; nothing is read before {@linkcode WorkloadCache.start}. */
  constructor(client: KubeClient, opts: WorkloadCacheOptions) {
    this.#client = client;
    // One informer per kind and namespace, however often they are named.
    this.#opts = {
      ...opts,
      kinds: [...new Set(opts.kinds)],
      ...(opts.namespaces ? { namespaces: [...new Set(opts.namespaces)] } : {}),
    };
    this.#log = (opts.logger ?? silentLogger).with({ component: "cache" });
    this.#pending = this.#opts.kinds.length * Math.max(1, this.#opts.namespaces?.length ?? 0);
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    if (this.#pending === 0) this.#resolveSynced();
  }

  /** True once every kind and namespace has been listed once. */
  get isSynced(): boolean {
    return this.#pending === 0;
  }

  /**
   * True once synced and while every list+watch loop works: false again while a watch cannot
   * be re-established (the cache may then miss changes; `/readyz` says so).
   */
  get isWatching(): boolean {
    return this.isSynced && this.#failing.size === 0;
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
    const users = this.#byRepo.get(repository);
    if (users === undefined) return [];
    return typeof users === "string"
      ? [this.#byKey.get(users)!]
      : [...users].map((k) => this.#byKey.get(k)!);
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
   * Record an object the caller just wrote or read (a PATCH or GET answer), so the next
   * decision sees it before the watch delivers it. An answer no newer than what the cache
   * holds, or than a deletion the watch already delivered, is ignored (it would bring back
   * an old state or a deleted workload); one without the policy label removes the entry.
   * Synchronous unless the object names a parser not loaded yet: then await it.
   */
  observe(kind: WorkloadKind, obj: KubeObject): Promise<void> | void {
    const w = readWorkload(kind, obj);
    // An annotation added since (a semver range, an update window) may need a parser first.
    const loading = loadParsersFor([w]);
    if (loading) return loading.then(() => this.#observe(w));
    this.#observe(w);
  }

  #observe(w: Workload): void {
    const key = keyOf(w);
    const cached = this.#byKey.get(key);
    // Unordered (opaque) versions that differ: the answer is the likelier news; take it.
    const vsCached = cached && compareResourceVersions(w.resourceVersion, cached.resourceVersion);
    if (vsCached === "same" || vsCached === "older") return;
    const gone = this.#liveTombstone(key);
    // Here unordered means keep it deleted: the watch re-adds a workload that came back.
    if (gone && compareResourceVersions(w.resourceVersion, gone.resourceVersion) !== "newer") {
      return;
    }
    if (w.policyLabel === "") {
      this.#remove(key);
      this.#bury(key, w.resourceVersion);
      return;
    }
    this.#upsert(w);
  }

  /**
   * Say the caller is writing workload `key` and expects it to become `after`; `undefined`
   * once the write ended (call it in a `finally`). Meanwhile a change of the key, from the
   * watch or from `observe` of the write's answer, whichever comes first, is told to
   * `onUpsert` as a change from `after`, not from the entry held: the writer's own write is
   * no news (it would only reconcile the workload again), a change by someone else is.
   */
  expectWrite(key: string, after: Workload | undefined): void {
    if (after) this.#expected.set(key, after);
    else this.#expected.delete(key);
  }

  /** Store `w` and tell `onUpsert`, or keep what to tell in `untold` (see #tell). */
  #upsert(w: Workload, untold?: Change[]): void {
    const key = keyOf(w);
    const previous = this.#byKey.get(key);
    this.#tombstones.delete(key);
    // Replaced in place, and only the repositories that changed are moved: a deletion leaves
    // a hole in a Map's (or Set's) table until it is rebuilt, and 10,000 rollouts each
    // replacing their workload doubled the tables of both indexes (about 1.5 MB).
    this.#byKey.set(key, w);
    for (const c of previous?.containers ?? []) {
      if (c.repository && !usesRepository(w, c.repository)) this.#unlink(c.repository, key);
    }
    for (const c of w.containers) {
      if (!c.repository) continue;
      const users = this.#byRepo.get(c.repository);
      if (users === undefined) this.#byRepo.set(c.repository, key);
      else if (typeof users !== "string") users.add(key);
      else if (users !== key) this.#byRepo.set(c.repository, new Set([users, key]));
    }
    const change: Change = [w, this.#expected.get(key) ?? previous];
    if (untold) untold.push(change);
    else this.#told(change);
  }

  /**
   * Tell `onUpsert` of one change. Its failure is logged and the caller goes on: one workload's
   * trouble must not leave the rest of a list untold, nor stop a watch (the event sent again
   * would fail again) or a write's answer.
   */
  #told(change: Change): void {
    try {
      this.#opts.onUpsert?.(...change);
    } catch (err) {
      this.#log.error("a workload change could not be told", {
        key: keyOf(change[0]),
        error: err,
      });
    }
  }

  #remove(key: string): void {
    const old = this.#byKey.get(key);
    if (!old) return;
    this.#byKey.delete(key);
    for (const c of old.containers) if (c.repository) this.#unlink(c.repository, key);
  }

  /** `key` no longer uses `repository`. */
  #unlink(repository: string, key: string): void {
    const users = this.#byRepo.get(repository);
    if (users === key) this.#byRepo.delete(repository);
    else if (typeof users === "object" && users.delete(key) && users.size === 1) {
      this.#byRepo.set(repository, users.values().next().value!);
    }
  }

  /** Remember a deletion (at this resourceVersion), dropping expired and excess records. */
  #bury(key: string, resourceVersion: string): void {
    const now = Date.now();
    this.#tombstones.delete(key);
    this.#tombstones.set(key, { resourceVersion, at: now });
    for (const [k, t] of this.#tombstones) {
      if (this.#tombstones.size <= TOMBSTONE_LIMIT && now - t.at < TOMBSTONE_TTL_MS) break;
      this.#tombstones.delete(k);
    }
  }

  #liveTombstone(key: string): Tombstone | undefined {
    const t = this.#tombstones.get(key);
    if (t && Date.now() - t.at >= TOMBSTONE_TTL_MS) this.#tombstones.delete(key);
    else return t;
  }

  /**
   * The labelled workloads of one kind (and namespace), listed page by page: each page's
   * objects are read into Workloads and let go, so the whole list of raw objects (with their
   * managedFields, often kilobytes each) is never held at once.
   */
  async #list(kind: WorkloadKind, namespace: string | undefined) {
    const workloads: Workload[] = [];
    let next: string | undefined;
    const pageFrom = (token?: string) =>
      this.#client.list<KubeObject>(kind.type, {
        namespace,
        labelSelector: POLICY_LABEL,
        limit: LIST_PAGE,
        continue: token,
      });
    let coming = pageFrom();
    // A list's version is its first page's: the snapshot the continue token holds.
    let resourceVersion: string | undefined;
    do {
      const page = await coming;
      resourceVersion ??= page.metadata.resourceVersion ?? "";
      next = page.metadata.continue;
      // The next page is on its way while this one is read: at most two held at once. Its
      // failure is thrown where it is awaited, not reported as unhandled should this one throw.
      if (next) (coming = pageFrom(next)).catch(() => {});
      for (const obj of page.items) workloads.push(readWorkload(kind, obj));
    } while (next);
    await loadParsersFor(workloads);
    return { workloads, resourceVersion };
  }

  /**
   * Replace everything of one kind (and namespace) with a fresh list taken at `listVersion`;
   * returns the changes still to tell `onUpsert`.
   */
  #replace(
    kind: WorkloadKind,
    namespace: string | undefined,
    workloads: Workload[],
    listVersion: string,
  ): Change[] {
    const fresh = new Set<string>();
    const untold: Change[] = [];
    for (const w of workloads) {
      fresh.add(workloadKey(kind.type.kind, w.namespace, w.name));
      this.#upsert(w, untold);
    }
    for (const [key, w] of this.#byKey) {
      const inScope = w.kind === kind && (namespace === undefined || w.namespace === namespace);
      if (inScope && !fresh.has(key)) {
        this.#remove(key);
        this.#bury(key, listVersion);
      }
    }
    return untold;
  }

  /**
   * Tell `onUpsert` of a list's changes a time slice at a time: the 10,000 of a start would
   * otherwise hold the event loop (the front answers meanwhile). A workload changed again
   * since was told with that change.
   */
  async #tell(changes: readonly Change[], signal: AbortSignal): Promise<void> {
    for (const change of changes) {
      await this.#slice.pass();
      if (signal.aborted) return;
      if (this.#byKey.get(keyOf(change[0])) !== change[0]) continue;
      this.#told(change);
    }
  }

  async #informer(kind: WorkloadKind, namespace: string | undefined): Promise<void> {
    const signal = this.#abort.signal;
    const log = this.#log.with({ kind: kind.type.kind, namespace: namespace ?? "*" });
    const id = `${kind.type.kind}/${namespace ?? "*"}`;
    const maxBackoff = this.#opts.maxBackoffMs ?? 30_000;
    let listed = false;
    let backoff = 250;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.#list(kind, namespace);
          resourceVersion = list.resourceVersion;
          const untold = this.#replace(kind, namespace, list.workloads, resourceVersion);
          log.debug("listed", { count: list.workloads.length, resourceVersion });
          this.#failing.delete(id);
          if (!listed) {
            listed = true;
            if (--this.#pending === 0) this.#resolveSynced();
          }
          // Before the watch: its events are told after the list's.
          await this.#tell(untold, signal);
        }
        const events = this.#client.watch<KubeObject>(kind.type, {
          namespace,
          labelSelector: POLICY_LABEL,
          resourceVersion,
          allowWatchBookmarks: true,
          // Spread re-watches over time; the server ends the stream after this.
          timeoutSeconds: this.#opts.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 120),
          signal,
        });
        const opened = performance.now();
        let received = 0;
        for await (const ev of events) {
          received++;
          this.#failing.delete(id);
          const m = ev.object.metadata ?? {};
          const key = workloadKey(kind.type.kind, m.namespace ?? "", m.name ?? "");
          if (ev.type === "ADDED" || ev.type === "MODIFIED") {
            // Held at this very version already (a write's answer comes before its event):
            // nothing changed, nothing to read or tell.
            const held = this.#byKey.get(key);
            if (
              held &&
              compareResourceVersions(m.resourceVersion ?? "", held.resourceVersion) === "same"
            ) {
              resourceVersion = m.resourceVersion;
              continue;
            }
            const w = readWorkload(kind, ev.object);
            await loadParsersFor([w]);
            this.#upsert(w);
          } else if (ev.type === "DELETED") {
            this.#remove(key);
            this.#bury(key, m.resourceVersion ?? "");
          }
          // Only once applied: a watch resumed after a failure above starts with this event.
          resourceVersion = m.resourceVersion ?? resourceVersion;
        }
        if (signal.aborted) return;
        // A server (or proxy) that closes every watch at once would otherwise be hammered.
        if (received === 0 && performance.now() - opened < SHORT_WATCH_MS) {
          throw new Error(
            `very short watch: ended within ${SHORT_WATCH_MS} ms without any event`,
          );
        }
        backoff = 250; // a stream that ended normally is resumed at once
        this.#failing.delete(id);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof KubeApiError && err.status === 410) {
          log.info("watch expired, listing again", { resourceVersion });
          resourceVersion = undefined;
          continue;
        }
        this.#failing.add(id);
        log.warn("list/watch failed, retrying", { error: err, retryInMs: backoff });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }
}

/**
 * How resourceVersion `a` relates to `b`. Kubernetes calls resourceVersions opaque and
 * promises only equality; every etcd-backed server (and the fake one) hands out integers
 * of one growing counter, so two integers are ordered and anything else is "unknown"
 * unless equal.
 */
function compareResourceVersions(a: string, b: string): "newer" | "same" | "older" | "unknown" {
  if (a === b && a !== "") return "same";
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return "unknown";
  const [x, y] = [BigInt(a), BigInt(b)];
  return x > y ? "newer" : x < y ? "older" : "same";
}

/** Whether a container of `w` uses `repository`. */
function usesRepository(w: Workload, repository: string): boolean {
  return w.containers.some((c) => c.repository === repository);
}
