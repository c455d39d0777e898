/**
 * A thin typed Kubernetes API client over `fetch`: list, watch, get, create, replace,
 * patch and delete for the resource types in `resource.ts`.
 *
 * @module
 */

import { linkSignals } from "../async/linked_signal.ts";
import { timeoutSignal } from "../async/timeout_signal.ts";
import { LazyDeadline } from "../async/lazy_deadline.ts";
import { KubeApiError, networkReason } from "./errors.ts";
import { resourcePath, type ResourceType } from "./resource.ts";

/** Query options of a list call. */
export interface ListOptions {
  /** Omit to list across all namespaces. */
  namespace?: string;
  /** Only objects whose labels match, e.g. `argoos.io/policy`. */
  labelSelector?: string;
  /** Only objects whose fields match, e.g. `metadata.name=web`. */
  fieldSelector?: string;
  /** Most objects in one page. */
  limit?: number;
  /** The `continue` token of the previous page. */
  continue?: string;
  /** Serve from this version of the cache (`0`: any). */
  resourceVersion?: string;
}

/** One page of a list. */
export interface ObjectList<T> {
  /** The objects of this page. */
  items: T[];
  /** The list's version, and the token of the next page when there is one. */
  metadata: { resourceVersion?: string; continue?: string };
}

/** One event from a watch stream. */
export interface WatchEvent<T> {
  /** What happened to the object; `BOOKMARK` only moves the version on. */
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  /** The object after the change (before it, for `DELETED`). */
  object: T;
}

/** Query options of a watch call. */
export interface WatchOptions {
  /** Watch one namespace; all when absent. */
  namespace?: string;
  /** Only objects whose labels match. */
  labelSelector?: string;
  /** Start after this version (usually the list's `metadata.resourceVersion`). */
  resourceVersion?: string;
  /**
   * Ask the server to end the stream after this long. The client also gives up on a stream
   * that stays silent this long plus its watch grace (a dead connection can hang forever
   * otherwise); that ends the watch as if the server had closed it.
   */
  timeoutSeconds?: number;
  /** Ask for `BOOKMARK` events, so a restart resumes from a recent version. */
  allowWatchBookmarks?: boolean;
  /** Ends the watch; the stream is then closed and the generator returns. */
  signal?: AbortSignal;
}

/** What `GET /version` answers (more fields exist: gitCommit, buildDate, platform, …). */
export interface ServerVersion {
  /** Major version, e.g. `1`. */
  major: string;
  /** Minor version, e.g. `30` (may carry a `+`). */
  minor: string;
  /** Full version, e.g. `v1.30.2`. */
  gitVersion: string;
}

/** `json` = RFC 6902 JSON patch, `merge` = RFC 7386 merge patch, `strategic` = Kubernetes' own. */
export type PatchType = "json" | "merge" | "strategic";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
};

/**
 * How to reach one API server and authenticate to it; usually built by `resolveConnection`.
 *
 * @example
 * ```ts
 * import type { Connection } from "./client.ts";
 * const proxy: Connection = {
 *   server: "http://127.0.0.1:8001",
 *   authHeaders: () => Promise.resolve({}),
 *   description: "kubectl proxy",
 *   close() {},
 * };
 * ```
 */
export interface Connection {
  /** Base URL, e.g. "https://10.0.0.1:443" or "http://127.0.0.1:8001". */
  server: string;
  /**
   * Headers to add to each request (Authorization); called per request so rotated tokens
   * and exec credentials stay fresh (cache inside). Called before {@linkcode httpClient}
   * is read, so credentials that carry a client certificate can swap the client.
   */
  authHeaders(): Promise<Record<string, string>>;
  /** TLS settings (CA, client cert/key) when needed. */
  httpClient?: Deno.HttpClient;
  /**
   * Sends one request that is not a watch, with the same TLS settings: a pool of connections
   * of its own (`pooledFetch`). Default: `fetch` with {@linkcode httpClient}.
   */
  fetch?(input: URL, init: RequestInit): Promise<Response>;
  /** Drops cached credentials after a 401, so the retry fetches new ones. */
  invalidateAuth?(): void;
  /** Where this came from, for messages: "in-cluster service account", "kubeconfig /root/.kube/config context kind-x". */
  description: string;
  /** The kubeconfig context's namespace, when it names one (kubectl's default for `-n`). */
  namespace?: string;
  /**
   * What chose `server`, for errors about reaching it: "KUBE_MASTER_URL", "--master",
   * "in-cluster service account", "kubeconfig … context …". Default: `description`.
   */
  origin?: string;
  /** Release the http client. */
  close(): void;
}

/** Options of a {@linkcode KubeClient}. */
export interface KubeClientOptions {
  /** Deadline of each non-streaming request. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
  /**
   * How long a watch may stay silent beyond its `timeoutSeconds` before the client drops
   * it as dead. Default 30 s.
   */
  watchGraceMs?: number;
}

