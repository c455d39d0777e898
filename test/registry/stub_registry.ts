/**
 * A throwaway HTTP server on 127.0.0.1 (ephemeral port) that records every request and
 * answers through a test-supplied handler, standing in for a registry or token server.
 *
 * @module
 */

/**
 * A request the stub received.
 *
 * @example
 * ```ts
 * import { type SeenRequest, startStub } from "./stub_registry.ts";
 * const stub = startStub((req: SeenRequest) => new Response(req.target));
 * await stub.close();
 * ```
 */
export interface SeenRequest {
  method: string;
  /** Path and query, e.g. `/v2/myapp/tags/list?last=b`. */
  target: string;
  url: URL;
  headers: Headers;
  body: string;
}

/**
 * A running stub.
 *
 * @example
 * ```ts
 * import { type Stub, startStub } from "./stub_registry.ts";
 * const stub: Stub = startStub(() => new Response(null, { status: 404 }));
 * await stub.close();
 * ```
 */
export interface Stub {
  /** `127.0.0.1:<port>`, a loopback host the client reaches over plain http. */
  host: string;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Start a stub; always `await stub.close()` at test end.
 *
 * @example
 * ```ts
 * import { startStub } from "./stub_registry.ts";
 * const stub = startStub(() => Response.json({ name: "x", tags: ["1.0.0"] }));
 * await (await fetch(`${stub.origin}/v2/x/tags/list`)).body?.cancel();
 * await stub.close();
 * ```
 */
export function startStub(
  handler: (req: SeenRequest) => Response | Promise<Response>,
): Stub {
  const requests: SeenRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const seen: SeenRequest = {
        method: req.method,
        target: url.pathname + url.search,
        url,
        headers: req.headers,
        body: await req.text(),
      };
      requests.push(seen);
      return await handler(seen);
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;
  return { host, origin: `http://${host}`, requests, close: () => server.shutdown() };
}

/**
 * A loopback port nothing listens on (bound, then released), for "registry down" tests.
 *
 * @example
 * ```ts
 * import { closedPort } from "./stub_registry.ts";
 * const host = `127.0.0.1:${closedPort()}`;
 * ```
 */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
