/**
 * Docker credential helpers named by a docker config: `credHelpers` (registry host → helper)
 * and `credsStore` (the helper for every other registry), run as docker runs them:
 * `docker-credential-<name> get` with the server URL on stdin, answering
 * `{"ServerURL", "Username", "Secret"}`; the user name `<token>` means `Secret` is an identity
 * token.
 *
 * @module
 */

import { normalizeRegistryHost } from "./credential_key.ts";
import {
  type CredentialMap,
  dockerConfigCredentials,
  dockerConfigJson,
  type RegistryCredential,
} from "./credentials.ts";
import { type JsonObject, parseJson } from "../parse/object.ts";
import { HelperError, type RunHelper, runHelper } from "../io/run_plugin.ts";

/**
 * The helpers a docker config names.
 *
 * @example
 * ```ts
 * import type { CredentialHelperConfig } from "./credential_helper.ts";
 * const c: CredentialHelperConfig = { credHelpers: new Map([["ghcr.io", "gh"]]), credsStore: "pass" };
 * ```
 */
export interface CredentialHelperConfig {
  /** Normalized registry host → helper name. */
  credHelpers: ReadonlyMap<string, string>;
  credsStore?: string;
}

/** Docker's answer of a helper that has nothing for the server: not an error. */
const NOT_FOUND = "credentials not found in native keychain";
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Answers are kept this long by default, so a reconcile burst runs a helper once per host. */
const DEFAULT_CACHE_MS = 5 * 60_000;
/** Cached hosts; past it the oldest goes. */
const MAX_CACHE_ENTRIES = 1_000;

/**
 * Read `credHelpers` and `credsStore` from docker config.json text. Throws on malformed input.
 *
 * @example
 * ```ts
 * import { parseCredentialHelpers } from "./credential_helper.ts";
 * const c = parseCredentialHelpers('{"credHelpers":{"https://123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}}');
 * c.credHelpers.get("123.dkr.ecr.us-east-1.amazonaws.com"); // "ecr-login"
 * ```
 */
export function parseCredentialHelpers(text: string): CredentialHelperConfig {
  return dockerConfigHelpers(dockerConfigJson(text));
}

/** A docker config.json as Argoos uses it: its credentials and the helpers it names. */
export interface DockerConfig {
  credentials: CredentialMap;
  helpers: CredentialHelperConfig;
}

/**
 * Read a docker config.json text once: the credentials of `auths` and the credential helpers.
 * Throws on malformed input.
 *
 * @example
 * ```ts
 * import { readDockerConfig } from "./credential_helper.ts";
 * const { credentials, helpers } = readDockerConfig(
 *   '{"auths":{"ghcr.io":{"identitytoken":"t"}},"credsStore":"pass"}',
 * );
 * credentials.get("ghcr.io"); // { token: "t" }
 * helpers.credsStore; // "pass"
 * ```
 */
export function readDockerConfig(text: string): DockerConfig {
  const doc = dockerConfigJson(text);
  const helpers = dockerConfigHelpers(doc);
  return { credentials: dockerConfigCredentials(doc), helpers };
}

function dockerConfigHelpers(obj: JsonObject): CredentialHelperConfig {
  const check = (name: unknown, where: string): string => {
    if (typeof name !== "string" || !HELPER_NAME.test(name)) {
      throw new Error(`docker config: ${where} must name a credential helper`);
    }
    return name;
  };
  const credHelpers = new Map<string, string>();
  if (obj.credHelpers !== undefined) {
    if (typeof obj.credHelpers !== "object" || obj.credHelpers === null) {
      throw new Error('docker config: "credHelpers" must be an object');
    }
    for (const [host, name] of Object.entries(obj.credHelpers)) {
      credHelpers.set(normalizeRegistryHost(host), check(name, `credHelpers["${host}"]`));
    }
  }
  const store = obj.credsStore === undefined || obj.credsStore === ""
    ? undefined
    : check(obj.credsStore, "credsStore");
  return { credHelpers, credsStore: store };
}