/**
 * Write answers kept, at most, until a watch shows them again: the writes of a delivery run
 * (32 in flight) are seen again within milliseconds. One no watch shows (a Lease, or one whose
 * event came before its answer) is dropped by later ones, or once older than ECHO_MS when a
 * watch line comes (bookmarks come every minute or so).
 */
const MAX_ECHOES = 64;
const ECHO_MS = 10_000;
/** Longest answer kept (its text and object): a workload's is a few KiB; 64 such stay small. */
const MAX_ECHO_CHARS = 32 * 1024;
/** How a watch line carrying a write's answer begins. */
const ECHO_PREFIX = `{"type":"MODIFIED","object":`;
const RV_FIELD = `"resourceVersion":"`;

/** What kube-apiserver uses when a watch gives no timeoutSeconds: up to 2 × 30 min. */
const SERVER_WATCH_TIMEOUT_SECONDS = 3600;

/**
 * A watch reads into one buffer of this size, reused: a body's default reader allocates 64 KiB
 * for every read, however short, so each event cost 64 KiB of native memory until collected
 * (100,000 deliveries, each followed by an event, left some 8 MB more resident).
 */
const WATCH_READ_BYTES = 16 * 1024;

interface CallInit {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Streaming calls pass the caller's signal instead of getting the per-request timeout. */
  stream?: { signal?: AbortSignal };
}

/**
 * Typed calls against one API server.
 *
 * @example
 * ```ts ignore
 * import { KubeClient } from "./client.ts";
 * import { DEPLOYMENTS } from "./resource.ts";
 * import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
 * const kube = new KubeClient({
 *   server: "http://127.0.0.1:8001", // kubectl proxy
 *   authHeaders: () => Promise.resolve({}),
 *   description: "kubectl proxy",
 *   close() {},
 * });
 * const { items } = await kube.list<Deployment>(DEPLOYMENTS, { labelSelector: "argoos.io/policy" });
 * ```
 */
export class KubeClient {
  /** How the API server is reached. */
  readonly connection: Connection;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #watchGraceMs: number;
  /** Watches open: while none is, write answers are not kept as echoes. */
  #watching = 0;
  /**
   * Recent writes' answers (PATCH, PUT) as received, with the objects they were read into, by
   * resourceVersion, oldest first: a watch line `{"type":"MODIFIED","object":<that text>}` is
   * that object, and is not read a second time (a delivery's own write comes back on Argoos's
   * watch, and parsing it again took about 3% of the service's CPU in a profile of deliveries). Objects a write returns are
   * shared with its echo, hence never changed by their callers.
   */
  readonly #echoes = new Map<string, { text: string; object: unknown; at: number }>();

  /** A client over a resolved connection. */
  constructor(conn: Connection, opts: KubeClientOptions = {}) {
    this.connection = conn;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#userAgent = opts.userAgent ?? "argoos";
    this.#watchGraceMs = opts.watchGraceMs ?? 30_000;
  }

