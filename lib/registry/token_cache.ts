/**
 * Bearer tokens kept until shortly before they expire, so later requests skip the
 * 401 → token → retry round-trip.
 *
 * @module
 */

/**
 * Default lifetime when the token endpoint omits `expires_in` (distribution token spec).
 *
 * @example
 * ```ts
 * import { DEFAULT_TOKEN_LIFETIME_SEC } from "./token_cache.ts";
 * const lifetimeMs = DEFAULT_TOKEN_LIFETIME_SEC * 1000; // 60000
 * ```
 */
export const DEFAULT_TOKEN_LIFETIME_SEC = 60;

/** Never keep a token past this long before its expiry, to absorb clock skew and latency. */
const MAX_MARGIN_MS = 10_000;

/**
 * A token endpoint answer: `token` or `access_token`, plus optional lifetime fields.
 *
 * @example
 * ```ts
 * import type { TokenResponse } from "./token_cache.ts";
 * const hub: TokenResponse = { token: "eyJ…", expires_in: 300, issued_at: "2026-11-25T09:00:00Z" };
 * ```
 */
export interface TokenResponse {
  /** The bearer token (distribution token spec). */
  token?: string;
  /** The same token under its OAuth2 name. */
  access_token?: string;
  /** Lifetime in seconds. */
  expires_in?: number;
  /** RFC 3339 time the token was issued. */
  issued_at?: string;
}

/**
 * A usable bearer token and when to stop using it.
 *
 * @example
 * ```ts
 * import type { CachedToken } from "./token_cache.ts";
 * const t: CachedToken = { token: "eyJ…", useUntil: Date.now() + 50_000 };
 * ```
 */
export interface CachedToken {
  /** Value for `Authorization: Bearer …`. */
  token: string;
  /** Epoch ms after which the cache no longer returns it. */
  useUntil: number;
}

/**
 * Turn a token endpoint's JSON into a cached token, or `undefined` if it holds no token.
 * The lifetime counts from `issued_at` only when that is earlier than our clock (a server
 * clock ahead of ours must not stretch the token's life), and ends a margin early:
 * the lesser of 10 s and half the lifetime.
 *
 * @example
 * ```ts
 * import { tokenFromResponse } from "./token_cache.ts";
 * tokenFromResponse({ token: "t", expires_in: 300 }, 0); // { token: "t", useUntil: 290000 }
 * ```
 */
export function tokenFromResponse(body: TokenResponse, nowMs: number): CachedToken | undefined {
  const token = body.token || body.access_token;
  if (typeof token !== "string" || token === "") return undefined;
  const lifetimeSec = typeof body.expires_in === "number" && body.expires_in > 0
    ? body.expires_in
    : DEFAULT_TOKEN_LIFETIME_SEC;
  const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
  const start = Number.isNaN(issued) ? nowMs : Math.min(issued, nowMs);
  const lifetimeMs = lifetimeSec * 1000;
  return { token, useUntil: start + lifetimeMs - Math.min(MAX_MARGIN_MS, lifetimeMs / 2) };
}

/**
 * Tokens by an opaque key (the client uses host, scope and credential identity).
 *
 * @example
 * ```ts
 * import { TokenCache } from "./token_cache.ts";
 * const cache = new TokenCache();
 * cache.set("k", { token: "t", useUntil: 1000 });
 * cache.get("k", 500); // "t"
 * cache.get("k", 1000); // undefined (expired, and dropped)
 * ```
 */
export class TokenCache {
  /**
   * Key -> token; at most `maxEntries` (oldest written dropped first), each at most until its
   * `useUntil`, which is never more than `maxAgeMs` after it was stored.
   */
  #tokens = new Map<string, CachedToken>();

  /** A cache of at most `maxEntries` tokens, none kept longer than `maxAgeMs`. */
  constructor(readonly maxEntries = 1024, readonly maxAgeMs = 3_600_000) {}

  /** How many tokens are held. */
  get size(): number {
    return this.#tokens.size;
  }

  /** The token for `key` if it is still usable at `nowMs`. */
  get(key: string, nowMs: number): string | undefined {
    const entry = this.#tokens.get(key);
    if (!entry) return undefined;
    if (nowMs >= entry.useUntil) {
      this.#tokens.delete(key);
      return undefined;
    }
    return entry.token;
  }

  /** Store or replace the token for `key`, dropping expired and, past the cap, oldest ones. */
  set(key: string, token: CachedToken, nowMs: number = Date.now()): void {
    this.#tokens.delete(key);
    if (this.#tokens.size >= this.maxEntries) {
      for (const [k, t] of this.#tokens) if (nowMs >= t.useUntil) this.#tokens.delete(k);
    }
    while (this.#tokens.size >= this.maxEntries) {
      this.#tokens.delete(this.#tokens.keys().next().value!);
    }
    this.#tokens.set(key, {
      token: token.token,
      useUntil: Math.min(token.useUntil, nowMs + this.maxAgeMs),
    });
  }

  /** Forget the token for `key` (the registry rejected it). */
  delete(key: string): void {
    this.#tokens.delete(key);
  }
}
