/**
 * A minimal in-memory container registry on 127.0.0.1 for poll tests and the benchmarks:
 * `GET /v2/`, `GET /v2/<name>/tags/list` (one page), `HEAD /v2/<name>/manifests/<ref>`
 * answering `Docker-Content-Digest`, and `GET` of the same answering a manifest (a Docker v2
 * image manifest unless the push gave another) for the reconcile's truth check; `<ref>` is a
 * tag or a digest. Request counting and injected failures (429/503 with `Retry-After`, 5xx).
 *
 * @module
 */

import { type SeenRequest, startStub } from "../test/registry/stub_registry.ts";

const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
const MANIFESTS = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const TAGS_LIST = /^\/v2\/(.+)\/tags\/list$/;

/**
 * Requests of each kind the registry answered since the last reset.
 *
 * @example
 * ```ts
 * import type { RegistryCounts } from "./stub_registry.ts";
 * const oneCycle: RegistryCounts = { listings: 200, heads: 400, total: 600 };
 * ```
 */
export interface RegistryCounts {
  listings: number;
  heads: number;
  total: number;
}

/**
 * A failure to answer with, for the next `times` requests (default 1).
 *
 * @example
 * ```ts
 * import type { RegistryFault } from "./stub_registry.ts";
 * const rateLimited: RegistryFault = { status: 429, retryAfter: "60" };
 * ```
 */
export interface RegistryFault {
  status: number;
  /** `Retry-After` header value, e.g. `"60"`. */
  retryAfter?: string;
  times?: number;
  /** Each request fails with this probability (the others pass it by). Default 1. */
  rate?: number;
  /** The random source for `rate` (seed it for a repeatable run). Default Math.random. */
  random?: () => number;
}

/**
 * A running stub registry.
 *
 * @example
 * ```ts
 * import { startStubRegistry, type StubRegistry } from "./stub_registry.ts";
 * const registry: StubRegistry = startStubRegistry();
 * registry.fail({ status: 503, times: 2 });
 * await registry.close();
 * ```
 */
export interface StubRegistry {
  /** `127.0.0.1:<port>`, reached over plain http as a loopback registry. */
  readonly host: string;
  /** Every request, in arrival order. */
  readonly requests: SeenRequest[];
  /**
   * Create or move `tag` of repository `path`; returns its digest (generated when not given).
   * `manifest` is what a GET serves (default: a Docker v2 image manifest of its own, see
   * `imageManifest`), e.g. a Helm chart.
   */
  push(path: string, tag: string, digest?: string, manifest?: StubManifest): string;
  /** Remove `tag` of `path` (as a registry API delete would); later requests get 404. */
  untag(path: string, tag: string): void;
  /** The digest `tag` of `path` has now, if any. */
  digestOf(path: string, tag: string): string | undefined;
  /** Answer the next requests with an error. */
  fail(fault: RegistryFault): void;
  /**
   * Make repository `path` private: its listings and manifests need Basic `username:password`
   * (a 401 with a Basic challenge otherwise, as distribution's htpasswd auth answers).
   */
  restrict(path: string, username: string, password: string): void;
  /** Listings, HEADs and all requests since start or the last reset. */
  counts(): RegistryCounts;
  /** Manifest GETs since start or the last reset. */
  manifestGets(): number;
  /** Forget recorded requests. */
  resetCounts(): void;
  close(): Promise<void>;
}

/**
 * A manifest as a GET serves it.
 *
 * @example
 * ```ts
 * import type { StubManifest } from "./stub_registry.ts";
 * const helm: StubManifest = {
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   body: { schemaVersion: 2, config: { mediaType: "application/vnd.cncf.helm.config.v1+json" } },
 * };
 * ```
 */
export interface StubManifest {
  mediaType: string;
  body: unknown;
}

/**
 * A distinct, well-formed sha256 digest for a number.
 *
 * @example
 * ```ts
 * import { fakeDigest } from "./stub_registry.ts";
 * fakeDigest(1); // "sha256:000…001"
 * ```
 */
export function fakeDigest(n: number): string {
  return `sha256:${n.toString(16).padStart(64, "0")}`;
}

/**
 * Start a stub registry; always `await registry.close()` when done.
 *
 * @example
 * ```ts
 * import { startStubRegistry } from "./stub_registry.ts";
 * const registry = startStubRegistry();
 * registry.push("team/app", "1.2.3");
 * const res = await fetch(`http://${registry.host}/v2/team/app/tags/list`);
 * (await res.json()).tags; // ["1.2.3"]
 * await registry.close();
 * ```
 */
