/**
 * `GET /status` (HTML) and `GET /api/v1/workloads` (JSON): read-only, served from the workload
 * cache and the decisions store, behind the status token (HTTP Basic with any user name and
 * the token as password, so a browser prompts; or `Authorization: Bearer <token>`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { WorkloadCache } from "../workloads/cache.ts";
import { workloadKey } from "../workloads/workload.ts";
import { tokenMatches, type TokenSource } from "../webhook/token.ts";
import type { DecisionStore } from "./decisions.ts";
import { renderStatusPage, STATUS_CSP } from "./render.ts";
import { STATE_FILTERS, type WorkloadState, workloadStatuses } from "./view.ts";

/** Options of {@linkcode statusHandler}. */
export interface StatusOptions {
  cache: Pick<WorkloadCache, "all">;
  decisions: DecisionStore;
  /** The expected token; undefined serves everyone (`--insecure-status`). */
  token?: TokenSource;
  now?: () => number;
}

/** The token an `Authorization` header presents: a Bearer token or a Basic password. */
function presented(header: string | null): string | null {
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  if (m[1].toLowerCase() === "bearer") return m[2];
  const pair = Buffer.from(m[2], "base64").toString("utf8");
  const colon = pair.indexOf(":");
  return colon < 0 ? null : pair.slice(colon + 1);
}

/** Whether the request carries the token (a token source that has none refuses all). */
async function allowed(req: Request, token: TokenSource | undefined): Promise<boolean> {
  if (!token) return true;
  const expected = await token.current().catch(() => undefined);
  return expected !== undefined &&
    tokenMatches(expected, presented(req.headers.get("authorization")));
}

const NO_STORE = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

/**
 * Answer a status request (`GET`/`HEAD` on one of the `STATUS_PATHS` of paths.ts).
 *
 * @example
 * ```ts
 * import { DecisionStore } from "./decisions.ts";
 * import { statusHandler } from "./handler.ts";
 * import { fixedToken } from "../webhook/token.ts";
 * const handle = statusHandler({ cache: { all: () => [] }, decisions: new DecisionStore(), token: fixedToken("s3cret") });
 * (await handle(new Request("http://x/status"))).status; // 401
 * const ok = await handle(new Request("http://x/api/v1/workloads", { headers: { authorization: "Bearer s3cret" } }));
 * (await ok.json()).workloads; // []
 * ```
 */
export function statusHandler(opts: StatusOptions): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("use GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (!await allowed(req, opts.token)) {
      return new Response("the status token is needed (Basic password or Bearer)\n", {
        status: 401,
        headers: { "www-authenticate": `Basic realm="argoos", charset="UTF-8"`, ...NO_STORE },
      });
    }
    const url = new URL(req.url);
    const namespace = url.searchParams.get("namespace") || undefined;
    const asked = url.searchParams.get("state") ?? "all";
    if (!(STATE_FILTERS as readonly string[]).includes(asked)) {
      return new Response(`state must be one of ${STATE_FILTERS.join(", ")}\n`, { status: 400 });
    }
    const state = asked as WorkloadState | "all";
    const all = opts.cache.all();
    // Entries of workloads gone go here, rather than on a timer of their own.
    opts.decisions.retain(
      new Set(all.map((w) => workloadKey(w.kind.type.kind, w.namespace, w.name))),
    );
    const now = (opts.now ?? Date.now)();
    const workloads = workloadStatuses(all, opts.decisions, { now, namespace, state });
    const generatedAt = new Date(now).toISOString();
    if (url.pathname === "/api/v1/workloads") {
      return Response.json({ generatedAt, workloads }, { headers: NO_STORE });
    }
    const namespaces = [...new Set(all.map((w) => w.namespace))].sort();
    return new Response(
      renderStatusPage({ workloads, namespaces, namespace, state, generatedAt }),
      {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": STATUS_CSP,
          "referrer-policy": "no-referrer",
          ...NO_STORE,
        },
      },
    );
  };
}
