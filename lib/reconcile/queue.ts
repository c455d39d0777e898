/**
 * A keyed work queue in the style of controller-runtime's: keys are de-duplicated, handed to
 * a fixed number of workers, never reconciled twice at once, and retried with per-key
 * exponential back-off when a reconcile fails or asks to be retried.
 *
 * @module
 */

import { TimeSlice } from "../async/time_slice.ts";
import { Deadlines } from "../async/deadlines.ts";

/** Starts without a backlog between two passes of the time slice. */
const UNSLICED_STARTS = 16;
/** The queue holds `maxKeys` keys already; the caller retries later. */
export class QueueFullError extends Error {
  override name = "QueueFullError";
}

/** The queue was stopped before a reconcile of the key ran. */
export class QueueStoppedError extends Error {
  override name = "QueueStoppedError";
}

/** Options of {@linkcode WorkQueue}. */
export interface WorkQueueOptions<R> {
  /** Reconciles one key; a rejection is retried with back-off. */
  reconcile: (key: string) => Promise<R>;
  /** Whether a result asks for a retry with back-off (e.g. refused by admission). */
  retry?: (result: R) => boolean;
  /**
   * ms after which a result asks to be reconciled again (a rollout in progress, a hold that
   * ends), as controller-runtime's `RequeueAfter`; undefined: done.
   */
  requeueAfter?: (result: R) => number | undefined;
  /** Reconciles running at once. Default 32: as many as deliveries a registry has in flight. */
  workers?: number;
  /** Keys waiting (ready or backing off) at most. Default 100,000. */
  maxKeys?: number;
  /** First retry delay, doubling at each failure in a row. Default 1 s. */
  baseDelayMs?: number;
  /** Longest retry delay. Default 5 minutes. */
  maxDelayMs?: number;
  /**
   * The longest a failed reconcile's retry may wait, whatever its back-off (a look the
   * reconcile still owes, e.g. at a rollout in progress); undefined: the back-off.
   */
  retryWithin?: (cause: unknown) => number | undefined;
  /** Told of every failed reconcile and its retry delay. */
  onRetry?: (key: string, delayMs: number, cause: unknown) => void;
}

