/**
 * Reading request bodies under a size cap.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BodyTooLargeError, readBodyLimited } from "../../lib/webhook/body.ts";

/** A streamed body without content-length, delivered in `chunks` pieces; reports cancellation. */
function chunked(
  chunks: Uint8Array[],
  headers: HeadersInit = {},
): { request: Request; cancelled: () => boolean; pulled: () => number } {
  let cancelled = false;
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at < chunks.length) controller.enqueue(chunks[at++]);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return {
    request: new Request("http://x/event", { method: "POST", body, headers }),
    cancelled: () => cancelled,
    pulled: () => at,
  };
}

Deno.test("readBodyLimited reads bodies up to the exact limit", async () => {
  assert.equal(await readBodyLimited(new Request("http://x/", { method: "POST" }), 4), "");
  assert.equal(
    await readBodyLimited(new Request("http://x/", { method: "POST", body: "abcd" }), 4),
    "abcd",
  );
  const { request } = chunked([new TextEncoder().encode("ab"), new TextEncoder().encode("cd")]);
  assert.equal(await readBodyLimited(request, 4), "abcd");
});

Deno.test("readBodyLimited decodes UTF-8 split across chunks", async () => {
  const bytes = new TextEncoder().encode("é");
  const { request } = chunked([bytes.slice(0, 1), bytes.slice(1)]);
  assert.equal(await readBodyLimited(request, 2), "é");
});

Deno.test("readBodyLimited refuses a declared length over the limit without reading", async () => {
  const { request, pulled } = chunked([new Uint8Array(5)], { "content-length": "5" });
  await assert.rejects(readBodyLimited(request, 4), /body of 5 bytes exceeds 4/);
  assert.equal(pulled(), 0);
});

Deno.test("readBodyLimited refuses a chunked body once it passes the limit", async () => {
  const pieces = Array.from({ length: 100 }, () => new Uint8Array(3));
  const { request, cancelled } = chunked(pieces);
  await assert.rejects(readBodyLimited(request, 4), /exceeds 4 bytes/);
  assert.equal(cancelled(), true, "the rest of the stream is not read");
});

Deno.test("readBodyLimited: one byte over the limit is too large", async () => {
  const request = new Request("http://x/", { method: "POST", body: "abcde" });
  await assert.rejects(readBodyLimited(request, 4), BodyTooLargeError);
});
