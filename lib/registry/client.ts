/**
 * The one client Argoos uses for every container registry (Docker Registry HTTP API v2 /
 * OCI distribution): tag listing with pagination, manifest digests by HEAD, the manifest
 * itself by GET (the truth check before a write), the Basic and Bearer token auth dance with
 * a token cache, per-host concurrency and 429/503 backoff.
 *
 * On Docker Hub a manifest GET counts as a pull against the rate limit, a HEAD does not:
 * {@linkcode RegistryClient.manifest} GETs because it must see whether the manifest is an
 * image, and the truth check calls it only for a manifest it has not seen
 * (`lib/registry/tag_verifier.ts`), asking {@linkcode RegistryClient.headDigest} otherwise.
 *
 * @module
 */

import { type PooledFetch, pooledFetch } from "../io/pooled_fetch.ts";
import { createHash } from "node:crypto";
import { linkSignals } from "../async/linked_signal.ts";
import { eachBodyChunkCapped, readBodyCapped } from "../io/read_capped.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { type Challenge, parseChallenges } from "./challenge.ts";
import type { RegistryCredential } from "./credentials.ts";
import { registryEndpoint, type RegistryMirrors, registryUrl } from "./mirrors.ts";
import { DIGEST_MISSING, isTransientStatus, LISTING_TOO_LARGE, RegistryError } from "./errors.ts";
import { HostLimiter } from "./host_limiter.ts";
import { HostPolicy, type Resolver } from "./host_policy.ts";
import { nextPageUrl } from "./link.ts";
import { parseRetryAfter } from "./retry_after.ts";
import { TokenCache, tokenFromResponse, type TokenResponse } from "./token_cache.ts";
import { MANIFEST_MEDIA_TYPES } from "../image/media_types.ts";
import { notAnImage } from "../image/artifact.ts";
import { REPOSITORY_PATH, TAG } from "../image/reference.ts";
import { MalformedTagList, TagListReader } from "./tag_list.ts";

/**
 * Settings of a {@linkcode RegistryClient}.
 *
 * @example
 * ```ts
 * import type { RegistryClientOptions } from "./client.ts";
 * const opts: RegistryClientOptions = { insecureHosts: ["reg.lan:5000"], concurrencyPerHost: 2 };
 * ```
 */
export interface RegistryClientOptions {
  /**
   * Hosts (or globs, `127.0.0.1:*`) reached over plain http (REGISTRY_INSECURE); loopback
   * hosts too only when listed, unlike Docker: see `isInsecureHost`.
   */
  insecureHosts?: readonly string[];
  /** Registries read through a mirror (REGISTRY_MIRRORS); hosts keep their names elsewhere. */
  mirrors?: RegistryMirrors;
  /** PEM CA bundle text for TLS (custom CA by file is read by the caller). */
  caCert?: string;
  /** Max concurrent requests per registry host. Default 4. */
  concurrencyPerHost?: number;
  /** Max pages followed for a tags list. Default 100. */
  maxPages?: number;
  /** Per request, including reading the body. Default 15000. */
  timeoutMs?: number;
  /** Host globs registries must match (REGISTRY_ALLOW); empty or absent allows all. */
  allow?: readonly string[];
  /**
   * Name resolution used to refuse names that resolve to link-local or unspecified
   * addresses; absent checks only addresses written in URLs.
   */
  resolve?: Resolver;
  /**
   * Largest manifest read by {@linkcode RegistryClient.manifest}, in bytes; a bigger one is an
   * error. Default 4 MiB, the limit distribution and containerd put on manifests.
   */
  maxManifestBytes?: number;
  /** Injectable for tests; default: connections of its own (`pooledFetch`), closed by `close`. */
  fetch?: (input: URL, init: RequestInit) => Promise<Response>;
  /** Injectable clock (ms) for token expiry / backoff tests. */
  now?: () => number;
  /** Where warnings (backoff, truncated tag lists) go. Default: silent. */
  logger?: Logger;
}

/**
 * One finished (or failed) HTTP request, for metrics.
 *
 * @example
 * ```ts
 * import { RegistryClient, type RegistryRequestStats } from "./client.ts";
 * const client = new RegistryClient();
 * client.onRequest = (s: RegistryRequestStats) => console.log(s.host, s.status);
 * ```
 */
