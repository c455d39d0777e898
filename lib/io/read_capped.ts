/**
 * Reading a stream, or an HTTP message's body, under a byte cap: more than the cap is refused
 * without reading the rest.
 *
 * @module
 */

/**
 * The bytes of `stream`; throws `tooLarge()` once they pass `maxBytes`, cancelling the rest.
 * When `signal` aborts, reading stops (the stream is cancelled) and its reason is thrown: a
 * child process's pipe may stay open after the child is killed, held by a child of its own.
 *
 * @example
 * ```ts
 * import { readCapped } from "./read_capped.ts";
 * const bytes = await readCapped(new Blob(["abc"]).stream(), 4, () => new Error("too large"));
 * bytes.byteLength; // 3
 * ```
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
  signal?: AbortSignal,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = []; // at most maxBytes in all
  let size = 0;
  await eachChunkCapped(stream, maxBytes, tooLarge, (c) => {
    chunks.push(c);
    size += c.byteLength;
  }, signal);
  return concatBytes(chunks, size);
}

/**
 * The chunks one after the other, `size` bytes in all; a single chunk is returned as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./read_capped.ts";
 * const bytes = concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])], 3);
 * assert.deepEqual([...bytes], [1, 2, 3]);
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1 && chunks[0].buffer instanceof ArrayBuffer) {
    return chunks[0] as Uint8Array<ArrayBuffer>;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/**
 * Hand each chunk of `stream` to `onChunk` as it arrives, keeping none; throws `tooLarge()`
 * once they pass `maxBytes`, and what `onChunk` throws, cancelling the rest. `signal` as in
 * {@linkcode readCapped}.
 *
 * @example
 * ```ts
 * import { eachChunkCapped } from "./read_capped.ts";
 * let bytes = 0;
 * await eachChunkCapped(new Blob(["abc"]).stream(), 4, () => new Error("too large"), (c) => {
 *   bytes += c.byteLength;
 * });
 * bytes; // 3
 * ```
 */
export async function eachChunkCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
  onChunk: (chunk: Uint8Array) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reader = stream.getReader();
  const stop = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  let size = 0;
  try {
    signal?.throwIfAborted();
    while (true) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      onChunk(value);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

/**
 * The body of a request or response under `maxBytes`. A declared Content-Length over the cap
 * is refused (`tooLarge(declared)`) before reading; one within it is read whole, since HTTP
 * framing bounds the body to it (cheaper than a chunk loop); an undeclared one is read chunk by
 * chunk and refused (`tooLarge()`) once it passes the cap.
 *
 * @example
 * ```ts
 * import { readBodyCapped } from "./read_capped.ts";
 * const req = new Request("http://x/", { method: "POST", body: "{}" });
 * await readBodyCapped(req, 1024, () => new Error("too large")); // 2 bytes
 * ```
 */
export async function readBodyCapped(
  message: Request | Response,
  maxBytes: number,
  tooLarge: (declared?: number) => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = await refuseDeclared(message, maxBytes, tooLarge);
  // Before `body` is touched: reading it makes a stream of a body held whole. A length next to
  // chunks does not bound the body (RFC 9112, 6.3): read chunk by chunk then.
  if (declared >= 0 && !message.headers.has("transfer-encoding")) {
    return new Uint8Array(await message.arrayBuffer());
  }
  if (!message.body) return new Uint8Array();
  return await readCapped(message.body, maxBytes, () => tooLarge());
}

/**
 * The body of a request or response handed to `onChunk` chunk by chunk, none kept, under
 * `maxBytes`: a declared Content-Length over the cap is refused before reading, as by
 * {@linkcode readBodyCapped}.
 *
 * @example
 * ```ts
 * import { eachBodyChunkCapped } from "./read_capped.ts";
 * const res = new Response('{"tags":[]}');
 * await eachBodyChunkCapped(res, 1024, () => new Error("too large"), (c) => console.log(c.length));
 * ```
 */
export async function eachBodyChunkCapped(
  message: Request | Response,
  maxBytes: number,
  tooLarge: (declared?: number) => Error,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  await refuseDeclared(message, maxBytes, tooLarge);
  if (message.body) await eachChunkCapped(message.body, maxBytes, () => tooLarge(), onChunk);
}

/** The declared Content-Length (NaN when none); one over `maxBytes` is refused unread. */
async function refuseDeclared(
  message: Request | Response,
  maxBytes: number,
  tooLarge: (declared?: number) => Error,
): Promise<number> {
  const declared = Number(message.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await message.body?.cancel();
    throw tooLarge(declared);
  }
  return declared;
}
