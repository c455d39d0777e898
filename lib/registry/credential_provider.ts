/**
 * Kubelet image credential provider plugins, run the way the kubelet runs them: a
 * `CredentialProviderConfig` (kubelet.config.k8s.io/v1) names each plugin, the images it serves
 * (`matchImages`) and how long its answers last; the plugin in the bin dir gets a
 * `CredentialProviderRequest` (credentialprovider.kubelet.k8s.io/v1) on stdin and answers a
 * `CredentialProviderResponse`, cached by its `cacheKeyType` and `cacheDuration`. That serves
 * ECR (`ecr-credential-provider`), Artifact Registry / GCR and ACR with their published plugins.
 *
 * @module
 */

import { parseYamlOrJson } from "../io/yaml.ts";
import { parseDuration } from "../parse/duration.ts";
import { credentialKeyMatches, parseCredentialKey } from "./credential_key.ts";
import { credentialsFor, type RegistryCredential } from "./credentials.ts";
import { HelperError, type RunHelper, runHelper } from "../io/run_plugin.ts";
import { isObject, parseJson } from "../parse/object.ts";

/** Config file versions the kubelet reads (v1 since Kubernetes 1.26). */
const CONFIG_VERSIONS = new Set([
  "kubelet.config.k8s.io/v1",
  "kubelet.config.k8s.io/v1beta1",
  "kubelet.config.k8s.io/v1alpha1",
]);
/** Request/response versions of the plugin protocol. */
const PLUGIN_VERSIONS = new Set([
  "credentialprovider.kubelet.k8s.io/v1",
  "credentialprovider.kubelet.k8s.io/v1beta1",
  "credentialprovider.kubelet.k8s.io/v1alpha1",
]);
/** Per provider; past it the entry closest to expiry goes first. */
const MAX_CACHE_ENTRIES = 1_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One `providers[]` entry.
 *
 * @example
 * ```ts
 * import type { CredentialProvider } from "./credential_provider.ts";
 * const ecr: CredentialProvider = {
 *   name: "ecr-credential-provider",
 *   matchImages: ["*.dkr.ecr.*.amazonaws.com"],
 *   defaultCacheDurationMs: 12 * 3_600_000,
 *   apiVersion: "credentialprovider.kubelet.k8s.io/v1",
 *   args: [],
 *   env: {},
 * };
 * ```
 */
export interface CredentialProvider {
  /** Executable name in the bin dir. */
  name: string;
  /** Image globs the plugin is asked for (kubelet's `matchImages`). */
  matchImages: string[];
  /** How long an answer without its own cache duration is kept. */
  defaultCacheDurationMs: number;
  /** Version of the request sent and of the response expected. */
  apiVersion: string;
  /** Arguments of the plugin. */
  args: string[];
  /** Environment of the plugin, besides a minimal one. */
  env: Record<string, string>;
}

/** A config file or a plugin's answer that is not what the kubelet API defines. */
export class CredentialProviderError extends Error {
  override name = "CredentialProviderError";
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new CredentialProviderError(`${where} must be a list of strings`);
  }
  return v;
}

function duration(v: unknown, where: string): number {
  try {
    if (typeof v !== "string") throw new Error("missing");
    return parseDuration(v);
  } catch {
    throw new CredentialProviderError(`${where} must be a duration such as 12h or 30m`);
  }
}

/**
 * Parse a `CredentialProviderConfig` file (YAML or JSON). Throws
 * {@linkcode CredentialProviderError} with a one-line reason.
 *
 * @example
 * ```ts
 * import { parseCredentialProviderConfig } from "./credential_provider.ts";
 * const [p] = await parseCredentialProviderConfig(`
 * apiVersion: kubelet.config.k8s.io/v1
 * kind: CredentialProviderConfig
 * providers:
 *   - name: ecr-credential-provider
 *     matchImages: ["*.dkr.ecr.*.amazonaws.com"]
 *     defaultCacheDuration: 12h
 *     apiVersion: credentialprovider.kubelet.k8s.io/v1
 * `);
 * p.defaultCacheDurationMs; // 43200000
 * ```
 */
