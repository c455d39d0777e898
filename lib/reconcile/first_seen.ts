/**
 * When Argoos first saw a tag at a digest, for the minimum age of candidates the registry gives
 * no push time for (poll listings, notifications without one). In memory and bounded: a restart
 * starts the clock again, which only ever delays an update.
 *
 * @module
 */

/**
 * First sightings by `repository:tag@digest`, at most `max` (the least recently asked about
 * dropped first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FirstSeen } from "./first_seen.ts";
 * const seen = new FirstSeen(2);
 * assert.equal(seen.seen("docker.io/library/a:1@sha256:x", 10), 10);
 * assert.equal(seen.seen("docker.io/library/a:1@sha256:x", 99), 10);
 * ```
 */
export class FirstSeen {
  /** Map order is the order last asked about, least recent first. */
  #at = new Map<string, number>();

  constructor(readonly max = 10_000) {}

  /** When `key` was first seen (ms epoch); `now` when this is the first time. */
  seen(key: string, now: number): number {
    const at = this.#at.get(key) ?? now;
    this.#at.delete(key);
    this.#at.set(key, at);
    if (this.#at.size > this.max) this.#at.delete(this.#at.keys().next().value!);
    return at;
  }
}