export function startStubRegistry(): StubRegistry {
  /** Repository -> tag -> what it points at; grows only with what a test pushes. */
  const repos = new Map<string, Map<string, { digest: string; manifest: StubManifest }>>();
  const faults: { fault: RegistryFault; left: number }[] = [];
  /** Private repository -> the Authorization header it needs; what a test restricts. */
  const restricted = new Map<string, string>();
  /**
   * Repository -> its tags list as served, until a push or untag changes it: the benches list
   * a million tags a cycle, and this process's CPU is counted in what they measure, while a
   * real registry spends its own.
   */
  const listings = new Map<string, string>();
  let digests = 0;
  const stub = startStub((req) => answer(req));

  function answer(req: SeenRequest): Response {
    const fault = faults[0];
    if (fault && (fault.fault.rate ?? 1) > (fault.fault.random ?? Math.random)()) {
      if (--fault.left <= 0) faults.shift();
      const headers: Record<string, string> = fault.fault.retryAfter
        ? { "retry-after": fault.fault.retryAfter }
        : {};
      const code = fault.fault.status === 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE";
      return errorResponse(req, fault.fault.status, code, headers);
    }
    const path = req.url.pathname;
    if (path === "/v2/" || path === "/v2") return Response.json({});
    const repo = (TAGS_LIST.exec(path) ?? MANIFESTS.exec(path))?.[1];
    const needed = repo === undefined ? undefined : restricted.get(repo);
    if (needed !== undefined && req.headers.get("authorization") !== needed) {
      return errorResponse(req, 401, "UNAUTHORIZED", {
        "www-authenticate": 'Basic realm="stub"',
      });
    }
    const list = req.method === "GET" ? TAGS_LIST.exec(path) : null;
    if (list) {
      const tags = repos.get(list[1]);
      if (!tags) return errorResponse(req, 404, "NAME_UNKNOWN");
      let body = listings.get(list[1]);
      if (body === undefined) {
        body = JSON.stringify({ name: list[1], tags: [...tags.keys()] });
        listings.set(list[1], body);
      }
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const manifest = req.method === "HEAD" || req.method === "GET" ? MANIFESTS.exec(path) : null;
    if (manifest) {
      const tags = repos.get(manifest[1]);
      const ref = manifest[2];
      const found = tags?.get(ref) ?? [...tags?.values() ?? []].find((t) => t.digest === ref);
      if (!found) return errorResponse(req, 404, "MANIFEST_UNKNOWN");
      const headers = {
        "docker-content-digest": found.digest,
        "content-type": found.manifest.mediaType,
      };
      const body = req.method === "GET" ? JSON.stringify(found.manifest.body) : null;
      return new Response(body, { headers });
    }
    return errorResponse(req, 404, "UNSUPPORTED");
  }

  return {
    host: stub.host,
    requests: stub.requests,
    push(path, tag, digest = fakeDigest(++digests), manifest?: StubManifest) {
      let tags = repos.get(path);
      if (!tags) repos.set(path, tags = new Map());
      listings.delete(path);
      tags.set(tag, {
        digest,
        manifest: manifest ?? { mediaType: MANIFEST_TYPE, body: imageManifest(digest) },
      });
      return digest;
    },
    untag(path, tag) {
      repos.get(path)?.delete(tag);
      listings.delete(path);
    },
    digestOf: (path, tag) => repos.get(path)?.get(tag)?.digest,
    fail(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    restrict(path, username, password) {
      restricted.set(path, `Basic ${btoa(`${username}:${password}`)}`);
    },
    counts() {
      const count = (method: string, suffix: RegExp) =>
        stub.requests.filter((r) => r.method === method && suffix.test(r.url.pathname)).length;
      return {
        listings: count("GET", TAGS_LIST),
        heads: count("HEAD", MANIFESTS),
        total: stub.requests.length,
      };
    },
    manifestGets: () =>
      stub.requests.filter((r) => r.method === "GET" && MANIFESTS.test(r.url.pathname)).length,
    resetCounts() {
      stub.requests.length = 0;
    },
    close: () => stub.close(),
  };
}

/** A Docker v2 image manifest whose layer is named after `digest` (content differs per push). */
function imageManifest(digest: string): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: {
      mediaType: "application/vnd.docker.container.image.v1+json",
      size: 1469,
      digest: fakeDigest(1),
    },
    layers: [{
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      size: 3623807,
      digest,
    }],
  };
}

/** A distribution-style error; HEAD answers carry no body. */
function errorResponse(
  req: SeenRequest,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Response {
  const body = req.method === "HEAD"
    ? null
    : JSON.stringify({ errors: [{ code, message: `stub: ${code.toLowerCase()}` }] });
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
