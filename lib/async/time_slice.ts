/**
 * Cooperative scheduling: long runs of work that await no I/O (a start's sweep over every
 * cached workload) give the event loop back now and then, so the server still answers.
 *
 * @module
 */

/** How long a turn of the event loop may run work that awaits nothing: the front's patience. */
const DEFAULT_SLICE_MS = 5;

/**
 * A time slice of `ms` (default 5). `pass()` returns undefined until `ms` have gone by since
 * the slice began (its first call, or the first after a wait), else a promise that resolves
 * on a later turn of the event loop (timers and I/O had theirs); the next call begins a new
 * slice. A slice spans turns that awaited I/O, so it may end early: one wait too many every
 * `ms` costs less than a timer per turn to learn when a turn ended (a delivery's reconcile
 * passes here once).
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
  /** When this slice began; undefined: at the next call. */
  #start: number | undefined;

  /** A slice of `ms` milliseconds. */
  constructor(ms: number = DEFAULT_SLICE_MS) {
    this.#ms = ms;
  }

  /** Undefined while the slice lasts; else a promise of a later turn. */
  pass(): Promise<void> | undefined {
    const now = performance.now();
    const began = this.#start;
    if (began === undefined) this.#start = now;
    else if (now - began > this.#ms) {
      // Every caller of this slice waits; the first to resume begins the next one.
      return new Promise((resolve) =>
        setTimeout(() => {
          if (this.#start === began) this.#start = undefined;
          resolve();
        }, 0)
      );
    }
  }
}
