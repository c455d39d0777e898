/**
 * Docker image references: parsing with Docker's grammar, the normalized repository a reference
 * names (for matching pushes to containers), and writing a new tag back in the workload's own form.
 *
 * @module
 */

/** An image reference split into its parts, each kept exactly as written. */
export interface ImageReference {
  /** Registry host exactly as written (with port), or undefined when the reference names none. */
  host?: string;
  /** Repository path exactly as written, e.g. "myapp", "library/nginx", "team/app". */
  path: string;
  /** Tag, or undefined when absent. */
  tag?: string;
  /** Digest such as `sha256:<64 hex>`, or undefined when absent. */
  digest?: string;
}

/**
 * Thrown by {@linkcode parseReference} for text that is not a Docker image reference.
 *
 * @example
 * ```ts
 * import { InvalidReferenceError, parseReference } from "./reference.ts";
 * try {
 *   parseReference("MyApp:1.0");
 * } catch (e) {
 *   e instanceof InvalidReferenceError; // true
 * }
 * ```
 */
export class InvalidReferenceError extends Error {
  /** Always `InvalidReferenceError`. */
  override name = "InvalidReferenceError";
}

function invalid(ref: string, why: string): InvalidReferenceError {
  return new InvalidReferenceError(`invalid image reference ${JSON.stringify(ref)}: ${why}`);
}

// Grammar of github.com/distribution/reference.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
/**
 * A repository path of the reference grammar (`team/app`); it also keeps `..` out of URLs.
 *
 * @example
 * ```ts
 * import { REPOSITORY_PATH } from "./reference.ts";
 * REPOSITORY_PATH.test("team/app"); // true
 * REPOSITORY_PATH.test("../etc"); // false
 * ```
 */
export const REPOSITORY_PATH: RegExp = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/**
 * A tag of the reference grammar: a word character, then at most 127 of words, dots, dashes.
 *
 * @example
 * ```ts
 * import { TAG } from "./reference.ts";
 * TAG.test("1.2.3-alpine"); // true
 * TAG.test(".hidden"); // false
 * ```
 */
export const TAG: RegExp = /^\w[\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/**
 * A sha256 digest as registries and the kubelet write it: `sha256:` and 64 lower-case hex digits.
 *
 * @example
 * ```ts
 * import { SHA256_DIGEST } from "./reference.ts";
 * SHA256_DIGEST.test("sha256:" + "a".repeat(64)); // true
 * SHA256_DIGEST.test("sha256:" + "A".repeat(64)); // false
 * ```
 */
export const SHA256_DIGEST: RegExp = /^sha256:[0-9a-f]{64}$/;
const MAX_NAME_LENGTH = 255;
const DOCKER_HUB = "docker.io";

/**
 * Checks of each part of a reference against the grammar, for names that arrive alone
 * (a notification's repository, tag, digest and host).
 *
 * @example
 * ```ts
 * import { referenceGrammar } from "./reference.ts";
 * referenceGrammar.tag("1.2.3"); // true
 * referenceGrammar.repository("Team/App"); // false (upper case)
 * ```
 */
export const referenceGrammar = {
  /** A registry host with an optional port; a hostname is at most 253 characters. */
  host: (host: string): boolean => host.length <= 253 + 6 && HOST_RE.test(host),
  /** A repository path inside a registry, at most 255 characters. */
  repository: (path: string): boolean =>
    path.length <= MAX_NAME_LENGTH && REPOSITORY_PATH.test(path),
  /** A tag: a word character, then at most 127 of words, dots and dashes. */
  tag: (tag: string): boolean => TAG.test(tag),
  /** A digest, `algorithm:hex` (sha256 exactly 64 lower-case hex); at most 150 characters. */
  digest: (digest: string): boolean => digestProblem(digest) === undefined,
} as const;
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io"]);

/**
 * Parses an image reference with Docker's rules: the first path component is a registry host when
 * it contains "." or ":", is "localhost", or has upper-case letters.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * parseReference("localhost:5000/team/app:1.2.3");
 * // { host: "localhost:5000", path: "team/app", tag: "1.2.3", digest: undefined }
 * parseReference("nginx"); // { host: undefined, path: "nginx", tag: undefined, digest: undefined }
 * ```
 * @throws {InvalidReferenceError} when `ref` does not follow the grammar.
 */
export function parseReference(ref: string): ImageReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(ref, "bad digest");
    if (digest.startsWith("sha256:") && !SHA256_DIGEST.test(digest)) {
      throw invalid(ref, "sha256 digest must be 64 lower-case hex digits");
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, "bad tag");
  }
  if (rest.length > MAX_NAME_LENGTH) {
    throw invalid(ref, `name longer than ${MAX_NAME_LENGTH} characters`);
  }
  let host: string | undefined;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0 && namesHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    if (!HOST_RE.test(host)) throw invalid(ref, "bad registry host");
  }
  if (!REPOSITORY_PATH.test(path)) throw invalid(ref, "bad repository path");
  return { host, path, tag, digest };
}

function namesHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost" ||
    component !== component.toLowerCase();
}

/**
 * The canonical form of a registry host: lower-case, Docker Hub's aliases and no host at all
 * becoming "docker.io"; a port stays part of the host.
 *
 * @example
 * ```ts
 * import { normalizeHost } from "./reference.ts";
 * normalizeHost(undefined); // "docker.io"
 * normalizeHost("registry-1.docker.io"); // "docker.io"
 * normalizeHost("LocalHost:5000"); // "localhost:5000"
 * ```
 */
export function normalizeHost(host: string | undefined): string {
  if (host === undefined) return DOCKER_HUB;
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/**
 * The normalized name of a repository, equal for every way of writing it: host normalized, and a
 * one-part path on Docker Hub prefixed with "library/". Paths compare exactly.
 *
 * @example
 * ```ts
 * import { repositoryKey } from "./reference.ts";
 * repositoryKey(undefined, "nginx"); // "docker.io/library/nginx"
 * repositoryKey("localhost:5000", "team/app"); // "localhost:5000/team/app"
 * ```
 */
export function repositoryKey(host: string | undefined, path: string): string {
  const normalized = normalizeHost(host);
  const fullPath = normalized === DOCKER_HUB && !path.includes("/") ? `library/${path}` : path;
  return `${normalized}/${fullPath}`;
}

/**
 * Split a normalized repository ({@linkcode repositoryKey}) into its host and path.
 *
 * @example
 * ```ts
 * import { splitRepository } from "./reference.ts";
 * splitRepository("docker.io/library/nginx"); // ["docker.io", "library/nginx"]
 * ```
 */
export function splitRepository(repository: string): [host: string, path: string] {
  const slash = repository.indexOf("/");
  return [repository.slice(0, slash), repository.slice(slash + 1)];
}

/**
 * The normalized repository a parsed reference names; see {@linkcode repositoryKey}.
 *
 * @example
 * ```ts
 * import { parseReference, referenceRepository } from "./reference.ts";
 * referenceRepository(parseReference("index.docker.io/nginx:1.27")); // "docker.io/library/nginx"
 * ```
 */
export function referenceRepository(ref: ImageReference): string {
  return repositoryKey(ref.host, ref.path);
}

/**
 * Writes a reference back as text, in the form it was written (no host or "library/" added).
 *
 * @example
 * ```ts
 * import { formatReference } from "./reference.ts";
 * formatReference({ host: "ghcr.io", path: "team/app", tag: "1.0" }); // "ghcr.io/team/app:1.0"
 * formatReference({ path: "myapp", digest: "sha256:" + "a".repeat(64) }); // "myapp@sha256:aaa…"
 * ```
 */
export function formatReference(ref: ImageReference): string {
  const host = ref.host === undefined ? "" : `${ref.host}/`;
  const tag = ref.tag === undefined ? "" : `:${ref.tag}`;
  const digest = ref.digest === undefined ? "" : `@${ref.digest}`;
  return `${host}${ref.path}${tag}${digest}`;
}

/**
 * The reference to write for a new target: same host and path as written, the new tag, and the
 * digest only when one is given (an old digest is never carried over).
 *
 * @example
 * ```ts
 * import { parseReference, withTarget } from "./reference.ts";
 * withTarget(parseReference("myapp:1.2.3"), "1.2.4"); // "myapp:1.2.4"
 * withTarget(parseReference("myapp:latest"), "latest", "sha256:" + "b".repeat(64));
 * // "myapp:latest@sha256:bbb…"
 * ```
 */
export function withTarget(ref: ImageReference, tag: string, digest?: string): string {
  return formatReference({ host: ref.host, path: ref.path, tag, digest });
}

/**
 * Why `tag` is not a tag by the reference grammar (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`), or
 * undefined when it is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tagProblem } from "./reference.ts";
 * assert.equal(tagProblem("1.2.4"), undefined);
 * assert.equal(tagProblem("1.0 bad"), 'tag "1.0 bad" breaks the reference grammar');
 * ```
 */
export function tagProblem(tag: string): string | undefined {
  return TAG.test(tag) ? undefined : `tag ${JSON.stringify(tag)} breaks the reference grammar`;
}

/**
 * Why `digest` is not a digest by the reference grammar (`algorithm:hex`, sha256 with 64
 * lower-case hex digits), or undefined when it is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestProblem } from "./reference.ts";
 * assert.equal(digestProblem("sha256:" + "a".repeat(64)), undefined);
 * assert.equal(digestProblem("x"), 'digest "x" breaks the reference grammar');
 * ```
 */
export function digestProblem(digest: string): string | undefined {
  // Bounded: at most 128 hex characters (sha512) after the algorithm, so keys stay small.
  const ok = digest.length <= 150 && DIGEST_RE.test(digest) &&
    (!digest.startsWith("sha256:") || SHA256_DIGEST.test(digest));
  return ok ? undefined : `digest ${JSON.stringify(digest)} breaks the reference grammar`;
}