interface Waiter<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * The work queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkQueue } from "./queue.ts";
 * let runs = 0;
 * const q = new WorkQueue({ reconcile: (key) => Promise.resolve(`${key}#${++runs}`) });
 * assert.equal(await q.add("Deployment/default/web"), "Deployment/default/web#1");
 * await q.stop();
 * ```
 */
export class WorkQueue<R> {
  readonly #opts:
    & Required<Omit<WorkQueueOptions<R>, "retry" | "onRetry" | "requeueAfter" | "retryWithin">>
    & WorkQueueOptions<R>;
  /** Keys ready to run, in order; a Set de-duplicates. Bounded with the held keys by maxKeys. */
  #ready = new Set<string>();
  /**
   * Keys whose `addAfter` time came (a rollout's safety-net look): they run once no key in
   * `#ready` waits, so a trigger (a delivery, a watch event) never waits behind thousands of
   * them. Bounded with `#ready` and the held keys by maxKeys.
   */
  #later = new Set<string>();
  /** Keys being reconciled now (at most `workers`). */
  #active = new Set<string>();
  /** Keys added while active: run again once the current reconcile ends. */
  #dirty = new Set<string>();
  /**
   * Keys backing off after a failure, until they go to `#ready`; bounded by maxKeys with
   * `#ready`. One timer for all (see lib/async/deadlines.ts).
   */
  #backingOff = new Deadlines((key) => {
    if (this.#stopped) return;
    this.#ready.add(key);
    this.#pump();
  });
  /**
   * Keys whose later look was asked with `addAfter`, until they go to `#later`; bounded by
   * maxKeys with `#ready`. A key is in one of the two at most.
   */
  #looks = new Deadlines((key) => {
    if (this.#stopped) return;
    if (this.#active.has(key)) this.#dirty.add(key);
    else this.#later.add(key);
    this.#pump();
  });
  /**
   * Consecutive failures by key, for back-off: only keys backing off or running (at most
   * maxKeys + workers), cleared on success and when a retry finds the queue full.
   */
  #failures = new Map<string, number>();
  /**
   * Callers waiting for the next reconcile of a key to start and end: keys at most maxKeys
   * (an add to a full queue is refused), callers at most the deliveries in flight.
   */
  #waiting = new Map<string, Waiter<R>[]>();
  #running = 0;
  #stopped = false;
  /** Reconciles that await no I/O (a start's sweep, a chain) still let the front answer. */
  #slice = new TimeSlice();
  /** Starts without a backlog so far: every UNSLICED_STARTS-th passes the slice. */
  #unsliced = 0;
  #idle?: PromiseWithResolvers<void>;

  /** An empty queue that reconciles with `opts.reconcile`. */
  constructor(opts: WorkQueueOptions<R>) {
    this.#opts = {
      workers: 32,
      maxKeys: 100_000,
      baseDelayMs: 1_000,
      maxDelayMs: 300_000,
      ...opts,
    };
  }

  /** Keys waiting to run (ready or backing off). */
  get length(): number {
    return this.#ready.size + this.#later.size + this.#backingOff.size + this.#looks.size;
  }

  /**
   * Queue `key` now (a retry waiting for its back-off runs now instead). Resolves with the
   * result of the next reconcile of `key` that starts after this call, or rejects with its
   * error, {@linkcode QueueFullError} or {@linkcode QueueStoppedError}.
   */
  add(key: string): Promise<R> {
    if (this.#stopped) return Promise.reject(new QueueStoppedError("work queue stopped"));
    if (!this.#enqueue(key)) {
      return Promise.reject(new QueueFullError(`work queue full (${this.#opts.maxKeys} keys)`));
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    let list = this.#waiting.get(key);
    if (!list) this.#waiting.set(key, list = []);
    list.push({ resolve, reject });
    this.#pump();
    return promise;
  }

  /**
   * Queue `key` in `ms` (e.g. to look at a rollout in progress again), unless it is queued,
   * running or waiting already: an earlier run looks anyway and asks again. A later look asked
   * before gives way to this one (a gate opening sooner); a back-off does not. When its time
   * comes it runs after the keys `add` queued (those wait for no timer). Returns false
   * when the queue is stopped or full (the next trigger brings the key back).
   */
  addAfter(key: string, ms: number): boolean {
    if (this.#stopped) return false;
    const due = performance.now() + Math.max(0, ms);
    if ((this.#looks.get(key) ?? -Infinity) > due) this.#looks.delete(key);
    if (this.#ready.has(key) || this.#later.has(key) || this.#held(key)) return true;
    if (this.#active.has(key)) {
      // The run in progress may already have decided; ask for a later look all the same.
    } else if (this.length >= this.#opts.maxKeys) return false;
    this.#looks.set(key, due);
    return true;
  }

  /**
   * Wait for the next reconcile of `key` that starts after this call, without queueing it: a
   * retry waiting for its back-off keeps waiting. Rejects at once when `key` is neither
   * running nor waiting (nothing would answer), and when `signal` aborts.
   */
  next(key: string, signal?: AbortSignal): Promise<R> {
    if (this.#stopped) return Promise.reject(new QueueStoppedError("work queue stopped"));
    const waiting = this.#ready.has(key) || this.#later.has(key) || this.#held(key);
    if (!this.#active.has(key) && !waiting) {
      return Promise.reject(new Error(`${key} is not queued`));
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const waiter = { resolve, reject };
    let list = this.#waiting.get(key);
    if (!list) this.#waiting.set(key, list = []);
    list.push(waiter);
    signal?.addEventListener("abort", () => {
      const left = this.#waiting.get(key)?.filter((w) => w !== waiter);
      if (left?.length) this.#waiting.set(key, left);
      else if (left) this.#waiting.delete(key);
      reject(signal.reason);
    }, { once: true });
    return promise;
  }

  /** Stop: no new reconciles; waits for those running; pending callers are rejected. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#backingOff.clear();
    this.#looks.clear();
    this.#ready.clear();
    this.#later.clear();
    this.#dirty.clear();
    if (this.#running > 0) {
      this.#idle ??= Promise.withResolvers();
      await this.#idle.promise;
    }
    for (const list of this.#waiting.values()) {
      for (const w of list) w.reject(new QueueStoppedError("work queue stopped"));
    }
    this.#waiting.clear();
  }

  /** Put a key in line; false when the queue is full. */
  #enqueue(key: string): boolean {
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return true;
    }
    if (this.#backingOff.delete(key) || this.#looks.delete(key)) {
      // Asked for now: no longer held back.
    } else if (this.#later.delete(key)) {
      // Asked for now: no longer behind the triggers.
    } else if (!this.#ready.has(key) && this.length >= this.#opts.maxKeys) {
      return false;
    }
    this.#ready.add(key);
    return true;
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#opts.workers) {
      const key = this.#ready.values().next().value ?? this.#later.values().next().value;
      if (key === undefined) return;
      this.#ready.delete(key);
      this.#later.delete(key);
      this.#running++;
      this.#active.add(key);
      // Those who added before this start are answered by this reconcile.
      const waiters = this.#waiting.get(key) ?? [];
      this.#waiting.delete(key);
      this.#run(key, waiters);
    }
  }

  async #run(key: string, waiters: Waiter<R>[]): Promise<void> {
    let retry = false;
    let after: number | undefined;
    let cause: unknown;
    try {
      // A backlog (a start's sweep) passes the slice at every start. Without one, every
      // UNSLICED_STARTS-th start does: a delivery's reconcile awaits I/O anyway, and the slice's
      // timer per turn was wasted on each; a chain of reconciles that await nothing and add
      // the next (or their own key again) still gives the loop a turn within two rounds.
      if (
        this.#ready.size > 0 || this.#later.size > 0 ||
        ++this.#unsliced % UNSLICED_STARTS === 0
      ) await this.#slice.pass();
      // Stopped while waiting for its turn: not started, as #pump starts none once stopped.
      if (this.#stopped) throw new QueueStoppedError("work queue stopped");
      const result = await this.#opts.reconcile(key);
      retry = this.#opts.retry?.(result) ?? false;
      after = retry ? undefined : this.#opts.requeueAfter?.(result);
      cause = result;
      for (const w of waiters) w.resolve(result);
    } catch (err) {
      retry = true;
      cause = err;
      for (const w of waiters) w.reject(err);
    }
    this.#active.delete(key);
    this.#running--;
    if (this.#dirty.delete(key)) {
      // New facts arrived meanwhile: run again now, the back-off does not hold them back.
      if (!this.#stopped) this.#ready.add(key);
    } else if (retry) {
      this.#retryLater(key, cause);
    } else {
      this.#failures.delete(key);
      if (after !== undefined) this.addAfter(key, after);
    }
    if (this.#stopped && this.#running === 0) this.#idle?.resolve();
    this.#pump();
  }

  #retryLater(key: string, cause: unknown): void {
    if (this.#stopped) return;
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const backoff = Math.min(this.#opts.baseDelayMs * 2 ** (failures - 1), this.#opts.maxDelayMs);
    const delay = Math.max(0, Math.min(backoff, this.#opts.retryWithin?.(cause) ?? Infinity));
    this.#opts.onRetry?.(key, delay, cause);
    this.#looks.delete(key); // a later look asked with addAfter: back-off wins
    if (this.length >= this.#opts.maxKeys) {
      this.#failures.delete(key); // full: the next trigger brings it back
      return;
    }
    this.#backingOff.set(key, performance.now() + delay);
  }

  /** Whether `key` waits for a time: backing off, or a later look. */
  #held(key: string): boolean {
    return this.#backingOff.has(key) || this.#looks.has(key);
  }
}
