/**
 * An in-process fake Kubernetes API server for tests and benchmarks, speaking
 * kube-apiserver's wire protocol over real HTTP on 127.0.0.1.
 *
 * Not modelled: admission (namespaces need not exist), finalizers and
 * graceful deletion, managedFields, server-side apply, YAML/protobuf bodies,
 * historical snapshots for paginated or Exact lists; strategic merge patch
 * is approximated (see strategic_merge_patch.ts).
 *
 * @module
 */

import { findByKind } from "./resources.ts";
import { isJsonObject, type JsonObject } from "./json_value.ts";
import { ObjectStore } from "./store.ts";
import { WatchHub } from "./watch.ts";
import { type Fault, FaultQueue } from "./faults.ts";
import { discoveryDocument, isPublicPath } from "./discovery.ts";
import { parseRoute, type Route } from "./routes.ts";
import { parseSelection } from "./selection.ts";
import { listObjects, parseVersion } from "./list.ts";
import { create, patch, remove, replace, type WriteRequest } from "./writes.ts";
import { SelectorError } from "./label_selector.ts";
import { ApiError, badRequest, genericError, notFound, unauthorized } from "./status.ts";
import { jsonResponse } from "./response.ts";
import { withSystemFields } from "./object_meta.ts";
import { type RolloutSimOptions, RolloutSimulator } from "./rollout_sim.ts";

export type { Fault } from "./faults.ts";
export type { Behaviour, ImageKnob, RolloutSimOptions, RolloutSimulator } from "./rollout_sim.ts";

/** Options for {@link startFakeApiServer}. */
export interface FakeApiServerOptions {
  /** Bearer token required on every API request; default "test-token". */
  token?: string;
}

/** A request as the fake server received it. */
export interface RecordedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** URL path without the query. */
  path: string;
  /** URL query parameters. */
  query: URLSearchParams;
  /** The Content-Type header, if any. */
  contentType: string | null;
  /** Decoded JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** `performance.now()` when the request arrived. */
  at: number;
}

/** A running fake API server. */
export interface FakeApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The Bearer token every API request must carry. */
  readonly token: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Called synchronously when a request arrives (benchmarks time PATCH arrival). */
  onRequest?: (req: RecordedRequest) => void;
  /**
   * Add or replace an object (any served kind with apiVersion/kind/metadata.name,
   * and metadata.namespace when namespaced); assigns uid, resourceVersion,
   * creationTimestamp and generation unless given, and notifies watchers
   * (ADDED/MODIFIED). Returns a copy of the stored object.
   */
  put(obj: Record<string, unknown>): Record<string, unknown>;
  /** A copy of the stored object, or undefined. apiVersion like "apps/v1", kind like "Deployment". */
  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Record<string, unknown> | undefined;
  /** Copies of every stored object of a kind, in namespace/name order. */
  list(apiVersion: string, kind: string): Record<string, unknown>[];
  /** Delete an object if present; watchers see DELETED. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Queue failures for matching requests (answered with a `kind: Status` body). */
  fail(fault: Fault): void;
  /** End every open watch stream (as an apiserver restart or LB timeout would). */
  closeWatches(): void;
  /** Forget history: a watch (or Exact list, or continue token) older than now gets 410 Expired. */
  compact(): void;
  /** Number of open watch streams. */
  readonly watchCount: number;
  /**
   * From now on, act as the workload controllers and kubelet would: Pods, ReplicaSets, Jobs
   * and `status` follow each pod template change (see rollout_sim.ts). Stopped with the server.
   */
  simulateRollouts(opts?: RolloutSimOptions): RolloutSimulator;
  /** Close every watch and the HTTP server. */
  stop(): Promise<void>;
}

/**
 * Start a fake API server on an ephemeral port of 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startFakeApiServer } from "./server.ts";
 * const api = await startFakeApiServer();
 * api.put({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" }, spec: {} });
 * const res = await fetch(`${api.url}/apis/apps/v1/namespaces/default/deployments/web`, {
 *   headers: { authorization: `Bearer ${api.token}` },
 * });
 * (await res.json()).metadata.generation; // 1
 * await api.stop();
 * ```
 */
export function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  return Promise.resolve(new Server(opts.token ?? "test-token"));
}

class Server implements FakeApiServer {
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  onRequest?: (req: RecordedRequest) => void;
  #store = new ObjectStore();
  #watches = new WatchHub(this.#store);
  #faults = new FaultQueue();
  #http: Deno.HttpServer<Deno.NetAddr>;
  #stopped?: Promise<void>;
  #sims: RolloutSimulator[] = [];

  constructor(readonly token: string) {
    this.#http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.url = `http://127.0.0.1:${this.#http.addr.port}`;
  }

  get watchCount(): number {
    return this.#watches.count;
  }

