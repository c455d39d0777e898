/**
 * Reading a request body with a size cap, whether or not it declares its length.
 *
 * @module
 */

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
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await req.body?.cancel();
    throw new BodyTooLargeError(`body of ${declared} bytes exceeds ${maxBytes}`);
  }
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
