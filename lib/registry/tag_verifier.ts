/**
 * The truth check: does the registry a workload names serve this tag, with which digest, and
 * is it an image? A tag's manifest is fetched once; after that a HEAD (no pull counted by
 * rate-limited registries such as Docker Hub) says whether the tag still names it, and only a
 * moved tag is fetched again. Tag answers are cached briefly per registry, repository, tag and
 * credential, so the thousands of workloads one push enqueues cost one request, not one each.
 *
 * @module
 */

import type { ManifestInfo, RegistryClient } from "./client.ts";
import { type Credentials, credentialsFor, type RegistryCredential } from "./credentials.ts";
import { DIGEST_MISSING, isCredentialRefusal, isFinal, RegistryError } from "./errors.ts";

/** The registry calls the check needs, as {@linkcode RegistryClient} makes them. */
export type ManifestSource = Pick<RegistryClient, "headDigest" | "manifest">;

/** A tag the registry does not serve: `undefined`. Transient failures reject. */
export type Verified = ManifestInfo | undefined;

/**
 * The registry serves the digest a push claimed but its tag does not name it (yet): a registry
 * may notify before the tag resolves or moves (CNCF distribution 2.8, about one push in five),
 * so this passes.
 */
export class TagNotYetServedError extends Error {
  override name = "TagNotYetServedError";
}

/** Options of {@linkcode TagVerifier}. */
export interface TagVerifierOptions {
  /** How long an answer is reused. Default 2 s: a push's burst of reconciles, not longer. */
  ttlMs?: number;
  /** Tag answers, and manifests seen, kept at most each (oldest dropped first). Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

/** Options of {@linkcode TagVerifier.verify}. */
export interface VerifyOptions {
  signal?: AbortSignal;
  /** The digest a push claimed for the tag. */
  expectDigest?: string;
  /** ms epoch: answers cached before this are stale. */
  notBefore?: number;
}

interface Entry {
  at: number;
  answer: Promise<Verified>;
}

/**
 * Checks tags with the registry, with a short shared cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TagVerifier } from "./tag_verifier.ts";
 * const digest = `sha256:${"a".repeat(64)}`;
 * let heads = 0;
 * let gets = 0;
 * const verifier = new TagVerifier({
 *   headDigest: () => (heads++, Promise.resolve(digest)),
 *   manifest: () => (gets++, Promise.resolve({ digest, mediaType: "m" })),
 * }, { ttlMs: 0 });
 * for (let i = 0; i < 3; i++) await verifier.verify("docker.io", "library/app", "1.2.4", new Map());
 * assert.deepEqual([gets, heads], [1, 2]); // fetched once, then asked whether it moved
 * ```
 */
export class TagVerifier {
  #source: ManifestSource;
  #ttlMs: number;
  #maxEntries: number;
  #now: () => number;
  /** Bounded by maxEntries; Map order is insertion order, oldest first. */
  #cache = new Map<string, Entry>();
  /**
   * The manifest each tag named when last fetched (`host/path:tag`), whatever the credential:
   * only a HEAD with the asker's own credential reuses it. Bounded by maxEntries, the least
   * recently asked dropped first.
   */
  #seen = new Map<string, ManifestInfo>();

  constructor(source: ManifestSource, opts: TagVerifierOptions = {}) {
    this.#source = source;
    this.#ttlMs = opts.ttlMs ?? 2_000;
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * The manifest `tag` names in `host`/`path`, asked with the workload's credentials for that
   * repository (each in turn while refused, then none), or undefined when the registry does
   * not serve it. A cached answer is not used when it is older than `opts.notBefore` (the
   * fact that caused this question is newer) or names another digest than
   * `opts.expectDigest` (what a push claimed: the tag moved since). Rejects with
   * {@linkcode TagNotYetServedError} when the tag is unknown or names another digest while
   * `opts.expectDigest` is served. A final registry failure names the tag it is about
   * (`RegistryError.subject`).
   */
  verify(
    host: string,
    path: string,
    tag: string,
    credentials: Credentials,
    opts: VerifyOptions = {},
  ): Promise<Verified> {
    const { expectDigest } = opts;
    return this.#verify(host, path, tag, credentials, opts).catch((err) => {
      if (!isFinal(err)) throw err;
      const digest = expectDigest !== undefined ? { digest: expectDigest } : {};
      throw err.about({ repository: `${host}/${path}`, tag, ...digest });
    });
  }

