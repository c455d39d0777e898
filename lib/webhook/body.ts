/**
 * Reading a request body with a size cap, whether or not it declares its length.
 *
 * @module
 */

import { readBodyCapped } from "../io/read_capped.ts";

/** The body is larger than allowed; answered 413. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Read the body as UTF-8 text, refusing more than `maxBytes` without reading it all.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "./body.ts";
 * await readBodyLimited(new Request("http://x/", { method: "POST", body: "{}" }), 1024); // "{}"
 * ```
 */
export async function readBodyLimited(req: Request, maxBytes: number): Promise<string> {
  const bytes = await readBodyCapped(req, maxBytes, (declared) => bodyTooLarge(maxBytes, declared));
  return new TextDecoder().decode(bytes);
}

/**
 * The refusal of a body over `maxBytes`, of `declared` bytes when its length was stated.
 *
 * @example
 * ```ts
 * import { bodyTooLarge } from "./body.ts";
 * bodyTooLarge(1024, 2048).message; // "body of 2048 bytes exceeds 1024"
 * ```
 */
export function bodyTooLarge(maxBytes: number, declared?: number): BodyTooLargeError {
  return new BodyTooLargeError(
    declared === undefined
      ? `body exceeds ${maxBytes} bytes`
      : `body of ${declared} bytes exceeds ${maxBytes}`,
  );
}
