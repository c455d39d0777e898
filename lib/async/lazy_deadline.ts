/**
 * One deadline behind one timer that is moved only when the deadline comes sooner than it
 * fires: setting the deadline later, as each request or chunk does, costs a clock read and no
 * timer.
 *
 * @module
 */

import { MAX_TIMER_MS } from "./max_timer.ts";

/**
 * Calls `onDue` once the deadline set last has passed (once per `set`; never after `clear`
 * or `stop`). The timer already running is kept when the deadline moves later: when it fires,
 * it waits again for what is left.
 *
 * @example
 * ```ts
 * import { LazyDeadline } from "./lazy_deadline.ts";
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const silence = new LazyDeadline(resolve);
 * silence.set(10); // nothing heard for 10 ms: resolve
 * silence.set(20); // heard something: 20 ms from now instead
 * await promise;
 * ```
 */
export class LazyDeadline {
  readonly #onDue: () => void;
  #due = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  constructor(onDue: () => void) {
    this.#onDue = onDue;
  }

  /**
   * Due `ms` from now, instead of any deadline set before; at most MAX_TIMER_MS from now (a
   * later one falls due at that bound, as a timer of its own would fire at once).
   */
  set(ms: number): void {
    ms = Math.min(ms, MAX_TIMER_MS);
    this.#due = performance.now() + ms;
    if (this.#due >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#wake(), ms);
    this.#timerAt = this.#due;
  }

  /** No deadline; a timer running fires to find none (cheaper than clearing it each time). */
  clear(): void {
    this.#due = Infinity;
  }

  /** No deadline and no timer: nothing keeps the process alive. */
  stop(): void {
    this.#due = Infinity;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #wake(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#due === Infinity) return;
    const left = this.#due - performance.now();
    if (left > 0) {
      this.#timer = setTimeout(() => this.#wake(), left);
      this.#timerAt = this.#due;
      return;
    }
    this.#due = Infinity;
    this.#onDue();
  }
}