  #verify(
    host: string,
    path: string,
    tag: string,
    credentials: Credentials,
    opts: VerifyOptions,
  ): Promise<Verified> {
    const { expectDigest, notBefore = -Infinity } = opts;
    const creds = credentialsFor(credentials, host, path);
    const key = JSON.stringify([
      host,
      path,
      tag,
      creds.map((c) => [c.username, c.password, c.token]),
    ]);
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#ttlMs && hit.at >= notBefore) {
      return hit.answer.then((v) =>
        expectDigest !== undefined && v?.digest !== expectDigest
          ? this.#ask(key, host, path, tag, creds, opts)
          : v
      );
    }
    return this.#ask(key, host, path, tag, creds, opts);
  }

  #ask(
    key: string,
    host: string,
    path: string,
    tag: string,
    creds: RegistryCredential[],
    opts: VerifyOptions,
  ): Promise<Verified> {
    const answer = this.#fetch(host, path, tag, creds, opts);
    this.#cache.delete(key);
    this.#cache.set(key, { at: this.#now(), answer });
    // A failure is not an answer: the next reconcile asks again.
    answer.catch(() => {
      if (this.#cache.get(key)?.answer === answer) this.#cache.delete(key);
    });
    const now = this.#now();
    for (const [k, e] of this.#cache) {
      if (this.#cache.size <= this.#maxEntries && now - e.at < this.#ttlMs) break;
      this.#cache.delete(k);
    }
    return answer;
  }

  async #fetch(
    host: string,
    path: string,
    tag: string,
    creds: RegistryCredential[],
    { signal, expectDigest }: VerifyOptions,
  ): Promise<Verified> {
    let refused: unknown;
    for (const cred of [...creds, undefined]) {
      let found: ManifestInfo;
      try {
        found = await this.#manifestOf(host, path, tag, cred, { signal, expectDigest });
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        if (err.status === 404) {
          if (expectDigest === undefined) return undefined;
          // Not cached (a rejection): the next reconcile asks again.
          if (await this.#serves(host, path, expectDigest, cred, signal)) {
            throw new TagNotYetServedError(
              `${host}/${path}: ${expectDigest} is served, tag ${tag} not yet`,
            );
          }
          return undefined;
        }
        if (!isCredentialRefusal(err)) throw err;
        refused ??= err;
        continue;
      }
      // Still the tag's previous content, the pushed one served: the tag has not moved yet.
      if (
        expectDigest !== undefined && found.digest !== expectDigest &&
        await this.#serves(host, path, expectDigest, cred, signal)
      ) {
        throw new TagNotYetServedError(
          `${host}/${path}: ${expectDigest} is served, tag ${tag} still names ${found.digest}`,
        );
      }
      return found;
    }
    throw refused;
  }

  /**
   * What `tag` names. A tag seen before is asked with a HEAD (no pull counted): when it still
   * names the manifest seen, that is the answer; a tag not seen before, or moved, is fetched.
   */
  async #manifestOf(
    host: string,
    path: string,
    tag: string,
    cred: RegistryCredential | undefined,
    { signal, expectDigest }: VerifyOptions,
  ): Promise<ManifestInfo> {
    const key = `${host}/${path}:${tag}`;
    const seen = this.#seen.get(key);
    let reference = tag;
    if (seen && (expectDigest === undefined || expectDigest === seen.digest)) {
      try {
        const digest = await this.#source.headDigest(host, path, tag, cred, signal);
        // Kept longest when asked most: a hit moves to the young end.
        if (digest === seen.digest) return this.#remember(key, seen);
        reference = digest; // what a digest names never changes: no race with a later push
      } catch (err) {
        // A registry whose HEAD omits the digest is asked by GET.
        if (!(err instanceof RegistryError && err.code === DIGEST_MISSING)) throw err;
      }
    }
    const found = await this.#source.manifest(host, path, reference, cred, signal);
    // The pushed digest's text, kept by the facts already, is kept here too instead of a copy.
    const shared = found.digest === expectDigest ? { ...found, digest: expectDigest } : found;
    return this.#remember(key, shared);
  }

  /** `info` as the youngest entry of #seen, the oldest dropped past maxEntries. */
  #remember(key: string, info: ManifestInfo): ManifestInfo {
    this.#seen.delete(key);
    this.#seen.set(key, info);
    if (this.#seen.size > this.#maxEntries) this.#seen.delete(this.#seen.keys().next().value!);
    return info;
  }

  async #serves(
    host: string,
    path: string,
    digest: string,
    cred: RegistryCredential | undefined,
    signal?: AbortSignal,
  ): Promise<boolean> {
    try {
      await this.#source.headDigest(host, path, digest, cred, signal);
      return true;
    } catch (err) {
      if (err instanceof RegistryError && err.code === DIGEST_MISSING) return true;
      if (err instanceof RegistryError && err.status === 404) return false;
      throw err;
    }
  }
}
