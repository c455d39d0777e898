/**
 * Which public registry name a notification speaks for.
 *
 * @module
 */

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
  const aliases = new Map<string, string>();
  for (const pair of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [from, to, extra] = pair.split("=").map((s) => s.trim());
    if (!from || !to || extra !== undefined) {
      throw new Error(`REGISTRY_ALIASES: "${pair}" is not of the form from=to`);
    }
    aliases.set(from.toLowerCase(), to);
  }
  return aliases;
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
