/**
 * The HTTP surface: webhook, health, readiness, metrics and the status page.
 *
 * @module
 */

import { METRICS_CONTENT_TYPE } from "../metrics/registry.ts";
import { STATUS_PATHS } from "../status/paths.ts";
import {
  type DeliveryHandler,
  type DeliveryRequest,
  encodeAnswer,
  type RouteHandler,
} from "../webhook/handler.ts";
import { bodyTooLarge } from "../webhook/body.ts";
import type { FastHandler, FastRequest } from "./front.ts";
import type { FastAdmit } from "./guard.ts";
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

/** A request target the fast path takes as it is: a plain path, nothing to decode or resolve. */
const PLAIN_PATH = /^\/[A-Za-z0-9_\-/]*$/;
/** A Host the fast path takes: one the `Request` path's URL takes as it is (no path, no space). */
const PLAIN_HOST = /^[A-Za-z0-9.\-]*(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/;

const decoder = new TextDecoder();

/**
 * The front's fast path for the webhook routes: a `POST` to a mounted route whose body came
 * whole is answered by its {@linkcode DeliveryHandler} from the bytes, through `admit` (the
 * guard's cap, shared with the `Request` path: {@linkcode guardFast}; a request without a
 * body is not counted, as there). Anything the `Request` path could answer otherwise is left
 * to {@linkcode routes}: another route or method, a target with a query, escapes or dot
 * segments, a Host a URL would not take as it is, a header value a `Headers` refuses (NUL).
 *
 * @example
 * ```ts ignore
 * import { fastRoutes } from "./routes.ts";
 * import { guardFast, InFlightCap } from "./guard.ts";
 * const fast = fastRoutes({ deliveries, admit: guardFast({ cap: new InFlightCap() }) });
 * serveFront({ hostname: "127.0.0.1", port: 0, fast }, handler);
 * ```
 */
export function fastRoutes(opts: {
  deliveries: ReadonlyMap<string, DeliveryHandler>;
  admit: FastAdmit;
}): FastHandler {
  return (req) => {
    if (req.method !== "POST" || !PLAIN_PATH.test(req.target)) return undefined;
    const hook = matchRoute(req.target);
    const handle = hook && opts.deliveries.get(hook.route.source);
    if (!handle || !PLAIN_HOST.test(req.headers.host ?? "")) return undefined;
    for (const name in req.headers) if (req.headers[name].includes("\0")) return undefined;
    return opts.admit(
      req.target,
      async () => encodeAnswer(await handle(deliveryOf(req), hook.pathToken)),
      req.body.length > 0,
    );
  };
}

/** The delivery a request received whole holds. */
function deliveryOf(req: FastRequest): DeliveryRequest {
  return {
    pathname: req.target,
    headers: { get: (name: string) => req.headers[name.toLowerCase()] ?? null },
    text: (maxBytes: number) =>
      req.body.length > maxBytes
        ? Promise.reject(bodyTooLarge(maxBytes, req.body.length))
        : Promise.resolve(decoder.decode(req.body)),
    discard: () => Promise.resolve(),
  };
}
