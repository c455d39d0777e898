/**
 * Reading under a byte cap: up to the cap is read, one byte over is refused and the rest not read.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readBodyCapped, readCapped } from "../../lib/io/read_capped.ts";

/** A stream of `chunks` 3-byte pieces that reports whether it was cancelled. */
function pieces(chunks: number): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at++ < chunks) controller.enqueue(new Uint8Array(3));
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

Deno.test("readCapped reads up to the cap exactly", async () => {
  const bytes = await readCapped(pieces(2).stream, 6, () => new Error("too large"));
  assert.equal(bytes.byteLength, 6);
});

Deno.test("readCapped refuses one byte over the cap and cancels the rest", async () => {
  const { stream, cancelled } = pieces(100);
  await assert.rejects(readCapped(stream, 5, () => new Error("too large")), /too large/);
  assert.equal(cancelled(), true);
});

Deno.test("readBodyCapped refuses a declared length over the cap, telling it", async () => {
  const res = new Response("abcde", { headers: { "content-length": "5" } });
  await assert.rejects(
    readBodyCapped(res, 4, (declared) => new Error(`declared ${declared}`)),
    /declared 5/,
  );
});

Deno.test("readBodyCapped counts the bytes of a chunked body, whatever length it declares", async () => {
  const { stream, cancelled } = pieces(100);
  const res = new Response(stream, {
    headers: { "content-length": "3", "transfer-encoding": "chunked" },
  });
  await assert.rejects(readBodyCapped(res, 5, () => new Error("too large")), /too large/);
  assert.equal(cancelled(), true);
});