/**
 * The server URL docker hands a helper for a registry host: Docker Hub's legacy index URL,
 * else the host itself.
 *
 * @example
 * ```ts
 * import { helperServerUrl } from "./credential_helper.ts";
 * helperServerUrl("docker.io"); // "https://index.docker.io/v1/"
 * helperServerUrl("ghcr.io"); // "ghcr.io"
 * ```
 */
export function helperServerUrl(host: string): string {
  return normalizeRegistryHost(host) === "docker.io" ? "https://index.docker.io/v1/" : host;
}

/**
 * Options of {@linkcode CredentialHelpers}.
 *
 * @example
 * ```ts
 * import type { CredentialHelpersOptions } from "./credential_helper.ts";
 * const opts: CredentialHelpersOptions = { timeoutMs: 5_000 };
 * ```
 */
export interface CredentialHelpersOptions {
  /** Per helper run. Default 10 s. */
  timeoutMs?: number;
  /** How long an answer is reused. Default 5 min. */
  cacheMs?: number;
  now?: () => number;
  run?: RunHelper;
}

/**
 * Looks credentials up with the docker config's helpers.
 *
 * @example
 * ```ts ignore
 * import { CredentialHelpers, parseCredentialHelpers } from "./credential_helper.ts";
 * const helpers = new CredentialHelpers(parseCredentialHelpers('{"credsStore":"pass"}'));
 * await helpers.forHost("ghcr.io"); // [{ username: "…", password: "…" }] or []
 * ```
 */
export class CredentialHelpers {
  #config: CredentialHelperConfig;
  #timeoutMs: number;
  #cacheMs: number;
  #now: () => number;
  #run: RunHelper;
  /** Host → answer and when it was read; bounded by MAX_CACHE_ENTRIES. */
  #cache = new Map<string, { creds: RegistryCredential[]; at: number }>();

  constructor(config: CredentialHelperConfig, opts: CredentialHelpersOptions = {}) {
    this.#config = config;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#cacheMs = opts.cacheMs ?? DEFAULT_CACHE_MS;
    this.#now = opts.now ?? Date.now;
    this.#run = opts.run ?? runHelper;
  }

  /** The helper docker would use for `host`, if any. */
  helperFor(host: string): string | undefined {
    return this.#config.credHelpers.get(normalizeRegistryHost(host)) ?? this.#config.credsStore;
  }

  /**
   * The credential the helper for `host` holds: none when no helper applies or it has
   * nothing for the server. Throws {@linkcode HelperError} when the helper fails.
   */
  async forHost(host: string): Promise<RegistryCredential[]> {
    const name = this.helperFor(host);
    if (name === undefined) return [];
    const key = normalizeRegistryHost(host);
    const hit = this.#cache.get(key);
    if (hit && this.#now() - hit.at < this.#cacheMs) return hit.creds;
    const command = `docker-credential-${name}`;
    let result;
    try {
      result = await this.#run(command, ["get"], helperServerUrl(host), {
        timeoutMs: this.#timeoutMs,
      });
    } catch (err) {
      throw new HelperError(`${command}: ${(err as Error).message}`);
    }
    let creds: RegistryCredential[];
    if (result.code !== 0) {
      const said = (result.stdout.trim() || result.stderr.trim()).split("\n")[0].slice(0, 200);
      if (!said.includes(NOT_FOUND)) {
        throw new HelperError(`${command} get exited ${result.code}${said ? `: ${said}` : ""}`);
      }
      creds = [];
    } else {
      creds = [parseAnswer(command, result.stdout)];
    }
    this.#cache.delete(key);
    if (this.#cache.size >= MAX_CACHE_ENTRIES) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(key, { creds, at: this.#now() });
    return creds;
  }
}

function parseAnswer(command: string, stdout: string): RegistryCredential {
  const doc = parseJson(stdout);
  if (doc === undefined) throw new HelperError(`${command} get: answer is not JSON`);
  const { Username, Secret } = (doc ?? {}) as Record<string, unknown>;
  if (typeof Username !== "string" || typeof Secret !== "string" || Secret === "") {
    throw new HelperError(`${command} get: answer lacks Username and Secret`);
  }
  return Username === "<token>" ? { token: Secret } : { username: Username, password: Secret };
}