export interface RegistryRequestStats {
  /** Registry host as the caller named it (token requests count under the registry too). */
  host: string;
  /** HTTP status, or `"error"` when no response came (network error, timeout). */
  status: number | "error";
}

/** Largest answers read, by kind; beyond it the answer is cut and the request fails. */
export const MAX_ANSWER_BYTES = {
  /** One page of a tags list: 100,000 tags of 40 characters. */
  tags: 4 * 1024 * 1024,
  /** A token endpoint's JSON (JWTs are a few KiB). */
  token: 64 * 1024,
  /** A manifest: distribution refuses to store one over 4 MiB. */
  manifest: 4 * 1024 * 1024,
  /** Anything else (error bodies, HEAD answers). */
  other: 64 * 1024,
} as const;
/**
 * Bounds of one tag listing across all its pages: what it may cost in memory whatever the
 * registry answers. A listing over one is refused for that cycle.
 */
export const LISTING_LIMITS = {
  /** Bytes of all pages together. */
  bytes: 16 * 1024 * 1024,
  /** Tags kept (those that follow the tag grammar). */
  tags: 100_000,
} as const;
/** Redirects followed for one request. */
const MAX_REDIRECTS = 5;

/**
 * What {@linkcode RegistryClient.manifest} learned about a manifest.
 *
 * @example
 * ```ts
 * import type { ManifestInfo } from "./client.ts";
 * const info: ManifestInfo = {
 *   digest: "sha256:515067bec0af45ec93a68e8e9bf89fb2dd608a89e7a1537710e833245f4e13c4",
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 * };
 * ```
 */
export interface ManifestInfo {
  /** The manifest's digest: Docker-Content-Digest, else the sha256 of the bytes served. */
  digest: string;
  /** The media type served (Content-Type), else the manifest's own `mediaType` field. */
  mediaType: string;
  /** Why the manifest is not a runnable image (see `notAnImage`); absent for an image. */
  notImage?: string;
}

/** One-page listings remembered by their hash (see `RegistryClient.listTags`). */
const LISTING_CACHE_ENTRIES = 10_000;

/** Default of {@linkcode RegistryClientOptions.maxManifestBytes}. */
const DEFAULT_MAX_MANIFEST_BYTES = MAX_ANSWER_BYTES.manifest;
/** Backoff after a 429 that names no `Retry-After`. */
const DEFAULT_RATE_LIMIT_BACKOFF_MS = 30_000;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** What one exchange may read: its size cap, the registry it is for, and a body consumer. */
interface Limits {
  maxBytes: number;
  registry: URL;
  consume?: (chunk: Uint8Array) => void;
}

interface Reply {
  method: string;
  url: URL;
  status: number;
  headers: Headers;
  body: string;
  /** The body as received, for hashing. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Set for 429/503: how long the host asked us to stay away. */
  retryAfterMs?: number;
}

interface RegistryRequest {
  method: "GET" | "HEAD";
  /** Largest answer body read. */
  maxBytes: number;
  /** Takes a 2xx answer's body chunk by chunk instead of keeping it (`body` is then empty). */
  consume?: (chunk: Uint8Array) => void;
  accept: string;
  /** Code to report for a 404 without an error body (HEAD responses have none). */
  notFoundCode?: string;
  /** Cancels the request (and a token fetch it needs), e.g. when the poller stops. */
  signal?: AbortSignal;
}

/**
 * Talks to container registries on behalf of the rest of Argoos.
 *
 * @example
 * ```ts ignore
 * import { RegistryClient } from "./client.ts";
 * const registry = new RegistryClient({ insecureHosts: ["registry.lan:5000"] });
 * try {
 *   const tags = await registry.listTags("docker.io", "library/nginx");
 *   const digest = await registry.headDigest("docker.io", "library/nginx", "1.27.0");
 *   console.log(tags.length, digest);
 * } finally {
 *   registry.close();
 * }
 * ```
 */
export class RegistryClient {
  /** Called after every HTTP request (for metrics). */
  onRequest?: (s: RegistryRequestStats) => void;
  /** Called once per tag listing that dropped tags breaking the grammar, with their number. */
  onDroppedTags?: (host: string, dropped: number) => void;

