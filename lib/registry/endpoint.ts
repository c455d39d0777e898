/**
 * Where requests for a registry host go: scheme and API host.
 *
 * @module
 */

import { normalizeRegistryHost } from "./credential_key.ts";

/**
 * True for hosts Docker lets through over plain http without configuration:
 * `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./endpoint.ts";
 * isLoopbackHost("127.0.0.1:5000"); // true
 * isLoopbackHost("registry.local:5000"); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/:\d+$/, "");
  return name === "localhost" || name === "[::1]" || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * The base URL (origin) for registry `host`: `http://` for loopback and `insecureHosts`
 * (compared case-insensitively, port included), `https://` otherwise; `docker.io` (and its
 * aliases) is served from `registry-1.docker.io`.
 *
 * @example
 * ```ts
 * import { registryBaseUrl } from "./endpoint.ts";
 * registryBaseUrl("docker.io", []); // "https://registry-1.docker.io"
 * registryBaseUrl("reg.lan:5000", ["reg.lan:5000"]); // "http://reg.lan:5000"
 * ```
 */
export function registryBaseUrl(host: string, insecureHosts: readonly string[]): string {
  const lower = host.toLowerCase();
  if (normalizeRegistryHost(lower) === "docker.io") return "https://registry-1.docker.io";
  const plain = isLoopbackHost(lower) || insecureHosts.some((h) => h.toLowerCase() === lower);
  return `${plain ? "http" : "https"}://${lower}`;
}
