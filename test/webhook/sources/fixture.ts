/**
 * Reading vendor payload fixtures and making receive contexts for the receiver tests.
 *
 * @module
 */

import type { ReceiveContext } from "../../../lib/webhook/sources/types.ts";

/** The text of `test/fixtures/<path>`. */
export function fixtureText(path: string): string {
  return Deno.readTextFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
}

/** The JSON of `test/fixtures/<path>`. */
export function fixture(path: string): unknown {
  return JSON.parse(fixtureText(path));
}

/** A context received at `receivedAt` with these headers and aliases. */
export function context(
  headers: HeadersInit = {},
  aliases: [string, string][] = [],
  receivedAt = 1_800_000_000_000,
): ReceiveContext {
  return { headers: new Headers(headers), aliases: new Map(aliases), receivedAt };
}
