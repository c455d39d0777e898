/**
 * Registry mirrors (`--registry-mirror`, `REGISTRY_MIRRORS`): the tags and manifests of a
 * registry are read from its mirror, as containerd's `hosts.toml` mirrors do: same repository
 * path (Docker Hub's `library/` included), and the upstream registry named in the `ns` query
 * parameter so one mirror can serve several registries. Images written keep the names the
 * workloads use; only where requests go changes.
 *
 * @module
 */

import { normalizeRegistryHost, parseCredentialKey } from "./credential_key.ts";
import type { CredentialMap, RegistryCredential } from "./credentials.ts";
import { registryBaseUrl } from "./endpoint.ts";
import { parsePairs } from "../parse/pairs.ts";

/** A mirror: `host[:port]`, optionally with its scheme. */
const MIRROR = /^(https?:\/\/)?[A-Za-z0-9.\-[\]:]+\/?$/;

/**
 * Upstream registry host (normalized) → mirror: `host[:port]`, or an `http://` / `https://`
 * origin to choose the scheme.
 *
 * @example
 * ```ts
 * import type { RegistryMirrors } from "./mirrors.ts";
 * const mirrors: RegistryMirrors = new Map([["docker.io", "mirror.local:5000"]]);
 * ```
 */
export type RegistryMirrors = ReadonlyMap<string, string>;

/**
 * Parse `upstream=mirror,…` (e.g. `docker.io=mirror.local:5000,quay.io=http://cache:5000`).
 * Throws on a malformed pair.
 *
 * @example
 * ```ts
 * import { parseRegistryMirrors } from "./mirrors.ts";
 * parseRegistryMirrors("index.docker.io=mirror.local:5000").get("docker.io"); // "mirror.local:5000"
 * ```
 */
export function parseRegistryMirrors(spec: string): RegistryMirrors {
  const pairs = parsePairs(
    spec,
    "REGISTRY_MIRRORS",
    "registry=mirror[:port]",
    (from, to) => normalizeRegistryHost(from) !== "" && MIRROR.test(to),
  );
  return new Map(pairs.map(([from, to]) => [normalizeRegistryHost(from), to.replace(/\/$/, "")]));
}

/**
 * Where requests for registry `host` go: its mirror when one is configured (with `ns=<host>`
 * as query), else the registry itself (see {@linkcode registryBaseUrl}).
 *
 * @example
 * ```ts
 * import { registryEndpoint } from "./mirrors.ts";
 * const mirrors = new Map([["docker.io", "127.0.0.1:5000"]]);
 * registryEndpoint("docker.io", [], mirrors); // { base: "http://127.0.0.1:5000", ns: "docker.io" }
 * registryEndpoint("ghcr.io", [], mirrors); // { base: "https://ghcr.io" }
 * ```
 */
export function registryEndpoint(
  host: string,
  insecureHosts: readonly string[],
  mirrors: RegistryMirrors = new Map(),
): { base: string; ns?: string } {
  const upstream = normalizeRegistryHost(host);
  const mirror = mirrors.get(upstream);
  if (mirror === undefined) return { base: registryBaseUrl(host, insecureHosts) };
  const base = /^https?:\/\//i.test(mirror)
    ? new URL(mirror).origin
    : registryBaseUrl(mirror, insecureHosts);
  return { base, ns: upstream };
}

/**
 * The URL of `/v2/<path>/<rest>` on the endpoint, with `ns` when it is a mirror.
 *
 * @example
 * ```ts
 * import { registryEndpoint, registryUrl } from "./mirrors.ts";
 * const mirrors = new Map([["docker.io", "127.0.0.1:5000"]]);
 * const endpoint = registryEndpoint("docker.io", ["127.0.0.1:5000"], mirrors);
 * registryUrl(endpoint, "library/nginx", "tags/list").href;
 * // "http://127.0.0.1:5000/v2/library/nginx/tags/list?ns=docker.io"
 * ```
 */
export function registryUrl(
  endpoint: { base: string; ns?: string },
  path: string,
  rest: string,
): URL {
  const url = new URL(`/v2/${path}/${rest}`, endpoint.base);
  if (endpoint.ns !== undefined) url.searchParams.set("ns", endpoint.ns);
  return url;
}

/**
 * The host requests for registry `host` go to: its mirror's `host[:port]`, else `host`.
 *
 * @example
 * ```ts
 * import { requestHost } from "./mirrors.ts";
 * const mirrors = new Map([["docker.io", "http://Mirror.local:5000"]]);
 * requestHost("index.docker.io", mirrors); // "mirror.local:5000"
 * requestHost("ghcr.io", mirrors); // "ghcr.io"
 * ```
 */
export function requestHost(host: string, mirrors: RegistryMirrors): string {
  const mirror = mirrors.get(normalizeRegistryHost(host));
  return mirror === undefined ? host : normalizeRegistryHost(mirror);
}

/**
 * Credentials as the requests of mirrored registries need them: the keys of a mirror's host
 * filed under its upstream's name (same path), and the upstream's own keys dropped. That is
 * containerd's behaviour: a mirror is asked with the credentials for the mirror's host, and a
 * credential the kubelet found for the upstream is not sent to another host. Lookups by image
 * name (`docker.io/library/nginx`) then find what the mirror takes.
 *
 * @example
 * ```ts
 * import { credentialsThroughMirrors } from "./mirrors.ts";
 * const creds = new Map([
 *   ["docker.io", { username: "hub", password: "1" }],
 *   ["mirror.local:5000", { username: "cache", password: "2" }],
 * ]);
 * const mirrored = credentialsThroughMirrors(creds, new Map([["docker.io", "mirror.local:5000"]]));
 * mirrored.get("docker.io"); // { username: "cache", password: "2" }
 * ```
 */
export function credentialsThroughMirrors(
  credentials: CredentialMap,
  mirrors: RegistryMirrors,
): CredentialMap {
  if (mirrors.size === 0) return credentials;
  const upstreamsOf = new Map<string, string[]>();
  for (const upstream of mirrors.keys()) {
    const via = requestHost(upstream, mirrors);
    upstreamsOf.set(via, [...upstreamsOf.get(via) ?? [], upstream]);
  }
  const out = new Map<string, RegistryCredential>();
  for (const [raw, cred] of credentials) {
    const key = parseCredentialKey(raw);
    if (!key) continue;
    const host = `${key.host}${key.port ? `:${key.port}` : ""}`;
    if (mirrors.has(host)) continue;
    out.set(raw, cred);
    for (const upstream of upstreamsOf.get(host) ?? []) {
      out.set(key.path ? `${upstream}/${key.path}` : upstream, cred);
    }
  }
  return out;
}
