/**
 * Something to do once work pauses: one timer, moved only when it fires early, so noting work
 * costs a clock read and no timer per call.
 *
 * @module
 */

/**
 * Calls `onQuiet` once no work was noted for `quietMs` after some was: once per burst of work,
 * however long. Noting work costs a clock read.
 *
 * @example
 * ```ts
 * import { WhenQuiet } from "./when_quiet.ts";
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const quiet = new WhenQuiet(resolve, 10);
 * quiet.note(); // work done
 * await promise; // 10 ms after the last note
 * quiet.stop();
 * ```
 */
export class WhenQuiet {
  readonly #onQuiet: () => void;
  readonly #quietMs: number;
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Nothing is called before work is first noted. */
  constructor(onQuiet: () => void, quietMs: number) {
    this.#onQuiet = onQuiet;
    this.#quietMs = quietMs;
  }

  /** Work was done now. */
  note(): void {
    this.#last = performance.now();
    this.#timer ??= setTimeout(() => this.#check(), this.#quietMs);
  }

  /** Forget the work noted: nothing more is called until work is noted again. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const left = this.#last + this.#quietMs - performance.now();
    if (left > 0) {
      this.#timer = setTimeout(() => this.#check(), left);
      return;
    }
    this.#timer = undefined;
    this.#onQuiet();
  }
}
