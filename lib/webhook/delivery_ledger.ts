/**
 * Remembering which events were already applied, so a redelivered event (the
 * registry retries on timeouts, with the same id) causes one rollout at most.
 *
 * @module
 */

/**
 * Runs the work for an event id once; a concurrent redelivery waits for the
 * same run, a later one is skipped. A failed run is forgotten so the
 * registry's retry runs it again. Remembers the last `capacity` ids.
 *
 * @example
 * ```ts
 * import { DeliveryLedger } from "./delivery_ledger.ts";
 * const ledger = new DeliveryLedger(100);
 * let runs = 0;
 * await ledger.once("e1", async () => { runs++; });
 * await ledger.once("e1", async () => { runs++; }); // skipped: returns false
 * runs; // 1
 * ```
 */
export class DeliveryLedger {
  #done = new Set<string>();
  #running = new Map<string, Promise<void>>();

  constructor(readonly capacity = 10_000) {}

  /** Run `work` unless this id already ran; resolves true when this call ran it. */
  async once(id: string, work: () => Promise<void>): Promise<boolean> {
    if (this.#done.has(id)) return false;
    const running = this.#running.get(id);
    if (running) {
      await running;
      return false;
    }
    const run = work();
    this.#running.set(id, run);
    try {
      await run;
    } finally {
      this.#running.delete(id);
    }
    this.#remember(id);
    return true;
  }

  #remember(id: string): void {
    this.#done.add(id);
    if (this.#done.size > this.capacity) {
      // Sets iterate in insertion order: drop the oldest.
      this.#done.delete(this.#done.values().next().value!);
    }
  }
}
