/**
 * Registry credentials from docker `config.json`, Kubernetes `kubernetes.io/dockerconfigjson`
 * and legacy `kubernetes.io/dockercfg` secrets, keyed by normalized `auths` key and looked up
 * by image the way kubelet does.
 *
 * @module
 */

import {
  compareCredentialKeys,
  type CredentialKey,
  credentialKeyMatches,
  normalizeCredentialKey,
  parseCredentialKey,
} from "./credential_key.ts";

export { normalizeCredentialKey, normalizeRegistryHost } from "./credential_key.ts";
import { isObject, type JsonObject } from "../parse/object.ts";

/**
 * What to authenticate to one registry with.
 *
 * @example
 * ```ts
 * import type { RegistryCredential } from "./credentials.ts";
 * const basic: RegistryCredential = { username: "testuser", password: "testpass" };
 * const identity: RegistryCredential = { token: "identity-token-from-docker-login" };
 * ```
 */
export interface RegistryCredential {
  /** Basic auth user, also sent to token endpoints. */
  username?: string;
  /** Basic auth password. */
  password?: string;
  /** identity token / registry token */
  token?: string;
}

/**
 * Credentials keyed by normalized `auths` key, `host[:port][/path]` ("docker.io",
 * "localhost:5000", "ghcr.io/org-b", "*.azurecr.io"), in precedence order.
 *
 * @example
 * ```ts
 * import type { CredentialMap } from "./credentials.ts";
 * const creds: CredentialMap = new Map([["docker.io", { username: "u", password: "p" }]]);
 * ```
 */
export type CredentialMap = ReadonlyMap<string, RegistryCredential>;

/**
 * Credentials in layers, best layer first: a workload's pull secrets with the operator's docker
 * config, then those minted by credential plugins and helpers. A single map is one layer.
 *
 * @example
 * ```ts
 * import type { Credentials } from "./credentials.ts";
 * const layers: Credentials = [new Map([["docker.io", { username: "u", password: "p" }]]), new Map()];
 * ```
 */
export type Credentials = CredentialMap | readonly CredentialMap[];

/**
 * Every credential whose key covers repository `path` on `host`, best first: layer by layer
 * (kubelet tries a pod's pull secrets before the node's credentials), and within a layer by
 * kubelet's rules (see {@linkcode credentialKeyMatches}): longer path prefix, then fewer
 * wildcards, then map order. Without `path` only host-wide keys match. The same credential
 * found under two keys is listed once, so a caller falling back after a refusal never retries it.
 *
 * @example
 * ```ts
 * import { credentialsFor, parseDockerConfig } from "./credentials.ts";
 * const creds = parseDockerConfig(JSON.stringify({ auths: {
 *   "ghcr.io": { auth: btoa("any:1") },
 *   "ghcr.io/org-b": { auth: btoa("bob:2") },
 * } }));
 * credentialsFor(creds, "ghcr.io", "org-b/app").map((c) => c.username); // ["bob", "any"]
 * credentialsFor(creds, "ghcr.io", "org-a/app").map((c) => c.username); // ["any"]
 * const minted = new Map([["ghcr.io/org-b/app", { username: "plugin", password: "3" }]]);
 * credentialsFor([creds, minted], "ghcr.io", "org-b/app").map((c) => c.username);
 * // ["bob", "any", "plugin"]
 * ```
 */
export function credentialsFor(
  credentials: Credentials,
  host: string,
  path?: string,
): RegistryCredential[] {
  const layers: readonly CredentialMap[] = Array.isArray(credentials)
    ? credentials
    : [credentials as CredentialMap];
  const seen = new Set<string>();
  return layers.flatMap((map) => {
    const found: { key: CredentialKey; cred: RegistryCredential }[] = [];
    for (const [raw, cred] of map) {
      const key = parseCredentialKey(raw);
      if (key && credentialKeyMatches(key, host, path)) found.push({ key, cred });
    }
    // Array sort is stable: equally specific keys keep their precedence (map) order.
    found.sort((a, b) => compareCredentialKeys(a.key, b.key));
    return found.flatMap(({ cred }) => {
      const id = JSON.stringify([cred.username, cred.password, cred.token]);
      if (seen.has(id)) return [];
      seen.add(id);
      return [cred];
    });
  });
}

/**
 * The best credential for repository `path` on `host` (first of {@linkcode credentialsFor});
 * without `path` only host-wide keys match.
 *
 * @example
 * ```ts
 * import { credentialFor, parseDockerConfig } from "./credentials.ts";
 * const creds = parseDockerConfig('{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}');
 * credentialFor(creds, "index.docker.io"); // { username: "u", password: "p" }
 * credentialFor(creds, "docker.io", "library/nginx"); // { username: "u", password: "p" }
 * ```
 */
