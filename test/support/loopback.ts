/**
 * Tests run their registries on loopback with dynamic ports over plain http, which Argoos
 * allows only for hosts the operator lists: these are the entries they list.
 *
 * @module
 */

/**
 * REGISTRY_INSECURE entries for any loopback port.
 *
 * @example
 * ```ts
 * import { LOOPBACK_INSECURE } from "./loopback.ts";
 * LOOPBACK_INSECURE.includes("127.0.0.1:*"); // true
 * ```
 */
export const LOOPBACK_INSECURE: readonly string[] = ["127.0.0.1:*", "localhost:*", "[::1]:*"];

/**
 * RegistryClient options for loopback registries: `{ ...PLAIN_LOOPBACK, ...others }`.
 *
 * @example
 * ```ts
 * import { PLAIN_LOOPBACK } from "./loopback.ts";
 * PLAIN_LOOPBACK.insecureHosts.length; // 3
 * ```
 */
export const PLAIN_LOOPBACK: { insecureHosts: readonly string[] } = {
  insecureHosts: LOOPBACK_INSECURE,
};
