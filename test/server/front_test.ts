/**
 * The front and the guard, driven by raw TCP clients on 127.0.0.1: half a header block and
 * stalled bodies cut off, too many connections (in all or from one address) or deliveries
 * answered 503 with Retry-After, an abandoned upload counted and logged in one line, a header
 * block dribbled in small pieces read with work linear in its size, malformed requests 400.
 *
 * @module
 */

import assert from "node:assert/strict";
import net from "node:net";
import {
  type CutReason,
  type FrontOptions,
  type FrontServer,
  receivedWhole,
  serveFront,
} from "../../lib/server/front.ts";
import { guardHandler, InFlightCap, type UploadCutReason } from "../../lib/server/guard.ts";
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
  fn: (
    port: number,
    cuts: string[],
    log: ReturnType<typeof capture>,
    server: FrontServer,
  ) => Promise<void>,
  front: Partial<FrontOptions> = {},
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
      cap: new InFlightCap(guard.maxInFlight),
    }),
  );
  try {
    await fn(server.addr.port, cuts, log, server);
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

Deno.test("an answer's headers are written as the handler set them, cookies one line each", async () => {
  const handler = () => {
    const headers = new Headers({ "content-type": "text/plain", "x-a": "1" });
    headers.append("x-a", "2");
    headers.append("set-cookie", "a=1; HttpOnly");
    headers.append("set-cookie", "b=2");
    // Framing is the front's: these are replaced by its own.
    headers.set("content-length", "999");
    headers.set("connection", "keep-alive");
    return Promise.resolve(new Response("hi", { status: 201, headers }));
  };
  await withServer(
    async (port) => {
      const conn = await connect(port);
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
      const [head, body] = (await readAll(conn)).split("\r\n\r\n");
      assert.deepEqual(head.split("\r\n"), [
        "HTTP/1.1 201 ", // the Response's statusText: an empty reason phrase is valid HTTP/1.1
        "content-type: text/plain",
        "set-cookie: a=1; HttpOnly",
        "set-cookie: b=2",
        "x-a: 1, 2",
        "content-length: 2",
        "connection: close",
      ]);
      assert.equal(body, "hi");
    },
    {},
    { handler },
  );
});

Deno.test("`fast` answers what it takes, with the front's framing; the rest reaches the handler", async () => {
  const seen: string[] = [];
  const server = serveFront({
    hostname: "127.0.0.1",
    port: 0,
    fast: (req) => {
      seen.push(`${req.method} ${req.target} ${new TextDecoder().decode(req.body)}`);
      if (req.target === "/boom") return Promise.reject(new Error("boom"));
      if (req.target === "/throw") throw new Error("thrown");
      if (req.target !== "/fast") return undefined;
      return Promise.resolve({
        status: 202,
        headers: { "content-type": "application/json", "content-length": "999" },
        body: '{"ok":true}',
      });
    },
  }, () => new Response("from the handler"));
  try {
    const conn = await connect(server.addr.port);
    await conn.write(encoder.encode(
      "POST /fast HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi" +
        "POST /boom HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" +
        "POST /throw HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" +
        "GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ));
    const answers = (await readAll(conn)).split(/(?=HTTP\/1\.1 )/);
    assert.deepEqual(answers[0].split("\r\n"), [
      "HTTP/1.1 202 ",
      "content-type: application/json",
      "content-length: 11",
      "",
      '{"ok":true}',
    ]);
    assert.match(answers[1], /^HTTP\/1\.1 500 [^]*\r\n\r\ninternal error\n$/);
    assert.match(answers[2], /^HTTP\/1\.1 500 [^]*\r\n\r\ninternal error\n$/);
    assert.match(answers[3], /^HTTP\/1\.1 200 [^]*connection: close\r\n\r\nfrom the handler$/);
    assert.deepEqual(seen, ["POST /fast hi", "POST /boom ", "POST /throw ", "GET /other "]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a body received with its head is handed over whole; one still arriving is streamed", async () => {
  const seen: [boolean, string][] = [];
  await withServer(
    async (port) => {
      const conn = await connect(port);
      await conn.write(
        encoder.encode("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"),
      );
      await waitFor(() => seen.length === 1, "the first request handled");
      await conn.write(
        encoder.encode("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"),
      );
      await waitFor(() => seen.length === 2, "the second request handed over");
      await conn.write(encoder.encode("cde"));
      const answer = await readAll(conn);
      assert.deepEqual(answer.match(/got (hello|abcde)/g), ["got hello", "got abcde"]);
    },
    {},
    {
      handler: async (req) => {
        const entry: [boolean, string] = [receivedWhole(req), ""];
        seen.push(entry);
        entry[1] = await req.text();
        return new Response(`got ${entry[1]}`);
      },
    },
  );
  assert.deepEqual(seen, [[true, "hello"], [false, "abcde"]]);
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
    const answer = await readAll(conn);
    assert.match(answer, /^HTTP\/1.1 408/);
    // The guard answers 408 with `connection: close`, and the front closes after the answer.
    assert.match(answer, /connection: close/i);
    assert.deepEqual(cuts, ["body-timeout"]);
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

/** A connection from `localAddress` (any of 127.0.0.0/8 is this machine on Linux). */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** What the server sends on `socket` until it closes it. */
function readSocket(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (chunk: Uint8Array) => text += new TextDecoder().decode(chunk));
    socket.once("close", () => resolve(text));
  });
}

Deno.test("one address gets 32 connections; its 33rd gets 503 while another address is served", async () => {
  await withServer(async (port, cuts) => {
    const held = await Promise.all(
      Array.from({ length: 32 }, () => connectFrom(port, "127.0.0.2")),
    );
    try {
      const extra = await connectFrom(port, "127.0.0.2");
      const refused = await readSocket(extra);
      assert.match(refused, /^HTTP\/1.1 503/);
      assert.match(refused, /retry-after: 1/i);
      assert.match(refused, /too many connections from your address/);
      assert.deepEqual(cuts, ["client-connections"]);

      const other = await connectFrom(port, "127.0.0.3");
      const answer = readSocket(other);
      other.end("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      assert.match(await answer, /^HTTP\/1.1 200[^]*got 0$/);

      // A connection given back makes room for that address again.
      const closed = readSocket(held[0]);
      held[0].destroy();
      await closed;
      await waitFor(async () => {
        const again = await connectFrom(port, "127.0.0.2");
        const reply = readSocket(again);
        again.end("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        return /^HTTP\/1.1 200/.test(await reply);
      }, "a connection accepted again once one closed");
    } finally {
      for (const socket of held) socket.destroy();
    }
  }, { maxConnections: 256 });
});

Deno.test("a large header block dribbled in small pieces is scanned once, not once per piece", async () => {
  await withServer(async (port, _cuts, _log, server) => {
    const conn = await connect(port);
    conn.setNoDelay(true);
    const block = `GET /x HTTP/1.1\r\nHost: a\r\nX-Pad: ${"a".repeat(12_000)}\r\n\r\n`;
    const piece = 40;
    const before = server.headerBytesScanned;
    let pieces = 0;
    for (let at = 0; at < block.length; at += piece, pieces++) {
      await conn.write(encoder.encode(block.slice(at, at + piece)));
      // Each piece is read on its own before the next is sent.
      const sent = Math.min(block.length, at + piece);
      await waitFor(
        () => server.headerBytesScanned - before >= sent,
        `piece ${pieces} scanned`,
      );
    }
    const scanned = server.headerBytesScanned - before;
    // Each byte once, and at most 3 again per read; re-scanning the block on every read would
    // be about pieces / 2 times its size (over 1.8 MB here).
    assert.ok(scanned <= block.length + 3 * pieces, `${scanned} bytes scanned for ${block.length}`);
    conn.close();
  }, { maxHeaderBytes: 16 * 1024, headerTimeoutMs: 20_000 });
});

Deno.test("a malformed request is answered 400 with a one-line reason and closed", async () => {
  const cases = [
    ["GARBAGE\r\n\r\n", "malformed request line"],
    ["GET /x HTTP/1.1\r\nno colon here\r\n\r\n", "malformed header line"],
    [
      "POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "unsupported transfer-encoding",
    ],
    ["POST /x HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", "malformed content-length"],
    ["GET http://elsewhere/x HTTP/1.1\r\n\r\n", "request target must be a path"],
  ];
  await withServer(async (port) => {
    for (const [request, reason] of cases) {
      const conn = await connect(port);
      await conn.write(encoder.encode(request));
      const answer = await readAll(conn);
      assert.match(answer, /^HTTP\/1.1 400/, request);
      assert.ok(answer.endsWith(`\r\n\r\n${reason}\n`), answer);
    }
  });
});

Deno.test("a client that waits for 100-continue (curl, over 1 KiB) gets it, then its answer", async () => {
  await withServer(async (port) => {
    const conn = await connect(port);
    await conn.write(encoder.encode(
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    ));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "HTTP/1.1 100 Continue\r\n\r\n");
    await conn.write(encoder.encode("hello"));
    const answer = await readAll(conn);
    assert.match(answer, /^HTTP\/1.1 200[^]*got 5$/);
  });
});

Deno.test("a connection past its lifetime is closed after the answer being prepared, not during it", async () => {
  const release = Promise.withResolvers<void>();
  const handler = async (req: Request) => {
    await req.text();
    await release.promise;
    return new Response("late");
  };
  await withServer(
    async (port, cuts) => {
      const conn = await connect(port);
      await conn.write(encoder.encode("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"));
      const answer = readAll(conn);
      // An idle connection opened after it is cut at its lifetime: by then the busy one is
      // past its own, its handler still running.
      const idle = await connect(port);
      assert.equal(await readAll(idle), "");
      assert.deepEqual(cuts, ["lifetime"]);
      release.resolve();
      assert.match(await answer, /^HTTP\/1.1 200[^]*connection: close[^]*late$/);
      assert.deepEqual(cuts, ["lifetime"]);
    },
    { maxLifetimeMs: 150, headerTimeoutMs: 1_000 },
    { handler },
  );
});