export function credentialFor(
  map: Credentials,
  host: string,
  path?: string,
): RegistryCredential | undefined {
  return credentialsFor(map, host, path)[0];
}

/**
 * Parse a docker config.json / .dockerconfigjson text ({auths: {host: {auth: base64(user:pass)}
 * | {username,password} | {identitytoken}}}); keys may be URLs like
 * "https://index.docker.io/v1/" or "http://host:5000". Also accepts the legacy .dockercfg
 * shape (top-level map). Throws a clear error on malformed input. Entries without any
 * credential (e.g. `{}` left by a credential store) are skipped; keys are normalized with
 * {@linkcode normalizeCredentialKey} (paths kept) and when two keys normalize alike, the first
 * one wins.
 *
 * @example
 * ```ts
 * import { parseDockerConfig } from "./credentials.ts";
 * const creds = parseDockerConfig(JSON.stringify({
 *   auths: { "localhost:5000": { auth: btoa("testuser:testpass") } },
 * }));
 * creds.get("localhost:5000"); // { username: "testuser", password: "testpass" }
 * ```
 */
export function parseDockerConfig(text: string): CredentialMap {
  return dockerConfigCredentials(dockerConfigJson(text));
}

/**
 * The JSON object of a docker config.json text; throws a clear error on anything else.
 *
 * @example
 * ```ts
 * import { dockerConfigJson } from "./credentials.ts";
 * dockerConfigJson('{"credsStore":"pass"}'); // { credsStore: "pass" }
 * ```
 */
export function dockerConfigJson(text: string): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`docker config: not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new Error("docker config: expected a JSON object");
  return doc;
}

/**
 * The credentials of a parsed docker config ({@linkcode parseDockerConfig} from its JSON).
 *
 * @example
 * ```ts
 * import { dockerConfigCredentials } from "./credentials.ts";
 * dockerConfigCredentials({ auths: { "ghcr.io": { identitytoken: "t" } } }).get("ghcr.io");
 * // { token: "t" }
 * ```
 */
export function dockerConfigCredentials(doc: JsonObject): CredentialMap {
  let entries: Record<string, unknown>;
  if ("auths" in doc) {
    if (!isObject(doc.auths)) throw new Error('docker config: "auths" must be an object');
    entries = doc.auths;
  } else {
    // Legacy .dockercfg: hosts at the top level. Non-object values (credsStore) are skipped.
    entries = Object.fromEntries(Object.entries(doc).filter(([, v]) => isObject(v)));
  }
  const out = new Map<string, RegistryCredential>();
  for (const [key, value] of Object.entries(entries)) {
    if (!isObject(value)) throw new Error(`docker config: entry "${key}" must be an object`);
    const cred = parseEntry(key, value);
    const norm = normalizeCredentialKey(key);
    if (cred && norm && !out.has(norm)) out.set(norm, cred);
  }
  return out;
}

/**
 * Merge maps, earlier ones win for the same normalized key (workload pull secrets before
 * --docker-config); keys of different specificity all stay, for {@linkcode credentialsFor}.
 *
 * @example
 * ```ts
 * import { mergeCredentials } from "./credentials.ts";
 * const secret = new Map([["docker.io", { username: "a", password: "1" }]]);
 * const global = new Map([["docker.io", { username: "b", password: "2" }]]);
 * mergeCredentials(secret, global).get("docker.io"); // { username: "a", password: "1" }
 * ```
 */
export function mergeCredentials(...maps: CredentialMap[]): CredentialMap {
  const out = new Map<string, RegistryCredential>();
  for (const map of maps) {
    for (const [key, cred] of map) {
      const norm = normalizeCredentialKey(key);
      if (norm && !out.has(norm)) out.set(norm, cred);
    }
  }
  return out;
}

function parseEntry(key: string, entry: Record<string, unknown>): RegistryCredential | undefined {
  const field = (name: string): string | undefined => {
    const v = entry[name];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new Error(`docker config: "${key}".${name} must be a string`);
    return v;
  };
  const cred: RegistryCredential = {};
  const auth = field("auth");
  if (auth !== undefined) {
    let decoded: string;
    try {
      decoded = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(auth.trim()), (c) => c.charCodeAt(0)),
      );
    } catch {
      throw new Error(`docker config: "${key}".auth is not valid base64`);
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new Error(`docker config: "${key}".auth must encode "user:password"`);
    cred.username = decoded.slice(0, colon);
    cred.password = decoded.slice(colon + 1);
  } else {
    cred.username = field("username");
    cred.password = field("password");
  }
  cred.token = field("identitytoken") ?? field("registrytoken");
  for (const k of ["username", "password", "token"] as const) {
    if (cred[k] === undefined || cred[k] === "") delete cred[k];
  }
  return Object.keys(cred).length ? cred : undefined;
}