  /** One page of objects. */
  list<T>(type: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.#json("GET", resourcePath(type, opts.namespace), {
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
      },
    });
  }

  /**
   * All objects, following `continue` tokens (500 per page unless `limit` says otherwise);
   * the result carries the first page's resourceVersion, the one to watch from.
   */
  async listAll<T>(type: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const first = await this.list<T>(type, { limit: 500, ...opts });
    const items = [...first.items];
    let next = first.metadata.continue;
    while (next) {
      const page = await this.list<T>(type, { limit: 500, ...opts, continue: next });
      items.push(...page.items);
      next = page.metadata.continue;
    }
    return { items, metadata: { resourceVersion: first.metadata.resourceVersion } };
  }

  /**
   * Streams watch events until the server ends the stream or the signal aborts. The event of
   * a PATCH or PUT this client made may carry the object that call resolved to (not parsed
   * twice): objects are shared, never to be modified.
   * A watch ERROR event is thrown as KubeApiError (410 => status 410). A stream silent
   * for longer than `timeoutSeconds` plus the client's watch grace ends quietly, as if
   * the server had closed it, so the caller resumes from its last resourceVersion.
   */
  async *watch<T>(type: ResourceType, opts: WatchOptions): AsyncGenerator<WatchEvent<T>> {
    const path = resourcePath(type, opts.namespace);
    if (opts.signal?.aborted) return;
    // A peer that vanished without FIN or RST leaves the read pending forever; the
    // server should have ended the stream by now, so silence this long means dead.
    const silentMs = (opts.timeoutSeconds || SERVER_WATCH_TIMEOUT_SECONDS) * 1000 +
      this.#watchGraceMs;
    const silent = new AbortController();
    // Heard from: a clock read per chunk, not a timer.
    const silence = new LazyDeadline(() => silent.abort());
    const rearm = () => silence.set(silentMs);
    const link = linkSignals(opts.signal, silent.signal);
    const signal = link.signal;
    rearm();
    this.#watching++;
    try {
      let res: Response;
      try {
        res = await this.#send("GET", path, {
          query: {
            watch: true,
            labelSelector: opts.labelSelector,
            resourceVersion: opts.resourceVersion,
            timeoutSeconds: opts.timeoutSeconds,
            allowWatchBookmarks: opts.allowWatchBookmarks,
          },
          stream: { signal },
        }, silent.signal); // no headers in time: a Timeout error, not a quiet end
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw err;
      }
      if (!res.body) return;
      yield* this.#events<T>(
        res.body,
        path,
        rearm,
        signal,
      );
    } finally {
      if (--this.#watching === 0) this.#echoes.clear();
      silence.stop();
      link.unlink();
    }
  }

  /** The events of a watch body; `received` is called per chunk; `stop` ends it quietly. */
  async *#events<T>(
    body: ReadableStream<Uint8Array>,
    path: string,
    received: () => void,
    stop: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>> {
    const { reader, read } = reuseBuffer(body, WATCH_READ_BYTES);
    // The fetch's own abort does not always reach a read already pending on the body (seen
    // under load): cancelling the reader ends that read with `done`.
    const cancel = () => void reader.cancel().catch(() => {});
    stop.addEventListener("abort", cancel, { once: true });
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await read();
        } catch (err) {
          if (stop.aborted) return;
          throw new KubeApiError({
            status: 0,
            reason: "NetworkError",
            message: `watch stream broke: ${(err as Error).message}`,
            method: "GET",
            path,
            cause: err,
          });
        }
        if (chunk.done) break;
        if (stop.aborted) return;
        received();
        // Events are newline-delimited JSON, but chunks may split them anywhere.
        buffered += decoder.decode(chunk.value, { stream: true });
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          if (!line.trim()) continue;
          const echo = this.#echoOf(line);
          yield echo === undefined
            ? watchEvent<T>(line, path)
            : { type: "MODIFIED", object: echo as T };
        }
      }
      if (stop.aborted) return; // cancelled mid-event: what is buffered may be cut short
      buffered += decoder.decode();
      if (buffered.trim()) yield watchEvent<T>(buffered, path);
    } finally {
      stop.removeEventListener("abort", cancel);
      await reader.cancel().catch(() => {});
    }
  }

  /** The object of a write whose answer `line` shows again, taken from the echoes; or undefined. */
  #echoOf(line: string): unknown {
    if (this.#echoes.size === 0) return;
    const stale = performance.now() - ECHO_MS;
    for (const [rv, { at }] of this.#echoes) {
      if (at >= stale) break;
      this.#echoes.delete(rv);
    }
    if (!line.startsWith(ECHO_PREFIX)) return;
    // The first resourceVersion field names the echo to compare with (a built-in object's own
    // comes before any other as the API server encodes it; another first only misses an
    // echo); the comparison of the whole text decides.
    const at = line.indexOf(RV_FIELD) + RV_FIELD.length;
    if (at < RV_FIELD.length) return;
    const rv = line.slice(at, line.indexOf('"', at));
    const echo = this.#echoes.get(rv);
    if (
      echo && echo.text.length === line.length - ECHO_PREFIX.length - 1 &&
      line.startsWith(echo.text, ECHO_PREFIX.length) && line.endsWith("}")
    ) {
      this.#echoes.delete(rv);
      return echo.object;
    }
  }

  /** The server's build, from `GET /version`. */
  version(): Promise<ServerVersion> {
    return this.#json("GET", "/version");
  }

  /** One object; `namespace` is ignored for cluster-scoped types. */
  get<T>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.#json("GET", resourcePath(type, namespace, name));
  }

  /** Creates `body` in the collection; resolves to the stored object. */
  create<T>(type: ResourceType, namespace: string | undefined, body: T): Promise<T> {
    return this.#json("POST", resourcePath(type, namespace), { body });
  }

  /**
   * Replaces the whole object (PUT); a stale `metadata.resourceVersion` gives 409. The object
   * resolved to may be the very one a watch of this client yields for the change: not to be
   * modified.
   */
  replace<T>(type: ResourceType, namespace: string | undefined, name: string, body: T): Promise<T> {
    return this.#json("PUT", resourcePath(type, namespace, name), { body });
  }

  /**
   * Patches the object; resolves to the patched object, which may be the very one a watch of
   * this client yields for the change: not to be modified.
   */
  patch<T>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    patchType: PatchType,
  ): Promise<T> {
    return this.#json("PATCH", resourcePath(type, namespace, name), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[patchType],
    });
  }

  /** Deletes the object; a missing one rejects with status 404. */
  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    const timeout = timeoutSignal(this.#timeoutMs);
    try {
      const res = await this.#send(
        "DELETE",
        resourcePath(type, namespace, name),
        {},
        timeout.signal,
      );
      // The body is the deleted object or a Status; nothing to read.
      await res.body?.cancel();
    } finally {
      timeout.clear();
    }
  }

  async #json<T>(method: string, path: string, init: CallInit = {}): Promise<T> {
    const timeout = timeoutSignal(this.#timeoutMs);
    try {
      const res = await this.#send(method, path, init, timeout.signal);
      try {
        if (this.#watching === 0 || (method !== "PATCH" && method !== "PUT")) {
          return await res.json();
        }
        const text = await res.text();
        const object = JSON.parse(text);
        const rv = object?.metadata?.resourceVersion;
        if (typeof rv === "string" && text.length <= MAX_ECHO_CHARS) {
          this.#echoes.set(rv, { text: text.trimEnd(), object, at: performance.now() });
          // Echoes a watch showed before the answer came are never taken: the oldest go.
          if (this.#echoes.size > MAX_ECHOES) {
            this.#echoes.delete(this.#echoes.keys().next().value!);
          }
        }
        return object;
      } catch (err) {
        throw failure(method, path, err, timeout.signal);
      }
    } finally {
      timeout.clear();
    }
  }

  /** Sends the request (retrying once after a 401 with fresh credentials); rejects on non-2xx. */
  async #send(
    method: string,
    path: string,
    init: CallInit,
    timeout?: AbortSignal,
  ): Promise<Response> {
    // Concatenate rather than resolve: servers may carry a path prefix (Rancher, proxies).
    const url = new URL(this.connection.server.replace(/\/+$/, "") + path);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    }
    const signal = init.stream ? init.stream.signal : timeout;
    for (let attempt = 1;; attempt++) {
      let res: Response;
      try {
        const headers: Record<string, string> = {
          Accept: "application/json",
          "User-Agent": this.#userAgent,
          ...await this.connection.authHeaders(),
        };
        if (init.body !== undefined) {
          headers["Content-Type"] = init.contentType ?? "application/json";
        }
        const request = {
          method,
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal,
        };
        res = init.stream || !this.connection.fetch
          ? await fetch(url, { ...request, client: this.connection.httpClient })
          : await this.connection.fetch(url, request);
      } catch (err) {
        throw failure(method, path, err, timeout);
      }
      if (res.ok) return res;
      const text = await res.text().catch(() => "");
      if (res.status === 401 && attempt === 1 && this.connection.invalidateAuth) {
        this.connection.invalidateAuth();
        continue;
      }
      throw KubeApiError.fromBody(method, path, res.status, text);
    }
  }
}

