/**
 * Cooperative scheduling: long runs of work that await no I/O (a start's sweep over every
 * cached workload) give the event loop back now and then, so the server still answers.
 *
 * @module
 */

/** How long a turn of the event loop may run work that awaits nothing: the front's patience. */
const DEFAULT_SLICE_MS = 5;

/**
 * A time slice of `ms` (default 5) per turn of the event loop. `pass()` returns undefined while this turn
 * has run less than `ms` since its first call, else a promise that resolves on a later turn
 * (timers and I/O had theirs); awaiting it there starts a new slice.
 *
 * @example
 * ```ts
 * import { TimeSlice } from "./time_slice.ts";
 * const slice = new TimeSlice();
 * for (let i = 0; i < 100_000; i++) {
 *   await slice.pass(); // the event loop turns at least every 5 ms
 * }
 * ```
 */
export class TimeSlice {
  readonly #ms: number;
  /** When this turn's slice began; undefined: not yet. */
  #start: number | undefined;

  /** A slice of `ms` milliseconds. */
  constructor(ms: number = DEFAULT_SLICE_MS) {
    this.#ms = ms;
  }

  /** Undefined while the slice lasts; else a promise of the next turn. */
  pass(): Promise<void> | undefined {
    const now = performance.now();
    if (this.#start === undefined) {
      this.#start = now;
      // Fires once the event loop has turned: the next call starts a new slice.
      setTimeout(() => this.#start = undefined, 0);
    } else if (now - this.#start > this.#ms) {
      return new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}
