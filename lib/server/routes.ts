/**
 * The HTTP surface: webhook, health, readiness and metrics.
 *
 * @module
 */

import { METRICS_CONTENT_TYPE } from "../metrics/registry.ts";
import { tokenMatches, type TokenSource } from "../webhook/token.ts";

/** Header carrying the shared secret, as in the original Argoos. */
export const TOKEN_HEADER = "X-Argoos-Token";

/** What the routes answer from. */
export interface RoutesOptions {
  /** `POST /event`; omitted in poll-only mode (the route answers 404). */
  webhook?: (req: Request) => Promise<Response>;
  /**
   * The expected `X-Argoos-Token`, checked per delivery before the webhook sees it (so a
   * rotated token file takes effect at once); undefined accepts every delivery.
   */
  token?: TokenSource;
  /** Called for each delivery refused for its token. */
  onUnauthorized?: () => void;
  /** Whether `/readyz` answers 200 (the workload cache is in sync). */
  ready: () => boolean;
  /** Prometheus text for `/metrics`. */
  metrics: () => string;
}

const text = (status: number, body: string, type = "text/plain; charset=utf-8") =>
  new Response(body, { status, headers: { "content-type": type } });

/** Whether the delivery carries the expected token; none matches while the token file is unusable. */
async function authorized(token: TokenSource, req: Request): Promise<boolean> {
  const expected = await token.current().catch(() => undefined);
  return expected !== undefined && tokenMatches(expected, req.headers.get(TOKEN_HEADER));
}

/**
 * Route a request. `/healtz` is the original Argoos's spelling, kept beside `/healthz`.
 *
 * @example
 * ```ts
 * import { routes } from "./routes.ts";
 * const handle = routes({ ready: () => true, metrics: () => "" });
 * (await handle(new Request("http://x/healtz"))).status; // 200
 * ```
 */
export function routes(opts: RoutesOptions): (req: Request) => Promise<Response> {
  return async (req) => {
    const { pathname } = new URL(req.url);
    const get = req.method === "GET" || req.method === "HEAD";
    switch (pathname) {
      case "/event":
        if (!opts.webhook) return text(404, "webhook disabled (poll-only mode)\n");
        if (req.method !== "POST") return text(405, "use POST\n");
        if (opts.token && !(await authorized(opts.token, req))) {
          await req.body?.cancel();
          opts.onUnauthorized?.();
          return Response.json({ error: `missing or wrong ${TOKEN_HEADER} header` }, {
            status: 401,
          });
        }
        return await opts.webhook(req);
      case "/healtz":
      case "/healthz":
        return get ? text(200, "ok\n") : text(405, "use GET\n");
      case "/readyz":
        if (!get) return text(405, "use GET\n");
        return opts.ready()
          ? text(200, "ok\n")
          : text(503, "workload cache not in sync, or its watches are down\n");
      case "/metrics":
        return get ? text(200, opts.metrics(), METRICS_CONTENT_TYPE) : text(405, "use GET\n");
      default:
        return text(404, "not found\n");
    }
  };
}
