/**
 * Per-host politeness: at most N requests in flight to one registry host, and a backoff
 * window after the host answered 429/503, during which calls fail fast instead of piling on.
 * Other hosts are never affected.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";

interface HostState {
  active: number;
  waiters: (() => void)[];
  backoffUntil: number;
}

/**
 * Bounded concurrency and backoff, keyed by host.
 *
 * @example
 * ```ts
 * import { HostLimiter } from "./host_limiter.ts";
 * const limiter = new HostLimiter(4, Date.now);
 * const status = await limiter.run("docker.io", async () => 200);
 * limiter.backOff("docker.io", 30_000); // next run("docker.io", …) rejects for 30 s
 * ```
 */
export class HostLimiter {
  #max: number;
  #now: () => number;
  /** Hosts with requests running or waiting, or backing off; an idle host is dropped. */
  #hosts = new Map<string, HostState>();

  /** At most `maxPerHost` concurrent runs per host; `now` is the clock (ms) for backoff. */
  constructor(maxPerHost: number, now: () => number) {
    if (!(maxPerHost >= 1)) throw new RangeError("concurrency per host must be at least 1");
    this.#max = maxPerHost;
    this.#now = now;
  }

  /**
   * Run `fn` once a slot for `host` is free. Rejects with a transient {@linkcode RegistryError}
   * carrying `retryAfterMs` while the host is backing off (checked again after waiting for a
   * slot, since the backoff may have started meanwhile).
   */
  async run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const state = this.#state(host);
    this.#assertNotBackingOff(host, state);
    if (state.active >= this.#max) {
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    } else {
      state.active++;
    }
    try {
      this.#assertNotBackingOff(host, state);
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, so `active` never drops below the queue.
      const next = state.waiters.shift();
      if (next) next();
      else state.active--;
      // Idle and not backing off: forgotten, so the map holds only hosts in use or in backoff.
      if (state.active === 0 && state.backoffUntil <= this.#now()) this.#hosts.delete(host);
    }
  }

  /** Refuse requests to `host` for `ms` from now (extends, never shortens, a current window). */
  backOff(host: string, ms: number): void {
    const state = this.#state(host);
    state.backoffUntil = Math.max(state.backoffUntil, this.#now() + ms);
  }

  /** Hosts held: those with requests running or waiting, or backing off. */
  get size(): number {
    return this.#hosts.size;
  }

  /** Milliseconds left in `host`'s backoff window, 0 when none. */
  backoffRemaining(host: string): number {
    const until = this.#hosts.get(host)?.backoffUntil ?? 0;
    return Math.max(0, until - this.#now());
  }

  #assertNotBackingOff(host: string, state: HostState): void {
    const left = state.backoffUntil - this.#now();
    if (left > 0) {
      throw new RegistryError(
        `${host}: backing off for ${Math.ceil(left / 1000)} s after 429/503`,
        {
          host,
          code: "TOOMANYREQUESTS",
          retryAfterMs: left,
          transient: true,
        },
      );
    }
  }

  #state(host: string): HostState {
    let state = this.#hosts.get(host);
    if (!state) {
      state = { active: 0, waiters: [], backoffUntil: 0 };
      this.#hosts.set(host, state);
    }
    return state;
  }
}
