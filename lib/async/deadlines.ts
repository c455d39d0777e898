/**
 * Keys that fall due at a time, behind one timer: a timer per key costs about 500 bytes (its
 * Timeout, closures and list entry), and the work queue holds a key per rollout in progress
 * (10,000 rollouts: 5 MB), while an entry here costs a Map entry and a heap slot.
 *
 * @module
 */

import { LazyDeadline } from "./lazy_deadline.ts";
import { MAX_TIMER_MS } from "./max_timer.ts";

/**
 * Keys with the time each falls due, in ms on `performance.now()` (a wall clock stepped back or
 * forth does not move them); `onDue(key)` is called once that time has come, in due order (keys
 * due at the same time in the order they were set), the key removed first. Setting a key again
 * moves it; deleting it cancels it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Deadlines } from "./deadlines.ts";
 * const fired: string[] = [];
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const due = new Deadlines((key) => {
 *   fired.push(key);
 *   if (fired.length === 2) resolve();
 * });
 * due.set("b", performance.now() + 20);
 * due.set("a", performance.now() + 10);
 * due.set("c", performance.now() + 5);
 * due.delete("c");
 * await promise;
 * assert.deepEqual(fired, ["a", "b"]);
 * assert.equal(due.size, 0);
 * ```
 */
export class Deadlines {
  readonly #onDue: (key: string) => void;
  /** Each key's due time: the truth; heap entries that disagree with it are stale. */
  readonly #due = new Map<string, number>();
  /** A binary min-heap of (at, seq, key) in three parallel arrays (numbers stay unboxed). */
  #at: number[] = [];
  #seq: number[] = [];
  #key: string[] = [];
  #nextSeq = 0;
  /** The earliest key's time, on the one timer for all. */
  readonly #timer = new LazyDeadline(() => this.#fire());
  #timerAt = Infinity;

  /** Empty; `onDue` is told of each key whose time came. */
  constructor(onDue: (key: string) => void) {
    this.#onDue = onDue;
  }

  /** Keys waiting. */
  get size(): number {
    return this.#due.size;
  }

  /** Whether `key` is waiting. */
  has(key: string): boolean {
    return this.#due.has(key);
  }

  /** When `key` falls due (ms, on `performance.now()`), if it is waiting. */
  get(key: string): number | undefined {
    return this.#due.get(key);
  }

  /**
   * `key` falls due at `at` (ms, on `performance.now()`); one later than MAX_TIMER_MS from now
   * falls due at that bound (whoever asked looks then and asks again), as a timer would.
   */
  set(key: string, at: number): void {
    at = Math.min(at, performance.now() + MAX_TIMER_MS);
    this.#due.delete(key); // moved to the end: a rebuild keeps ties in the order last set
    this.#due.set(key, at);
    this.#push(at, key);
    if (this.#at.length > 2 * this.#due.size + 64) this.#rebuild();
    if (at < this.#timerAt) this.#arm();
  }

  /** Cancel `key`; whether it was waiting. */
  delete(key: string): boolean {
    return this.#due.delete(key);
  }

  /** Cancel every key and the timer. */
  clear(): void {
    this.#due.clear();
    this.#at = [];
    this.#seq = [];
    this.#key = [];
    this.#timer.stop();
    this.#timerAt = Infinity;
  }

  #fire(): void {
    this.#timerAt = Infinity;
    const now = performance.now();
    // Keys set by onDue wait for the next turn, as their own timers would.
    const setBefore = this.#nextSeq;
    while (this.#at.length > 0 && this.#at[0] <= now && this.#seq[0] < setBefore) {
      const [at, key] = [this.#at[0], this.#key[0]];
      this.#pop();
      if (this.#due.get(key) !== at) continue; // moved or cancelled
      this.#due.delete(key);
      this.#onDue(key);
    }
    this.#arm();
  }

  /** Drop stale entries at the top, then time the next one (if any). */
  #arm(): void {
    while (this.#at.length > 0 && this.#due.get(this.#key[0]) !== this.#at[0]) this.#pop();
    if (this.#at.length === 0) {
      this.#timerAt = Infinity;
      return this.#timer.stop();
    }
    this.#timerAt = this.#at[0];
    this.#timer.set(this.#timerAt - performance.now());
  }

  /** Keep only live entries (after many moves and cancellations). */
  #rebuild(): void {
    const live = [...this.#due];
    this.#at = [];
    this.#seq = [];
    this.#key = [];
    for (const [key, at] of live) this.#push(at, key);
  }

  #less(i: number, j: number): boolean {
    return this.#at[i] < this.#at[j] ||
      (this.#at[i] === this.#at[j] && this.#seq[i] < this.#seq[j]);
  }

  #swap(i: number, j: number): void {
    [this.#at[i], this.#at[j]] = [this.#at[j], this.#at[i]];
    [this.#seq[i], this.#seq[j]] = [this.#seq[j], this.#seq[i]];
    [this.#key[i], this.#key[j]] = [this.#key[j], this.#key[i]];
  }

  #push(at: number, key: string): void {
    let i = this.#at.length;
    this.#at.push(at);
    this.#seq.push(this.#nextSeq++);
    this.#key.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #pop(): void {
    const last = this.#at.length - 1;
    this.#swap(0, last);
    this.#at.pop();
    this.#seq.pop();
    this.#key.pop();
    let i = 0;
    while (true) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let least = i;
      if (l < last && this.#less(l, least)) least = l;
      if (r < last && this.#less(r, least)) least = r;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}