  #insecureHosts: readonly string[];
  #mirrors: RegistryMirrors;
  #maxPages: number;
  #timeoutMs: number;
  #maxManifestBytes: number;
  #fetch: (input: URL, init: RequestInit) => Promise<Response>;
  #now: () => number;
  #log: Logger;
  #pool?: PooledFetch;
  #limiter: HostLimiter;
  #policy: HostPolicy;
  #tokens = new TokenCache();
  /**
   * The last one-page listing of each repository (by credential): the sha-256 of its body and
   * its tags, held weakly (the caller keeps them while it uses them). The same bytes again are
   * the same tags: not parsed nor checked again, and the same array, so an unchanged listing
   * costs a hash. At most {@linkcode LISTING_CACHE_ENTRIES}, the least recently used dropped.
   */
  #lastListings = new Map<string, { hash: string; tags: WeakRef<readonly string[]> }>();
  /** How each host asked to be authenticated, learned from its last 401; at most 1024 hosts. */
  #hostAuth = new Map<string, Challenge>();

  /** A client; call {@linkcode RegistryClient.close} when done. */
  constructor(opts: RegistryClientOptions = {}) {
    this.#insecureHosts = opts.insecureHosts ?? [];
    this.#mirrors = opts.mirrors ?? new Map();
    this.#maxPages = opts.maxPages ?? 100;
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.#fetch = opts.fetch ??
      (this.#pool = pooledFetch(opts.caCert ? { caCerts: [opts.caCert] } : {}));
    this.#now = opts.now ?? Date.now;
    this.#log = opts.logger ?? silentLogger;
    this.#limiter = new HostLimiter(opts.concurrencyPerHost ?? 4, this.#now);
    this.#policy = new HostPolicy({
      insecureHosts: this.#insecureHosts,
      allow: opts.allow,
      resolve: opts.resolve,
      now: this.#now,
    });
  }

  /**
   * All tags of a repository, following Link rel="next" (relative or absolute) up to maxPages;
   * never assumes order. host is the registry host as in the image reference after
   * normalization ("docker.io" means registry-1.docker.io for requests), path the repository
   * path ("library/nginx"). Past maxPages, or at a link back to a page already fetched, the
   * tags so far are returned and a warning logged. A tag that breaks the tag grammar (over 128
   * characters included) is dropped, counted and logged once per listing; a listing over
   * {@linkcode LISTING_LIMITS} across its pages is refused (a {@linkcode RegistryError} with
   * code `LISTING_TOO_LARGE`), each page read, checked and let go before the next.
   * `signal` cancels it.
   */
  async listTags(
    host: string,
    path: string,
    cred?: RegistryCredential,
    signal?: AbortSignal,
  ): Promise<readonly string[]> {
    checkName(host, path, "NAME_INVALID", REPOSITORY_PATH);
    const endpoint = registryEndpoint(host, this.#insecureHosts, this.#mirrors);
    const base = new URL(endpoint.base);
    let url: URL | undefined = registryUrl(endpoint, path, "tags/list");
    const tags = new Set<string>();
    const fetched = new Set<string>();
    const tooLarge = (why: string) =>
      new RegistryError(`${host}: tags list of ${path} refused: ${why}`, {
        host,
        code: LISTING_TOO_LARGE,
        transient: false,
      });
    let bytesLeft = LISTING_LIMITS.bytes;
    /** Set for a one-page listing: where it is remembered, and its body's hash. */
    let cacheKey: string | undefined;
    let bodyHash: string | undefined;
    let dropped = 0;
    let example: string | undefined;
    const drop = (head: string) => {
      if (dropped++ === 0) example = head.slice(0, 64);
    };
    for (let page = 0; url && page < this.#maxPages; page++) {
      fetched.add(url.href);
      const maxBytes = Math.min(MAX_ANSWER_BYTES.tags, bytesLeft);
      // Read as it streams in: a tag is kept once it ends and passes the grammar; a string
      // longer than a tag can be is never held.
      const reader = new TagListReader((tag) => {
        if (!TAG.test(tag)) drop(tag);
        else if (tags.add(tag).size > LISTING_LIMITS.tags) {
          throw tooLarge(`over ${LISTING_LIMITS.tags} tags`);
        }
      }, drop);
      const page = url;
      // What the reader refuses is the registry's answer: final, like any malformed one.
      const read = (step: () => void) => {
        try {
          step();
        } catch (err) {
          if (!(err instanceof MalformedTagList)) throw err;
          throw new RegistryError(`${host}: GET ${page.pathname}: ${err.message}`, {
            host,
            status: 200,
            transient: false,
          });
        }
      };
      const hash = fetched.size === 1 ? createHash("sha256") : undefined;
      let reply: Reply;
      try {
        reply = await this.#request(host, path, cred, url, {
          method: "GET",
          accept: "application/json",
          maxBytes,
          notFoundCode: "NAME_UNKNOWN",
          signal,
          consume: (chunk) => {
            bytesLeft -= chunk.byteLength;
            hash?.update(chunk);
            read(() => reader.push(chunk));
          },
        });
      } catch (err) {
        // Cut by what is left of the listing's bound rather than by the page's own.
        const cut = err instanceof RegistryError && err.code === "TOO_LARGE";
        if (cut && maxBytes < MAX_ANSWER_BYTES.tags) {
          throw tooLarge(`over ${LISTING_LIMITS.bytes} bytes`);
        }
        throw err;
      }
      const next = nextPageUrl(reply.headers.get("link"), reply.url);
      if (hash && next === undefined) {
        // One page, as last time byte for byte: the tags it gave then (a small page is parsed
        // only at its end, so this skips the parse).
        cacheKey = `${tokenCacheKey(host, path, cred)} ${url.href}`;
        bodyHash = hash.digest("base64");
        const known = this.#lastListings.get(cacheKey);
        const tags = known?.hash === bodyHash ? known.tags.deref() : undefined;
        if (tags) {
          this.#lastListings.delete(cacheKey);
          this.#lastListings.set(cacheKey, known!);
          return tags;
        }
      }
      read(() => reader.end());
      url = next;
      if (url && endpoint.ns !== undefined) url.searchParams.set("ns", endpoint.ns);
      // Credentials go with every page, so never follow a link to another origin.
      if (url && url.origin !== base.origin) {
        throw new RegistryError(`${host}: tags list links to another origin ${url.origin}`, {
          host,
          transient: false,
        });
      }
      // A link back to a fetched page would only repeat it until maxPages.
      if (url && fetched.has(url.href)) {
        this.#log.warn("registry tags list links back to a fetched page", {
          host,
          path,
          next: url.pathname + url.search,
          pages: fetched.size,
          tags: tags.size,
        });
        url = undefined;
      }
    }
    if (dropped > 0) {
      this.#log.warn("registry listed tags that break the tag grammar, dropped", {
        host,
        path,
        dropped,
        first: example,
      });
      this.onDroppedTags?.(host, dropped);
    }
    if (url) {
      this.#log.warn("registry tags list truncated at page limit", {
        host,
        path,
        maxPages: this.#maxPages,
        tags: tags.size,
      });
    }
    const listed = [...tags];
    // A listing with dropped tags is read again each time, so each is counted and logged.
    if (cacheKey !== undefined && bodyHash !== undefined && dropped === 0) {
      this.#lastListings.delete(cacheKey);
      this.#lastListings.set(cacheKey, { hash: bodyHash, tags: new WeakRef(listed) });
      if (this.#lastListings.size > LISTING_CACHE_ENTRIES) {
        this.#lastListings.delete(this.#lastListings.keys().next().value!);
      }
    }
    return listed;
  }

  /**
   * HEAD the manifest with Accept: Docker v2 manifest, Docker manifest list, OCI manifest,
   * OCI index; return Docker-Content-Digest. `reference` is a tag or a digest; `signal`
   * cancels it.
   */
  async headDigest(
    host: string,
    path: string,
    reference: string,
    cred?: RegistryCredential,
    signal?: AbortSignal,
  ): Promise<string> {
    const url = this.#manifestUrl(host, path, reference);
    const reply = await this.#request(host, path, cred, url, {
      method: "HEAD",
      accept: MANIFEST_MEDIA_TYPES.join(", "),
      maxBytes: MAX_ANSWER_BYTES.other,
      notFoundCode: "MANIFEST_UNKNOWN",
      signal,
    });
    const digest = reply.headers.get("docker-content-digest")?.trim();
    if (!digest || !DIGEST.test(digest)) {
      throw new RegistryError(`${host}: HEAD ${url.pathname}: no valid Docker-Content-Digest`, {
        host,
        status: reply.status,
        code: DIGEST_MISSING,
        transient: false,
      });
    }
    return digest;
  }

  /**
   * GET the manifest (same Accept as {@linkcode RegistryClient.headDigest}) and say what it
   * is: its digest (Docker-Content-Digest, else the sha256 of the bytes served), its media
   * type, and why it is not a runnable image when it is not one. Asked by digest, a manifest
   * with another digest is an error. The body is read up to
   * `maxManifestBytes` (a bigger one is a non-transient error). A tag or digest the registry
   * does not serve is a RegistryError with status 404 and code `MANIFEST_UNKNOWN`.
   *
   * @example
   * ```ts ignore
   * import { RegistryClient } from "./client.ts";
   * const registry = new RegistryClient();
   * const info = await registry.manifest("ghcr.io", "org/app", "1.2.4");
   * if (info.notImage) console.log(`not deployed: ${info.notImage}`);
   * ```
   */
  async manifest(
    host: string,
    path: string,
    reference: string,
    cred?: RegistryCredential,
    signal?: AbortSignal,
  ): Promise<ManifestInfo> {
    const url = this.#manifestUrl(host, path, reference);
    const reply = await this.#request(host, path, cred, url, {
      method: "GET",
      accept: MANIFEST_MEDIA_TYPES.join(", "),
      notFoundCode: "MANIFEST_UNKNOWN",
      signal,
      maxBytes: this.#maxManifestBytes,
    });
    const invalid = (why: string) =>
      new RegistryError(`${host}: GET ${url.pathname}: ${why}`, {
        host,
        status: reply.status,
        transient: false,
      });
    const sent = reply.headers.get("docker-content-digest")?.trim();
    if (sent !== undefined && !DIGEST.test(sent)) throw invalid("invalid Docker-Content-Digest");
    const digest = sent ?? await sha256Digest(reply.bytes);
    // Content is addressed by its digest: asked for one, anything else is not what was asked.
    if (reference.includes(":") && digest !== reference) {
      throw invalid(`served ${digest} for digest ${reference}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(reply.body);
    } catch {
      throw invalid("manifest is not JSON");
    }
    const served = reply.headers.get("content-type")?.split(";")[0].trim() ?? "";
    const own = (body as { mediaType?: unknown } | null)?.mediaType;
    const mediaType = served && served !== "application/json"
      ? served
      : typeof own === "string"
      ? own
      : served;
    const notImage = notAnImage(body, mediaType);
    return notImage === undefined ? { digest, mediaType } : { digest, mediaType, notImage };
  }

  /** Close its connections. */
  close(): void {
    this.#pool?.close();
  }

  /** `/v2/<path>/manifests/<reference>` after checking path and reference. */
  #manifestUrl(host: string, path: string, reference: string): URL {
    checkName(host, path, "NAME_INVALID", REPOSITORY_PATH);
    const isDigest = reference.includes(":");
    checkName(
      host,
      reference,
      isDigest ? "DIGEST_INVALID" : "TAG_INVALID",
      isDigest ? DIGEST : TAG,
    );
    const endpoint = registryEndpoint(host, this.#insecureHosts, this.#mirrors);
    return registryUrl(endpoint, path, `manifests/${reference}`);
  }

  /** One registry call with the auth dance: at most request, (token,) request again. */
  async #request(
    host: string,
    path: string,
    cred: RegistryCredential | undefined,
    url: URL,
    req: RegistryRequest,
  ): Promise<Reply> {
    try {
      this.#policy.checkRegistry(host);
    } catch (err) {
      throw refused(host, err as Error);
    }
    const tokenKey = tokenCacheKey(host, path, cred);
    const headers = (auth?: string): HeadersInit => ({
      Accept: req.accept,
      ...(auth ? { Authorization: auth } : {}),
    });
    const sent = this.#knownAuth(host, cred, tokenKey);
    const { signal } = req;
    const limits: Limits = { maxBytes: req.maxBytes, registry: url, consume: req.consume };
    let reply = await this.#send(host, url, {
      method: req.method,
      headers: headers(sent),
      signal,
    }, limits);
    if (reply.status === 401) {
      const challenge = pickChallenge(parseChallenges(reply.headers.get("www-authenticate")));
      if (!challenge) throw statusError(host, reply, req.notFoundCode);
      this.#hostAuth.delete(host);
      if (this.#hostAuth.size >= 1024) this.#hostAuth.delete(this.#hostAuth.keys().next().value!);
      this.#hostAuth.set(host, challenge);
      this.#tokens.delete(tokenKey);
      const auth = await this.#authorize(host, path, cred, challenge, tokenKey, url, signal);
      // Same Basic credentials already refused: asking again cannot help. A Bearer token was
      // just fetched anew; even when the string repeats it gets its one retry.
      if (challenge.scheme === "basic" && auth === sent) {
        throw statusError(host, reply, req.notFoundCode);
      }
      reply = await this.#send(
        host,
        url,
        { method: req.method, headers: headers(auth), signal },
        limits,
      );
      if (reply.status === 401) this.#tokens.delete(tokenKey);
    }
    if (reply.status < 200 || reply.status > 299) {
      throw statusError(host, reply, req.notFoundCode);
    }
    return reply;
  }

  /** The Authorization header to send up front, from what the host asked for before. */
  #knownAuth(host: string, cred: RegistryCredential | undefined, tokenKey: string) {
    const challenge = this.#hostAuth.get(host);
    if (challenge?.scheme === "bearer") {
      const token = this.#tokens.get(tokenKey, this.#now());
      return token ? `Bearer ${token}` : undefined;
    }
    if (challenge?.scheme === "basic") return basicAuth(cred);
    return undefined;
  }

  async #authorize(
    host: string,
    path: string,
    cred: RegistryCredential | undefined,
    challenge: Challenge,
    tokenKey: string,
    registry: URL,
    signal?: AbortSignal,
  ): Promise<string> {
    if (challenge.scheme === "basic") {
      const auth = basicAuth(cred);
      if (!auth) {
        throw new RegistryError(`${host}: registry requires credentials (Basic), none given`, {
          host,
          status: 401,
          code: "UNAUTHORIZED",
          transient: false,
        });
      }
      return auth;
    }
    const token = await this.#fetchToken(host, path, cred, challenge, registry, signal);
    this.#tokens.set(tokenKey, token, this.#now());
    return `Bearer ${token.token}`;
  }

  /**
   * Ask the challenge's realm for a pull token. With an identity token this is the OAuth2
   * refresh-token POST (as `docker login` tokens require); otherwise a GET, with Basic
   * credentials when we have them and anonymously when not.
   */
  async #fetchToken(
    host: string,
    path: string,
    cred: RegistryCredential | undefined,
    challenge: Challenge,
    registry: URL,
    signal?: AbortSignal,
  ) {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new RegistryError(`${host}: Bearer challenge without a valid realm`, {
        host,
        status: 401,
        code: "UNAUTHORIZED",
        transient: false,
      });
    }
    // The realm receives the credentials: https, or plain http to the registry itself only.
    try {
      await this.#policy.checkUrl(realm, host, registry);
    } catch (err) {
      throw refused(host, err as Error, "realm ");
    }
    const scopes = [`repository:${path}:pull`];
    for (const s of challenge.params.scope?.split(" ") ?? []) {
      if (s && !scopes.includes(s)) scopes.push(s);
    }
    const service = challenge.params.service;
    let reply: Reply;
    if (cred?.token) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: cred.token,
        client_id: "argoos",
        scope: scopes.join(" "),
      });
      if (service) form.set("service", service);
      reply = await this.#send(host, realm, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: form.toString(),
        signal,
      }, { maxBytes: MAX_ANSWER_BYTES.token, registry });
    } else {
      if (service) realm.searchParams.set("service", service);
      for (const s of scopes) realm.searchParams.append("scope", s);
      const auth = basicAuth(cred);
      reply = await this.#send(host, realm, {
        method: "GET",
        headers: auth ? { Authorization: auth } : {},
        signal,
      }, { maxBytes: MAX_ANSWER_BYTES.token, registry });
    }
    if (reply.status === 401 || reply.status === 403) {
      throw new RegistryError(
        `${host}: token endpoint ${realm.origin} refused the credentials (HTTP ${reply.status})`,
        { host, status: reply.status, code: "UNAUTHORIZED", transient: false },
      );
    }
    if (reply.status < 200 || reply.status > 299) throw statusError(host, reply);
    let body: TokenResponse;
    try {
      body = JSON.parse(reply.body);
    } catch {
      body = {};
    }
    const token = tokenFromResponse(body, this.#now());
    if (!token) {
      throw new RegistryError(`${host}: token endpoint ${realm.origin} returned no token`, {
        host,
        status: reply.status,
        transient: false,
      });
    }
    this.#log.debug("registry token fetched", { host, scopes });
    return token;
  }

  /**
   * One HTTP exchange under the host's limiter, within the timeout: redirects followed by
   * hand (at most MAX_REDIRECTS, each URL checked by the host policy, credentials and bodies
   * never carried to another origin), the answer read up to `limits.maxBytes`.
   */
  #send(
    host: string,
    url: URL,
    init: RequestInit & { method: string; headers: HeadersInit },
    limits: Limits,
  ): Promise<Reply> {
    return this.#limiter.run(host, async () => {
      const cancel = init.signal;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
      const link = linkSignals(abort.signal, cancel);
      let reply: Reply;
      try {
        cancel?.throwIfAborted();
        reply = await this.#follow(host, url, { ...init, signal: link.signal }, limits);
      } catch (cause) {
        if (cause instanceof RegistryError) throw cause;
        this.onRequest?.({ host, status: "error" });
        const why = cancel?.aborted
          ? "cancelled"
          : abort.signal.aborted
          ? `timed out after ${this.#timeoutMs} ms`
          : String(cause);
        throw new RegistryError(`${host}: ${init.method} ${url.pathname} failed: ${why}`, {
          host,
          transient: true,
          cause,
        });
      } finally {
        clearTimeout(timer);
        link.unlink();
      }
      this.onRequest?.({ host, status: reply.status });
      if (reply.status === 429 || reply.status === 503) {
        reply.retryAfterMs = parseRetryAfter(reply.headers.get("retry-after"), this.#now()) ??
          (reply.status === 429 ? DEFAULT_RATE_LIMIT_BACKOFF_MS : undefined);
        if (reply.retryAfterMs) {
          this.#limiter.backOff(host, reply.retryAfterMs);
          this.#log.warn("registry asked to back off", {
            host,
            status: reply.status,
            retryAfterMs: reply.retryAfterMs,
          });
        }
      }
      return reply;
    });
  }

  async #follow(
    host: string,
    first: URL,
    init: RequestInit & { method: string; headers: HeadersInit },
    limits: Limits,
  ): Promise<Reply> {
    let url = first;
    let headers = new Headers(init.headers);
    for (let hops = 0;; hops++) {
      try {
        await this.#policy.checkUrl(url, host, limits.registry);
      } catch (err) {
        throw refused(host, err as Error, hops ? "redirect to " : "");
      }
      const res = await this.#fetch(url, {
        ...init,
        headers,
        redirect: "manual",
      });
      const location = res.headers.get("location");
      if (res.status < 300 || res.status > 399 || !location) {
        const consume = res.ok ? limits.consume : undefined;
        const bytes = consume
          ? await consumeAnswer(host, url, res, limits.maxBytes, consume)
          : await readAnswer(host, url, res, limits.maxBytes);
        return {
          method: init.method,
          url,
          status: res.status,
          headers: res.headers,
          body: new TextDecoder().decode(bytes),
          bytes,
        };
      }
      await res.body?.cancel();
      const next = new URL(location, url);
      const fail = (why: string) =>
        new RegistryError(`${host}: ${init.method} ${url.pathname}: redirect ${why}`, {
          host,
          status: res.status,
          transient: false,
        });
      if (hops >= MAX_REDIRECTS) throw fail(`count over ${MAX_REDIRECTS}`);
      if (next.origin !== url.origin) {
        // Another origin gets neither the credentials nor a body that holds them.
        if (init.body !== undefined) throw fail(`of a POST to another origin ${next.origin}`);
        headers = new Headers(headers);
        headers.delete("authorization");
      } else if (init.body !== undefined && res.status !== 307 && res.status !== 308) {
        throw fail(`of a POST by ${res.status}`);
      }
      url = next;
    }
  }
}

