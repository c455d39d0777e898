/**
 * Keys of docker config `auths` and how kubelet matches them against an image: an optional
 * scheme (ignored), a host with optional port whose labels may be `*` globs, and an optional
 * repository path prefix.
 *
 * @module
 */

import { normalizeHost } from "../image/reference.ts";

/**
 * A parsed `auths` key.
 *
 * @example
 * ```ts
 * import { type CredentialKey, parseCredentialKey } from "./credential_key.ts";
 * const key: CredentialKey | undefined = parseCredentialKey("https://ghcr.io/org-b/");
 * // { host: "ghcr.io", port: "", path: "org-b" }
 * ```
 */
export interface CredentialKey {
  /** Lower-cased host without port, Docker Hub aliases folded to `docker.io`; may hold `*`. */
  host: string;
  /** Port, `""` when the key names none (then only images without a port match). */
  port: string;
  /** Repository path prefix without surrounding slashes; `""` covers the whole host. */
  path: string;
}

/**
 * Parse an `auths` key (or an image host): scheme, query and fragment dropped, host
 * lower-cased, Docker Hub aliases folded, a leading `/v1/` or `/v2/` API prefix dropped from
 * the path (as docker and kubelet do). `undefined` when no host is left.
 *
 * @example
 * ```ts
 * import { parseCredentialKey } from "./credential_key.ts";
 * parseCredentialKey("https://index.docker.io/v1/"); // { host: "docker.io", port: "", path: "" }
 * parseCredentialKey("*.azurecr.io"); // { host: "*.azurecr.io", port: "", path: "" }
 * parseCredentialKey("Reg.Local:5000/team/"); // { host: "reg.local", port: "5000", path: "team" }
 * ```
 */
export function parseCredentialKey(key: string): CredentialKey | undefined {
  const bare = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split(/[?#]/)[0];
  const slash = bare.indexOf("/");
  const authority = (slash < 0 ? bare : bare.slice(0, slash)).toLowerCase();
  const rest = slash < 0 ? "" : bare.slice(slash + 1);
  // Port after the last ":", except inside an IPv6 literal ("[::1]:5000").
  const m = authority.match(/^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/);
  if (!m || !m[1]) return undefined;
  // Docker Hub's aliases fold only without a port, as a reference's host does.
  const host = m[2] ? m[1] : normalizeHost(m[1]);
  const path = rest.replace(/^v[12]\//, "").split("/").filter((s) => s !== "").join("/");
  return { host, port: m[2] ?? "", path };
}

/**
 * The canonical spelling of a key, `host[:port][/path]`, or `undefined` when it has no host.
 * Two keys with the same spelling name the same credential slot.
 *
 * @example
 * ```ts
 * import { normalizeCredentialKey } from "./credential_key.ts";
 * normalizeCredentialKey("https://index.docker.io/v1/"); // "docker.io"
 * normalizeCredentialKey("http://GHCR.io/org-a/"); // "ghcr.io/org-a"
 * ```
 */
export function normalizeCredentialKey(key: string): string | undefined {
  const k = parseCredentialKey(key);
  return k && `${k.host}${k.port ? `:${k.port}` : ""}${k.path ? `/${k.path}` : ""}`;
}

/**
 * The registry host an image or config key names: scheme and path dropped, lower-cased,
 * Docker Hub aliases folded to `docker.io`.
 *
 * @example
 * ```ts
 * import { normalizeRegistryHost } from "./credential_key.ts";
 * normalizeRegistryHost("https://index.docker.io/v1/"); // "docker.io"
 * normalizeRegistryHost("http://Registry.local:5000"); // "registry.local:5000"
 * ```
 */
export function normalizeRegistryHost(key: string): string {
  const k = parseCredentialKey(key);
  return k ? `${k.host}${k.port ? `:${k.port}` : ""}` : "";
}

/**
 * Whether a key covers the repository `path` on registry `host` (kubelet's rules): same port,
 * same number of host labels with `*` matching within one label (`*.azurecr.io` covers
 * `x.azurecr.io`, not `azurecr.io`), and the key's path a prefix of `path` at a segment
 * boundary. Without `path` only host-wide keys match.
 *
 * @example
 * ```ts
 * import { credentialKeyMatches, parseCredentialKey } from "./credential_key.ts";
 * const key = parseCredentialKey("*.azurecr.io/team")!;
 * credentialKeyMatches(key, "x.azurecr.io", "team/app"); // true
 * credentialKeyMatches(key, "x.azurecr.io", "teammate/app"); // false
 * credentialKeyMatches(key, "azurecr.io", "team/app"); // false
 * ```
 */
export function credentialKeyMatches(key: CredentialKey, host: string, path?: string): boolean {
  const target = parseCredentialKey(host);
  if (!target || target.port !== key.port) return false;
  const want = key.host.split(".");
  const have = target.host.split(".");
  if (want.length !== have.length || !want.every((g, i) => globMatches(g, have[i]))) {
    return false;
  }
  if (key.path === "") return true;
  const repo = path?.split("/").filter((s) => s !== "").join("/");
  return repo !== undefined && (repo === key.path || repo.startsWith(`${key.path}/`));
}

/**
 * Orders matching keys most specific first: longer path prefix, then fewer wildcard labels.
 * Equal keys compare 0, so a stable sort keeps their precedence order.
 *
 * @example
 * ```ts
 * import { compareCredentialKeys, parseCredentialKey } from "./credential_key.ts";
 * const keys = ["*.azurecr.io", "x.azurecr.io/team", "x.azurecr.io"].map((k) => parseCredentialKey(k)!);
 * keys.sort(compareCredentialKeys).map((k) => k.host + "/" + k.path);
 * // ["x.azurecr.io/team", "x.azurecr.io/", "*.azurecr.io/"]
 * ```
 */
export function compareCredentialKeys(a: CredentialKey, b: CredentialKey): number {
  return segments(b.path) - segments(a.path) || wildcards(a.host) - wildcards(b.host);
}

function segments(path: string): number {
  return path === "" ? 0 : path.split("/").length;
}

function wildcards(host: string): number {
  return host.split(".").filter((label) => label.includes("*")).length;
}

/** `*` matches any run of characters within one label; everything else literally. */
function globMatches(glob: string, label: string): boolean {
  if (!glob.includes("*")) return glob === label;
  const pattern = glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(
    "[^.]*",
  );
  return new RegExp(`^${pattern}$`).test(label);
}
