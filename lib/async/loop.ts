/**
 * A background loop with a start and a stop: a turn, a pause, again, until stopped. Stopping
 * cuts the pause short and waits for the turn in flight.
 *
 * @module
 */

import { sleep } from "./sleep.ts";

/** What a {@linkcode Loop} runs. */
export interface LoopOptions {
  /** One turn. It handles its own errors: a rejection ends the loop. */
  turn: (signal: AbortSignal) => Promise<void>;
  /** ms to wait after each turn, asked after the turn. */
  pauseMs: () => number;
  /** Awaited once before the first turn (e.g. until a cache is in sync). */
  ready?: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * Runs `turn`, waits `pauseMs()`, and again, from {@linkcode Loop.start} until
 * {@linkcode Loop.stop}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Loop } from "./loop.ts";
 * let turns = 0;
 * const first = Promise.withResolvers<void>();
 * const turn = () => Promise.resolve(void turns++).then(first.resolve);
 * const loop = new Loop({ turn, pauseMs: () => 60_000 });
 * loop.start();
 * loop.start(); // already running: one loop
 * await first.promise;
 * await loop.stop(); // returns at once, not after the pause
 * assert.equal(turns, 1);
 * ```
 */
export class Loop {
  #opts: LoopOptions;
  #abort = new AbortController();
  #running?: Promise<void>;

  constructor(opts: LoopOptions) {
    this.#opts = opts;
  }

  /** Aborted once {@linkcode Loop.stop} is called: for work the loop's turns start. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Start the loop; a second call does nothing. */
  start(): void {
    this.#running ??= this.#run(this.#abort.signal);
  }

  /** Stop: no further turn; resolves once the turn in flight, if any, is done. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(signal: AbortSignal): Promise<void> {
    await this.#opts.ready?.(signal);
    while (!signal.aborted) {
      await this.#opts.turn(signal);
      await sleep(this.#opts.pauseMs(), signal);
    }
  }
}