  put(obj: Record<string, unknown>): Record<string, unknown> {
    const type = findByKind(String(obj.apiVersion), String(obj.kind));
    if (!type) throw new Error(`fake apiserver does not serve ${obj.apiVersion} ${obj.kind}`);
    const meta: JsonObject = isJsonObject(obj.metadata) ? { ...obj.metadata } : {};
    if (typeof meta.name !== "string" || !meta.name) throw new Error("metadata.name is required");
    if (type.namespaced && typeof meta.namespace !== "string") {
      throw new Error(`metadata.namespace is required for ${type.kind}`);
    }
    if (!type.namespaced) delete meta.namespace;
    const previous = this.#store.get(type, meta.namespace as string | undefined, meta.name);
    const next = withSystemFields(type, previous, { ...obj, metadata: meta }, { seeding: true });
    return structuredClone(this.#store.write(type, next));
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string) {
    const type = findByKind(apiVersion, kind);
    const obj = type && this.#store.get(type, type.namespaced ? namespace : undefined, name);
    return obj && structuredClone(obj);
  }

  list(apiVersion: string, kind: string): Record<string, unknown>[] {
    const type = findByKind(apiVersion, kind);
    return type ? this.#store.list(type).map((o) => structuredClone(o)) : [];
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const type = findByKind(apiVersion, kind);
    if (type) this.#store.delete(type, type.namespaced ? namespace : undefined, name);
  }

  fail(fault: Fault): void {
    this.#faults.add(fault);
  }

  closeWatches(): void {
    this.#watches.closeAll();
  }

  compact(): void {
    this.#store.compact();
  }

  simulateRollouts(opts?: RolloutSimOptions): RolloutSimulator {
    const sim = new RolloutSimulator(this.#store, opts);
    this.#sims.push(sim);
    return sim;
  }

  stop(): Promise<void> {
    for (const sim of this.#sims) sim.stop();
    this.#watches.closeAll();
    return this.#stopped ??= this.#http.shutdown();
  }

  async #handle(request: Request): Promise<Response> {
    const at = performance.now();
    const url = new URL(request.url);
    const method = request.method;
    try {
      const body = request.body ? await request.text() : "";
      const contentType = request.headers.get("content-type");
      const recorded: RecordedRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        contentType,
        body: recordable(body),
        at,
      };
      this.requests.push(recorded);
      this.onRequest?.(recorded);
      const fault = this.#faults.take(method, url.pathname, body);
      if (fault?.kind === "error") return fault.error.toResponse();
      if (fault?.kind === "hang") {
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return genericError(504, "Timeout", "the request was held unanswered").toResponse();
      }
      // A wrong token fails authentication before any path is looked at; only a request
      // without credentials reaches the public paths (as system:anonymous).
      const anonymous = !request.headers.has("authorization");
      if (!(anonymous && isPublicPath(url.pathname)) && !this.#authorized(request)) {
        return unauthorized().toResponse();
      }
      const document = discoveryDocument(url.pathname);
      if (typeof document === "string") {
        return new Response(document, { headers: { "content-type": "text/plain" } });
      }
      if (document) return jsonResponse(document);
      const route = parseRoute(url.pathname);
      if (!route) throw genericError(404);
      const mediaType = contentType?.split(";")[0].trim().toLowerCase() ?? null;
      const answer = this.#dispatch(method, route, url.searchParams, {
        store: this.#store,
        route,
        mediaType,
        body,
      });
      if (fault?.kind !== "lost") return answer;
      // Applied; the answer breaks after its first byte, as a connection lost mid-response.
      await answer.body?.cancel();
      const broken = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("{"));
          c.error(new Error("connection lost"));
        },
      });
      return new Response(broken, { status: answer.status, headers: answer.headers });
    } catch (e) {
      if (e instanceof ApiError) return e.toResponse();
      if (e instanceof SelectorError) return badRequest(e.message).toResponse();
      return genericError(500, undefined, String(e)).toResponse();
    }
  }

  #authorized(request: Request): boolean {
    return request.headers.get("authorization") === `Bearer ${this.token}`;
  }

  #dispatch(method: string, route: Route, query: URLSearchParams, write: WriteRequest): Response {
    const isWatch = route.watch || query.get("watch") === "1" || query.get("watch") === "true";
    const { type, name } = route;
    if (name === undefined || isWatch) {
      const selection = parseSelection(type, route.namespace, query);
      if (name !== undefined) {
        selection.fields = [...selection.fields, { field: "metadata.name", op: "=", value: name }];
      }
      switch (method) {
        case "GET":
          if (isWatch) return this.#watch(selection, query);
          return jsonResponse(listObjects(this.#store, selection, query));
        case "POST":
          if (name === undefined) return create(write);
          break;
        case "DELETE":
          if (name === undefined) return remove(write, selection);
      }
      throw genericError(405);
    }
    switch (method) {
      case "GET": {
        const obj = this.#store.get(type, route.namespace, name);
        if (!obj) throw notFound(type, name);
        return jsonResponse(obj);
      }
      case "PUT":
        return replace(write);
      case "PATCH":
        return patch(write);
      case "DELETE":
        if (route.subresource === undefined) return remove(write);
    }
    throw genericError(405);
  }

  #watch(selection: ReturnType<typeof parseSelection>, query: URLSearchParams): Response {
    const since = parseVersion(query.get("resourceVersion"));
    const timeout = query.get("timeoutSeconds");
    if (timeout !== null && !/^\d+$/.test(timeout)) {
      throw badRequest(`timeoutSeconds: invalid value "${timeout}"`);
    }
    return this.#watches.open({
      ...selection,
      sinceRv: since === 0 ? undefined : since,
      // 0, like none, means the server's default (30 to 60 minutes): never ending here.
      timeoutSeconds: timeout === null || Number(timeout) === 0 ? undefined : Number(timeout),
      bookmarks: query.get("allowWatchBookmarks") === "true",
    });
  }
}

/** The recorded form of a body: decoded JSON, else the raw text, else undefined. */
function recordable(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