/** Wraps a fetch failure: our own timeout and network errors become status-0 API errors. */
function failure(method: string, path: string, err: unknown, timeout?: AbortSignal): unknown {
  if (err instanceof KubeApiError) return err;
  if (timeout?.aborted) {
    return new KubeApiError({
      status: 0,
      reason: "Timeout",
      message: "no answer in time",
      method,
      path,
      cause: err,
    });
  }
  if (err instanceof DOMException && err.name === "AbortError") return err;
  if (err instanceof TypeError || err instanceof Deno.errors.ConnectionRefused) {
    return new KubeApiError({
      status: 0,
      reason: "NetworkError",
      message: networkReason(err),
      method,
      path,
      cause: err,
    });
  }
  return err;
}

function watchEvent<T>(line: string, path: string): WatchEvent<T> {
  let event;
  try {
    event = JSON.parse(line);
  } catch {
    throw new KubeApiError({
      status: 0,
      reason: "BadWatchEvent",
      message: `not JSON: ${line.slice(0, 200)}`,
      method: "GET",
      path,
    });
  }
  if (event.type === "ERROR") {
    const status = event.object ?? {};
    throw new KubeApiError({
      status: status.code ?? 500,
      reason: status.reason ?? "WatchError",
      message: status.message ?? "watch ERROR event",
      method: "GET",
      path,
    });
  }
  return event;
}

/**
 * Reads of a body into one buffer of `bytes`, reused (each chunk is valid until the next read),
 * where the body is a byte stream, as fetch's are; otherwise as the stream hands them out.
 */
function reuseBuffer(body: ReadableStream<Uint8Array>, bytes: number): {
  reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  read: () => Promise<ReadableStreamReadResult<Uint8Array>>;
} {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    const reader = body.getReader();
    return { reader, read: () => reader.read() };
  }
  let buffer = new Uint8Array(bytes);
  return {
    reader: byob,
    read: async () => {
      const chunk = await byob.read(buffer);
      // The read took the buffer over; its memory comes back with the chunk.
      if (chunk.value) buffer = new Uint8Array(chunk.value.buffer as ArrayBuffer);
      return chunk;
    },
  };
}
