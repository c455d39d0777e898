/**
 * JSON responses as kube-apiserver writes them.
 *
 * @module
 */

/**
 * A JSON response with `content-type: application/json`.
 *
 * @example
 * ```ts
 * import { jsonResponse } from "./response.ts";
 * jsonResponse({ kind: "Status" }, 201).status; // 201
 * ```
 */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