/** The answer's body, failing once it passes `maxBytes` (without reading further). */
function readAnswer(
  host: string,
  url: URL,
  res: Response,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  return readBodyCapped(res, maxBytes, () => answerTooLarge(host, url, res, maxBytes));
}

/** The answer's body handed to `consume` as it arrives, none kept, like {@linkcode readAnswer}. */
async function consumeAnswer(
  host: string,
  url: URL,
  res: Response,
  maxBytes: number,
  consume: (chunk: Uint8Array) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  await eachBodyChunkCapped(res, maxBytes, () => answerTooLarge(host, url, res, maxBytes), consume);
  return new Uint8Array();
}

function answerTooLarge(host: string, url: URL, res: Response, maxBytes: number): RegistryError {
  return new RegistryError(`${host}: ${url.pathname}: answer larger than ${maxBytes} bytes`, {
    host,
    status: res.status,
    code: "TOO_LARGE",
    transient: false,
  });
}

/** A request the host policy refused: never retried, the reason in the message. */
function refused(host: string, err: Error, what = ""): RegistryError {
  return new RegistryError(`${host}: ${what}refused: ${err.message}`, {
    host,
    code: "HOST_REFUSED",
    transient: false,
    cause: err,
  });
}

/** `sha256:<hex>` of the bytes, for a registry that sends no Docker-Content-Digest. */
async function sha256Digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Prefer Bearer (scoped, what Docker Hub and most registries use) over Basic. */
function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer" && c.params.realm) ??
    challenges.find((c) => c.scheme === "basic");
}

