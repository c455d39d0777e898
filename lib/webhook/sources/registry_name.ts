/**
 * Which public registry name a notification speaks for.
 *
 * @module
 */

import { parsePairs } from "../../parse/pairs.ts";

/** `from=to` pairs: the registry's `request.host` as seen in events, and its public name. */
export type RegistryAliases = ReadonlyMap<string, string>;

/**
 * Parse `REGISTRY_ALIASES` (`from=to,from2=to2`). Throws on a malformed pair.
 *
 * @example
 * ```ts
 * import { parseRegistryAliases } from "./registry_name.ts";
 * parseRegistryAliases("127.0.0.1:5000=registry.example.com").get("127.0.0.1:5000");
 * // "registry.example.com"
 * ```
 */
export function parseRegistryAliases(spec: string): RegistryAliases {
  const pairs = parsePairs(spec, "REGISTRY_ALIASES", "from=to");
  return new Map(pairs.map(([from, to]) => [from.toLowerCase(), to]));
}

/**
 * The registry host a push belongs to: the `X-Argoos-Registry-Name` header when
 * the registry sends one, else a configured alias of `request.host`, else
 * `request.host` itself (policies spec, "Which containers").
 *
 * @example
 * ```ts
 * import { registryNameOf } from "./registry_name.ts";
 * registryNameOf("127.0.0.1:5000", null, new Map()); // "127.0.0.1:5000"
 * registryNameOf("127.0.0.1:5000", "reg.example.com", new Map()); // "reg.example.com"
 * ```
 */
export function registryNameOf(
  requestHost: string,
  header: string | null,
  aliases: RegistryAliases,
): string {
  if (header && header.trim()) return header.trim();
  return aliases.get(requestHost.toLowerCase()) ?? requestHost;
}
