/**
 * A throwaway HTTP server on 127.0.0.1 for the kube tests, plus a fixed connection to it.
 *
 * @module
 */

import type { Connection } from "../../lib/kube/client.ts";

/** A running stub; `close()` waits for in-flight handlers. */
export interface Stub {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `handler` on an ephemeral port.
 *
 * @example
 * ```ts
 * import { serveStub } from "./stub_server.ts";
 * const stub = serveStub(() => Response.json({ ok: true }));
 * await (await fetch(stub.url)).body?.cancel();
 * await stub.close();
 * ```
 */
export function serveStub(handler: Deno.ServeHandler<Deno.NetAddr>): Stub {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

/**
 * A connection to `server` sending `token` (if any) as a bearer token.
 *
 * @example
 * ```ts
 * import { plainConnection } from "./stub_server.ts";
 * const conn = plainConnection("http://127.0.0.1:8001", "secret");
 * await conn.authHeaders(); // { Authorization: "Bearer secret" }
 * ```
 */
export function plainConnection(server: string, token?: string): Connection {
  return {
    server,
    description: "test stub",
    authHeaders: () =>
      Promise.resolve<Record<string, string>>(token ? { Authorization: `Bearer ${token}` } : {}),
    close() {},
  };
}
