/**
 * Serialising work per key while different keys run in parallel.
 *
 * @module
 */

/**
 * Runs tasks one at a time per key, in the order they were submitted.
 *
 * @example
 * ```ts
 * import { KeyedMutex } from "./keyed_mutex.ts";
 * const mutex = new KeyedMutex();
 * const order: number[] = [];
 * await Promise.all([
 *   mutex.run("a", async () => { await new Promise((r) => setTimeout(r, 5)); order.push(1); }),
 *   mutex.run("a", () => { order.push(2); return Promise.resolve(); }),
 * ]);
 * order; // [1, 2]
 * ```
 */
export class KeyedMutex {
  #tails = new Map<string, Promise<unknown>>();

  /** Run `task` after every earlier task of the same key has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(() => {}, () => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
