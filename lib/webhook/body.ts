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
  const bytes = await readBodyCapped(req, maxBytes, (declared) =>
    new BodyTooLargeError(
      declared === undefined
        ? `body exceeds ${maxBytes} bytes`
        : `body of ${declared} bytes exceeds ${maxBytes}`,
    ));
  return new TextDecoder().decode(bytes);
}
