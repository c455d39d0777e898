/**
 * The HTTP surface: webhook, health, readiness, metrics and the status page.
 *
 * @module
 */

import { METRICS_CONTENT_TYPE } from "../metrics/registry.ts";
import { STATUS_PATHS } from "../status/paths.ts";
import type { RouteHandler } from "../webhook/handler.ts";
import { matchRoute } from "../webhook/sources/routes.ts";

/** What the routes answer from. */
export interface RoutesOptions {
  /**
   * The webhook routes mounted, by source (`distribution` for `POST /event`, `dockerhub`, …);
   * none in poll-only mode (their paths answer 404).
   */
  webhooks?: ReadonlyMap<string, RouteHandler>;
  /** Whether `/readyz` answers 200 (the workload cache is in sync). */
  ready: () => boolean;
  /** Prometheus text for `/metrics`. */
  metrics: () => string;
  /** `GET /status` and `/api/v1/workloads`; absent: not served (404). */
  status?: (req: Request) => Promise<Response>;
}

const text = (status: number, body: string, type = "text/plain; charset=utf-8") =>
  new Response(body, { status, headers: { "content-type": type } });

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
    const hook = matchRoute(pathname);
    if (hook) {
      const handler = opts.webhooks?.get(hook.route.source);
      if (!handler) return text(404, "webhook disabled (poll-only mode)\n");
      if (req.method !== "POST") return text(405, "use POST\n");
      return await handler(req, hook.pathToken);
    }
    if (STATUS_PATHS.has(pathname)) {
      return opts.status ? await opts.status(req) : text(404, "status page off (--status-token)\n");
    }
    switch (pathname) {
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
