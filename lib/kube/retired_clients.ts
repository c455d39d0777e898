/**
 * HTTP clients replaced by a client-certificate rotation. A watch or request started on one
 * may still be running, so it is not closed at once, but once no request can still be on it:
 * at the first rotation at least 15 min later, or when the connection closes. Without that,
 * every rotation (an exec plugin's certificate lives hours) kept a client and its pool for the
 * process's life.
 *
 * @module
 */

/**
 * Longer than any request sent on a client can last: a watch ends within its
 * `timeoutSeconds` (at most 360 s) plus the client's grace, any other request within its
 * timeout.
 */
export const RETIRED_CLIENT_LIFETIME_MS = 15 * 60_000;

/**
 * Clients set aside, each closed once {@linkcode RETIRED_CLIENT_LIFETIME_MS} has passed
 * since, checked when another is set aside.
 *
 * @example
 * ```ts
 * import { RetiredClients } from "./retired_clients.ts";
 * const retired = new RetiredClients();
 * retired.add({ close() {} });
 * retired.size; // 1
 * retired.closeAll();
 * ```
 */
export class RetiredClients {
  #clients: { client: { close(): void }; at: number }[] = [];

  /** Clients set aside and not closed yet. */
  get size(): number {
    return this.#clients.length;
  }

  /** Set `client` aside at `now`, closing those set aside long enough ago. */
  add(client: { close(): void }, now: number = Date.now()): void {
    while (this.#clients.length > 0 && now - this.#clients[0].at >= RETIRED_CLIENT_LIFETIME_MS) {
      this.#clients.shift()!.client.close();
    }
    this.#clients.push({ client, at: now });
  }

  /** Close every client set aside. */
  closeAll(): void {
    for (const { client } of this.#clients.splice(0)) client.close();
  }
}