function basicAuth(cred: RegistryCredential | undefined): string | undefined {
  if (!cred || (cred.username === undefined && cred.password === undefined)) return undefined;
  const bytes = new TextEncoder().encode(`${cred.username ?? ""}:${cred.password ?? ""}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Tokens are per host, repository and credential. The key holds a hash of the credential,
 * not the secret itself, so the cache keeps no secret past the token's own life.
 */
function tokenCacheKey(host: string, path: string, cred?: RegistryCredential): string {
  return JSON.stringify([host, path, credentialHash(cred)]);
}

/**
 * Each credential's hash, once per credential object (credentials are not changed once made):
 * hashing it for every request was a visible part of a delivery's CPU.
 */
const credentialHashes = new WeakMap<RegistryCredential, string>();
const anonymousHash = hashOf(undefined);

function credentialHash(cred: RegistryCredential | undefined): string {
  if (!cred) return anonymousHash;
  let hash = credentialHashes.get(cred);
  if (hash === undefined) credentialHashes.set(cred, hash = hashOf(cred));
  return hash;
}

function hashOf(cred: RegistryCredential | undefined): string {
  const secret = JSON.stringify([cred?.username, cred?.password, cred?.token]);
  return createHash("sha256").update(secret).digest("base64");
}

function checkName(
  host: string,
  value: string,
  code: string,
  pattern: Pick<RegExp, "test">,
): void {
  if (!pattern.test(value)) {
    throw new RegistryError(`${host}: invalid ${code.split("_")[0].toLowerCase()} "${value}"`, {
      host,
      code,
      transient: false,
    });
  }
}

/** A RegistryError for a non-2xx reply, with the code from the distribution error body. */
function statusError(host: string, reply: Reply, notFoundCode?: string): RegistryError {
  const { status } = reply;
  let first: { code?: unknown; message?: unknown } | undefined;
  try {
    first = JSON.parse(reply.body)?.errors?.[0];
  } catch {
    first = undefined;
  }
  const fallback: Record<number, string | undefined> = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    404: notFoundCode,
    429: "TOOMANYREQUESTS",
  };
  const code = typeof first?.code === "string" ? first.code : fallback[status];
  const detail = typeof first?.message === "string" ? `: ${first.message}` : "";
  return new RegistryError(
    `${host}: ${reply.method} ${reply.url.pathname}: HTTP ${status}${
      code ? ` ${code}` : ""
    }${detail}`,
    {
      host,
      status,
      code,
      retryAfterMs: reply.retryAfterMs,
      transient: isTransientStatus(status),
    },
  );
}
