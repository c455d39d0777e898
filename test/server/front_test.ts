/**
 * The front and the guard, driven by raw TCP clients on 127.0.0.1: half a header block and
 * stalled bodies cut off, too many connections or deliveries answered 503 with Retry-After,
 * an abandoned upload counted and logged in one line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CutReason, serveFront } from "../../lib/server/front.ts";
import { guardHandler, type UploadCutReason } from "../../lib/server/guard.ts";
import { capture } from "../support/capture_log.ts";
import { waitFor } from "../support/wait_for.ts";

const encoder = new TextEncoder();

/** Everything the server sends until it closes the connection (or `ms` pass: then "TIMEOUT"). */
async function readAll(conn: Deno.Conn, ms = 3_000): Promise<string> {
  const chunks: string[] = [];
  const buf = new Uint8Array(4096);
  const deadline = setTimeout(() => conn.close(), ms);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(new TextDecoder().decode(buf.subarray(0, n)));
    }
  } catch {
    return "TIMEOUT";
  } finally {
    clearTimeout(deadline);
  }
  try {
    conn.close();
  } catch { /* closed */ }
  return chunks.join("");
}

async function withServer(
  fn: (port: number, cuts: string[], log: ReturnType<typeof capture>) => Promise<void>,
  front: { maxConnections?: number } = {},
  guard: { maxInFlight?: number; handler?: (req: Request) => Promise<Response> } = {},
) {
  const cuts: string[] = [];
  const log = capture();
  const handler = guard.handler ??
    (async (req: Request) => new Response(`got ${(await req.text()).length}`));
  const server = serveFront(
    {
      hostname: "127.0.0.1",
      port: 0,
      headerTimeoutMs: 300,
      maxHeaderBytes: 2048,
      bodyTimeoutMs: 500,
      maxLifetimeMs: 5_000,
      onCut: (r: CutReason) => cuts.push(r),
      ...front,
    },
    guardHandler(handler, {
      bodyTimeoutMs: 300,
      logger: log.logger,
      onCut: (r: UploadCutReason | "busy") => cuts.push(r),
      maxInFlight: guard.maxInFlight,
    }),
  );
  try {
    await fn(server.addr.port, cuts, log);
  } finally {
    await server.shutdown();
  }
}

const connect = (port: number) => Deno.connect({ hostname: "127.0.0.1", port });

Deno.test("requests on a kept-alive connection, chunked and pipelined, are all served", async () => {
  await withServer(async (port, cuts) => {
    const conn = await connect(port);
    const started = performance.now();
    await conn.write(encoder.encode(
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
        "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n" +
        "GET /c HTTP/1.1\r\nHost: a\r\n\r\n",
    ));
    // The connection stays open after the answers, until the idle (header) deadline.
    const answer = await readAll(conn);
    assert.deepEqual(answer.match(/HTTP\/1.1 \d+/g), [
      "HTTP/1.1 200",
      "HTTP/1.1 200",
      "HTTP/1.1 200",
    ]);
    assert.deepEqual(answer.match(/got \d+/g), ["got 5", "got 7", "got 0"]);
    assert.ok(performance.now() - started >= 250, "kept open while idle");
    assert.deepEqual(cuts, ["header-timeout"]);
  });
});

Deno.test("half a header block is cut off at the header deadline", async () => {
  await withServer(async (port, cuts) => {
    const conn = await connect(port);
    const started = performance.now();
    await conn.write(encoder.encode("POST /event HTTP/1.1\r\nHost: a\r\nX-Slow: "));
    assert.equal(await readAll(conn), "", "closed without an answer");
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 2_000, `closed after ${took} ms`);
    assert.deepEqual(cuts, ["header-timeout"]);
  });
});

Deno.test("a header block over the cap is answered 431", async () => {
  await withServer(async (port, cuts) => {
    const conn = await connect(port);
    await conn.write(encoder.encode(`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(4096)}\r\n\r\n`))
      .catch(() => {});
    assert.match(await readAll(conn), /^HTTP\/1.1 431/);
    assert.deepEqual(cuts, ["header-too-large"]);
  });
});

Deno.test("a stalled body is cut off at the body deadline with 408, in one log line", async () => {
  await withServer(async (port, cuts, log) => {
    const conn = await connect(port);
    await conn.write(
      encoder.encode("POST /event HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"),
    );
    assert.match(await readAll(conn), /^HTTP\/1.1 408/);
    // The guard answers 408, then the front cuts the connection the server kept open.
    assert.deepEqual(cuts, ["body-timeout", "body-timeout"]);
    const lines = log.records().filter((r) => r.msg === "upload cut");
    assert.equal(lines.length, 1);
    assert.equal(lines[0].reason, "body-timeout");
  });
});

Deno.test("an aborted upload is counted and logged once, never a 500 or a stack", async () => {
  await withServer(async (port, cuts, log) => {
    const conn = await connect(port);
    await conn.write(
      encoder.encode("POST /event HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"),
    );
    await new Promise((r) => setTimeout(r, 50));
    conn.close();
    await waitFor(() => cuts.includes("aborted"), "aborted upload counted");
    assert.deepEqual(cuts, ["aborted"]);
    assert.ok(!log.records().some((r) => r.level === "error"));
    assert.equal(log.records().filter((r) => r.msg === "upload cut").length, 1);
  });
});

Deno.test("beyond the connection cap, a new connection gets 503 with Retry-After", async () => {
  await withServer(async (port, cuts) => {
    const held = [await connect(port), await connect(port)];
    await waitFor(async () => {
      const conn = await connect(port);
      const answer = await readAll(conn, 1_000);
      return /^HTTP\/1.1 503/.test(answer) && /retry-after: 1/i.test(answer);
    }, "503 beyond the cap");
    assert.ok(cuts.includes("connections"));
    for (const c of held) c.close();
  }, { maxConnections: 2 });
});

Deno.test("beyond the delivery cap, a delivery gets 503 with Retry-After", async () => {
  const release = Promise.withResolvers<void>();
  let started = 0;
  const handler = async (req: Request) => {
    started++;
    await req.text();
    await release.promise;
    return new Response("done");
  };
  await withServer(
    async (port, cuts) => {
      const post = () => fetch(`http://127.0.0.1:${port}/event`, { method: "POST", body: "x" });
      const first = post();
      await waitFor(() => started === 1, "first delivery in the handler");
      const second = await post();
      assert.equal(second.status, 503);
      assert.equal(second.headers.get("retry-after"), "1");
      await second.body?.cancel();
      release.resolve();
      assert.equal((await first).status, 200);
      await (await first).body?.cancel();
      assert.deepEqual(cuts, ["busy"]);
    },
    {},
    { maxInFlight: 1, handler },
  );
});
