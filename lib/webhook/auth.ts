/**
 * How each route's sender proves it knows the token, checked without leaking through timing
 * how much of a guess was right: the token as the last path segment, in `X-Argoos-Token`, as
 * Harbor's `Authorization` auth header, or as the secret of GitHub's `X-Hub-Signature-256`.
 *
 * @module
 */

import type { HeaderReader } from "./sources/types.ts";
import type { AuthKind } from "./sources/routes.ts";
import { tokenMatches } from "./token.ts";

/**
 * One request as far as authentication needs it.
 *
 * @example
 * ```ts
 * import type { Presented } from "./auth.ts";
 * const p: Presented = { headers: new Headers(), body: "{}", pathToken: "s3cret" };
 * ```
 */
export interface Presented {
  headers: HeaderReader;
  /** The raw body: GitHub signs these exact bytes. */
  body: string;
  /** The last path segment of a `path-token` route. */
  pathToken?: string;
}

/**
 * The one-line reason a request without the right proof of `kind` is refused (401).
 *
 * @example
 * ```ts
 * import { authRefusal } from "./auth.ts";
 * authRefusal("header-token"); // "missing or wrong X-Argoos-Token header"
 * ```
 */
export function authRefusal(kind: AuthKind): string {
  switch (kind) {
    case "path-token":
      return "wrong token in the path";
    case "header-token":
      return "missing or wrong X-Argoos-Token header";
    case "authorization":
      return "missing or wrong Authorization header";
    case "github-signature":
      return "missing or wrong X-Hub-Signature-256 signature";
  }
}

const encoder = new TextEncoder();

/**
 * `sha256=<hex>` HMAC-SHA256 of `body` with `secret`, as GitHub writes `X-Hub-Signature-256`.
 *
 * @example
 * ```ts
 * import { githubSignature } from "./auth.ts";
 * await githubSignature("It's a Secret to Everybody", "Hello, World!");
 * // "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
 * ```
 */
export async function githubSignature(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Whether the request carries `token` the way routes of `kind` send it. Without a configured
 * token every request passes, as `POST /event` always did (Argoos warns at start).
 *
 * @example
 * ```ts
 * import { authorized } from "./auth.ts";
 * const headers = new Headers({ authorization: "Bearer s3cret" });
 * await authorized("authorization", "s3cret", { headers, body: "" }); // true
 * await authorized("path-token", "s3cret", { headers, body: "", pathToken: "guess" }); // false
 * ```
 */
export async function authorized(
  kind: AuthKind,
  token: string | undefined,
  req: Presented,
): Promise<boolean> {
  if (token === undefined) return true;
  switch (kind) {
    case "path-token":
      return tokenMatches(token, req.pathToken ?? null);
    case "header-token":
      return tokenMatches(token, req.headers.get("x-argoos-token"));
    case "authorization": {
      // Harbor sends its "Auth Header" value as it was typed: the bare token or "Bearer <token>".
      const value = req.headers.get("authorization");
      const bearer = value?.match(/^Bearer\s+(.*)$/i)?.[1] ?? null;
      return tokenMatches(token, value) || tokenMatches(token, bearer);
    }
    case "github-signature": {
      const presented = req.headers.get("x-hub-signature-256");
      return tokenMatches(await githubSignature(token, req.body), presented);
    }
  }
}