export async function parseCredentialProviderConfig(
  text: string,
): Promise<CredentialProvider[]> {
  let doc: unknown;
  try {
    doc = await parseYamlOrJson(text);
  } catch (err) {
    throw new CredentialProviderError(`not YAML or JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (!isObject(doc) || doc.kind !== "CredentialProviderConfig") {
    throw new CredentialProviderError("kind must be CredentialProviderConfig");
  }
  if (typeof doc.apiVersion !== "string" || !CONFIG_VERSIONS.has(doc.apiVersion)) {
    throw new CredentialProviderError(
      `apiVersion ${doc.apiVersion} is not one of ${[...CONFIG_VERSIONS].join(", ")}`,
    );
  }
  if (!Array.isArray(doc.providers)) throw new CredentialProviderError("providers must be a list");
  const names = new Set<string>();
  return doc.providers.map((raw, i) => {
    const where = `providers[${i}]`;
    if (!isObject(raw)) throw new CredentialProviderError(`${where} must be an object`);
    const name = raw.name;
    if (typeof name !== "string" || !/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith(".")) {
      throw new CredentialProviderError(`${where}.name must be a file name in the bin dir`);
    }
    if (names.has(name)) throw new CredentialProviderError(`${where}.name ${name} repeats`);
    names.add(name);
    const matchImages = strings(raw.matchImages, `${where}.matchImages`);
    if (matchImages.length === 0 || matchImages.some((m) => !parseCredentialKey(m))) {
      throw new CredentialProviderError(`${where}.matchImages must list image patterns`);
    }
    if (typeof raw.apiVersion !== "string" || !PLUGIN_VERSIONS.has(raw.apiVersion)) {
      throw new CredentialProviderError(
        `${where}.apiVersion must be one of ${[...PLUGIN_VERSIONS].join(", ")}`,
      );
    }
    if (raw.tokenAttributes !== undefined) {
      throw new CredentialProviderError(
        `${where}.tokenAttributes: service account tokens for plugins are not supported`,
      );
    }
    const env: Record<string, string> = {};
    if (raw.env !== undefined && raw.env !== null && !Array.isArray(raw.env)) {
      throw new CredentialProviderError(`${where}.env must be a list of {name, value}`);
    }
    for (const e of (raw.env ?? []) as unknown[]) {
      if (!isObject(e) || typeof e.name !== "string" || typeof e.value !== "string") {
        throw new CredentialProviderError(`${where}.env must be a list of {name, value}`);
      }
      env[e.name] = e.value;
    }
    return {
      name,
      matchImages,
      defaultCacheDurationMs: duration(raw.defaultCacheDuration, `${where}.defaultCacheDuration`),
      apiVersion: raw.apiVersion,
      args: strings(raw.args, `${where}.args`),
      env,
    };
  });
}

/**
 * Whether a `matchImages` pattern covers the image `host/path`, by the kubelet's rules: the
 * same number of host labels, `*` within one label, the same port, the pattern's path a prefix.
 *
 * @example
 * ```ts
 * import { imageMatches } from "./credential_provider.ts";
 * imageMatches("*.dkr.ecr.*.amazonaws.com", "1.dkr.ecr.us-east-1.amazonaws.com", "app"); // true
 * imageMatches("*.azurecr.io", "azurecr.io", "app"); // false
 * imageMatches("registry.io:8080/path", "registry.io:8080", "path/app"); // true
 * ```
 */
export function imageMatches(pattern: string, host: string, path: string): boolean {
  const key = parseCredentialKey(pattern);
  return key !== undefined && credentialKeyMatches(key, host, path);
}

interface CacheEntry {
  auth: Map<string, RegistryCredential>;
  expiresAt: number;
}

/**
 * Options of {@linkcode CredentialProviders}.
 *
 * @example
 * ```ts
 * import type { CredentialProvidersOptions } from "./credential_provider.ts";
 * const opts: CredentialProvidersOptions = { binDir: "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec" };
 * ```
 */
export interface CredentialProvidersOptions {
  /** `--image-credential-provider-bin-dir`. */
  binDir: string;
  /** Per plugin run. Default 10 s. */
  timeoutMs?: number;
  /** Injectable for tests. */
  now?: () => number;
  run?: RunHelper;
}

/**
 * The configured plugins, with the kubelet's cache of their answers.
 *
 * @example
 * ```ts ignore
 * import { CredentialProviders, parseCredentialProviderConfig } from "./credential_provider.ts";
 * const text = await Deno.readTextFile("/etc/kubernetes/credential-provider.yaml");
 * const providers = new CredentialProviders(parseCredentialProviderConfig(text), {
 *   binDir: "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
 * });
 * await providers.forImage("123456789012.dkr.ecr.us-east-1.amazonaws.com", "team/app");
 * ```
 */
export class CredentialProviders {
  #providers: readonly CredentialProvider[];
  #binDir: string;
  #timeoutMs: number;
  #now: () => number;
  #run: RunHelper;
  /** Per provider name: cache key ("image:…", "registry:…", "global") → answer; bounded. */
  #cache = new Map<string, Map<string, CacheEntry>>();
  /**
   * Runs under way, by provider and image, so concurrent lookups share one run; bounded by the
   * lookups in flight (the reconciles and poll requests running), each entry removed when it settles.
   */
  #inflight = new Map<string, Promise<CacheEntry>>();

  constructor(providers: readonly CredentialProvider[], opts: CredentialProvidersOptions) {
    this.#providers = providers;
    this.#binDir = opts.binDir;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#now = opts.now ?? Date.now;
    this.#run = opts.run ?? runHelper;
  }

  /** True when some provider's `matchImages` covers the image. */
  serves(host: string, path: string): boolean {
    return this.#providers.some((p) => p.matchImages.some((m) => imageMatches(m, host, path)));
  }

  /**
   * Credentials every matching plugin gives for the image `host/path`, in provider order (the
   * kubelet tries earlier providers first), best key first within one. Throws
   * {@linkcode CredentialProviderError} or {@linkcode HelperError} naming the failing plugin.
   */
  async forImage(host: string, path: string): Promise<RegistryCredential[]> {
    const image = `${host}/${path}`;
    const out: RegistryCredential[] = [];
    for (const provider of this.#providers) {
      if (!provider.matchImages.some((m) => imageMatches(m, host, path))) continue;
      const entry = this.#cached(provider, host, image) ?? await this.#fetch(provider, host, image);
      out.push(...credentialsFor(entry.auth, host, path));
    }
    return out;
  }

  #cached(provider: CredentialProvider, host: string, image: string): CacheEntry | undefined {
    const cache = this.#cache.get(provider.name);
    const now = this.#now();
    for (const key of [`image:${image}`, `registry:${host}`, "global"]) {
      const entry = cache?.get(key);
      if (entry && entry.expiresAt > now) return entry;
      if (entry) cache!.delete(key);
    }
    return undefined;
  }

  #fetch(provider: CredentialProvider, host: string, image: string): Promise<CacheEntry> {
    const flightKey = `${provider.name}\n${image}`;
    let flight = this.#inflight.get(flightKey);
    if (!flight) {
      flight = this.#exec(provider, host, image).finally(() => this.#inflight.delete(flightKey));
      this.#inflight.set(flightKey, flight);
    }
    return flight;
  }

  async #exec(provider: CredentialProvider, host: string, image: string): Promise<CacheEntry> {
    const request = { apiVersion: provider.apiVersion, kind: "CredentialProviderRequest", image };
    const command = `${this.#binDir.replace(/\/+$/, "")}/${provider.name}`;
    let result;
    try {
      result = await this.#run(command, provider.args, JSON.stringify(request), {
        timeoutMs: this.#timeoutMs,
        env: provider.env,
      });
    } catch (err) {
      throw new HelperError(`credential provider ${provider.name}: ${(err as Error).message}`);
    }
    if (result.code !== 0) {
      const said = (result.stderr.trim() || result.stdout.trim()).split("\n")[0].slice(0, 200);
      throw new CredentialProviderError(
        `credential provider ${provider.name} exited ${result.code}${said ? `: ${said}` : ""}`,
      );
    }
    const { keyType, durationMs, auth } = parseResponse(provider, result.stdout);
    const entry = {
      auth,
      expiresAt: this.#now() + (durationMs ?? provider.defaultCacheDurationMs),
    };
    if ((durationMs ?? provider.defaultCacheDurationMs) > 0) {
      const key = keyType === "Image"
        ? `image:${image}`
        : keyType === "Registry"
        ? `registry:${host}`
        : "global";
      this.#store(provider.name, key, entry);
    }
    return entry;
  }

  #store(provider: string, key: string, entry: CacheEntry): void {
    let cache = this.#cache.get(provider);
    if (!cache) this.#cache.set(provider, cache = new Map());
    cache.delete(key);
    if (cache.size >= MAX_CACHE_ENTRIES) {
      const now = this.#now();
      for (const [k, e] of cache) if (e.expiresAt <= now) cache.delete(k);
      if (cache.size >= MAX_CACHE_ENTRIES) {
        const soonest = [...cache].reduce((a, b) => (b[1].expiresAt < a[1].expiresAt ? b : a));
        cache.delete(soonest[0]);
      }
    }
    cache.set(key, entry);
  }
}

