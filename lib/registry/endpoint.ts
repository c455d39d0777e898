/**
 * Where requests for a registry host go: scheme and API host.
 *
 * @module
 */

import { normalizeRegistryHost } from "./credential_key.ts";

/**
 * Whether the operator listed `host` as reached over plain http: an entry is a host with
 * its port (compared case-insensitively) or a glob (`127.0.0.1:*`, `*.lan:5000`; `*` stands
 * for any run of characters within a DNS label or a port). Loopback hosts are not plain by
 * themselves: an image naming `127.0.0.1:9090` would otherwise reach Argoos's own pod.
 *
 * @example
 * ```ts
 * import { isInsecureHost } from "./endpoint.ts";
 * isInsecureHost("127.0.0.1:5000", ["127.0.0.1:*"]); // true
 * isInsecureHost("127.0.0.1:5000", []); // false
 * ```
 */
export function isInsecureHost(host: string, insecureHosts: readonly string[]): boolean {
  return insecureHosts.some((glob) => hostGlobMatches(glob, host));
}

/**
 * Whether `host` matches `glob`, case-insensitively; `*` stands for any run of characters
 * within one DNS label or the port.
 *
 * @example
 * ```ts
 * import { hostGlobMatches } from "./endpoint.ts";
 * hostGlobMatches("*.example.com", "reg.example.com"); // true
 * hostGlobMatches("*.example.com", "a.b.example.com"); // false
 * ```
 */
export function hostGlobMatches(glob: string, host: string): boolean {
  let pattern = globPatterns.get(glob);
  if (!pattern) {
    const parts = glob.toLowerCase().split("*").map((p) =>
      p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    );
    pattern = new RegExp(`^${parts.join("[^.:]*")}$`);
    // Globs come from the operator's configuration: a few. Bounded all the same.
    if (globPatterns.size >= 256) globPatterns.clear();
    globPatterns.set(glob, pattern);
  }
  return pattern.test(host.toLowerCase());
}

/** Each glob's pattern, compiled once: compiling it for every request showed in profiles. */
const globPatterns = new Map<string, RegExp>();

/**
 * The base URL (origin) for registry `host`: `http://` for `insecureHosts` (see
 * {@linkcode isInsecureHost}), `https://` otherwise; `docker.io` (and its aliases) is served
 * from `registry-1.docker.io`.
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
  return `${isInsecureHost(lower, insecureHosts) ? "http" : "https"}://${lower}`;
}