function parseResponse(provider: CredentialProvider, stdout: string) {
  const fail = (why: string) =>
    new CredentialProviderError(`credential provider ${provider.name}: ${why}`);
  const doc = parseJson(stdout);
  if (doc === undefined) throw fail("answer is not JSON");
  if (!isObject(doc) || doc.kind !== "CredentialProviderResponse") {
    throw fail("answer kind must be CredentialProviderResponse");
  }
  if (doc.apiVersion !== provider.apiVersion) {
    throw fail(`answer apiVersion ${doc.apiVersion} differs from ${provider.apiVersion}`);
  }
  const keyType = doc.cacheKeyType;
  if (keyType !== "Image" && keyType !== "Registry" && keyType !== "Global") {
    throw fail("cacheKeyType must be Image, Registry or Global");
  }
  const durationMs = doc.cacheDuration === undefined || doc.cacheDuration === null
    ? undefined
    : duration(doc.cacheDuration, `${provider.name} cacheDuration`);
  const auth = new Map<string, RegistryCredential>();
  if (doc.auth !== undefined && doc.auth !== null && !isObject(doc.auth)) {
    throw fail("auth must map image patterns to {username, password}");
  }
  for (const [pattern, value] of Object.entries(doc.auth ?? {})) {
    if (!isObject(value)) throw fail(`auth["${pattern}"] must be {username, password}`);
    const username = typeof value.username === "string" ? value.username : "";
    const password = typeof value.password === "string" ? value.password : "";
    if (username || password) auth.set(pattern, { username, password });
  }
  return { keyType, durationMs, auth };
}
