/**
 * pooledFetch against a hand-written HTTP/1.1 server on loopback, so that framing (length,
 * chunks, end of connection), connection reuse and servers closing connections are under the
 * test's control.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pooledFetch, READ_AHEAD_BYTES } from "../../lib/io/pooled_fetch.ts";
import { waitFor } from "../support/wait_for.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A request as the server read it. */
interface Seen {
  conn: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * What the server does with a request: the raw answer to write, and whether to close the
 * connection after it (`close`), or to close it without answering (`drop`).
 */
type Script = (req: Seen) => { raw?: string | Uint8Array; close?: boolean; drop?: boolean };

/** A loopback server answering each request by `script`; at most 50 connections. */
function scriptedServer(script: Script) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: Seen[] = [];
  const open = new Set<Deno.Conn>();
  let conns = 0;
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    for (let n = 0; n < 50; n++) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      open.add(conn);
      serving.push(serve(conn, ++conns).finally(() => open.delete(conn)));
    }
  })();
  async function serve(conn: Deno.Conn, id: number) {
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    const more = async () => {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) return false;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      return true;
    };
    try {
      for (let requests = 0; requests < 100; requests++) {
        let end;
        while ((end = decoder.decode(buf).indexOf("\r\n\r\n")) < 0) if (!(await more())) return;
        const [line, ...fields] = decoder.decode(buf.subarray(0, end)).split("\r\n");
        const headers: Record<string, string> = {};
        for (const f of fields) {
          const at = f.indexOf(":");
          headers[f.slice(0, at).toLowerCase()] = f.slice(at + 1).trim();
        }
        const length = Number(headers["content-length"] ?? 0);
        while (buf.length < end + 4 + length) if (!(await more())) return;
        const body = decoder.decode(buf.subarray(end + 4, end + 4 + length));
        buf = buf.slice(end + 4 + length);
        const [method, path] = line.split(" ");
        const req = { conn: id, method, path, headers, body };
        seen.push(req);
        const answer = script(req);
        if (answer.drop) return;
        const raw = typeof answer.raw === "string" ? encoder.encode(answer.raw) : answer.raw!;
        for (let at = 0; at < raw.length;) at += await conn.write(raw.subarray(at));
        if (answer.close) return;
      }
    } finally {
      try {
        conn.close();
      } catch {
        // closed by the client
      }
    }
  }
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    connections: () => conns,
    /** Closes every open connection (as a server's idle timeout would). */
    closeAll() {
      for (const c of open) c.close();
    },
    async stop() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // gone
        }
      }
      await accepting;
      await Promise.allSettled(serving);
    },
  };
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${
    encoder.encode(body).length
  }\r\n${extra}\r\n${body}`;

Deno.test("requests in turn share one connection; status, headers and bodies arrive", async () => {
  const server = scriptedServer((req) => ({ raw: ok(JSON.stringify(req.body || req.path)) }));
  const send = pooledFetch();
  try {
    for (let i = 0; i < 5; i++) {
      const res = await send(new URL(`${server.url}/n/${i}?q=1`));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(await res.json(), `/n/${i}?q=1`);
    }
    const form = await send(new URL(`${server.url}/token`), {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token" }),
    });
    assert.equal(await form.json(), "grant_type=refresh_token");
    const posted = server.seen.at(-1)!;
    assert.equal(posted.headers["content-type"], "application/x-www-form-urlencoded;charset=UTF-8");
    assert.equal(posted.headers.host, new URL(server.url).host);
    assert.equal(server.connections(), 1);
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("framing: chunks with trailers, a body to the end of the connection, none for HEAD and 204", async () => {
  const server = scriptedServer((req) => {
    switch (req.path) {
      case "/chunked":
        return {
          raw: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
            "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nx-trailer: 1\r\n\r\n",
        };
      case "/to-end":
        return { raw: "HTTP/1.1 200 OK\r\n\r\nall of it", close: true };
      case "/head":
        return { raw: "HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n" };
      case "/empty":
        return { raw: "HTTP/1.1 204 No Content\r\n\r\n" };
      default:
        return { raw: "HTTP/1.1 100 Continue\r\n\r\n" + ok('"after 100"') };
    }
  });
  const send = pooledFetch();
  try {
    assert.equal(await (await send(new URL(`${server.url}/chunked`))).text(), "hello world");
    const head = await send(new URL(`${server.url}/head`), { method: "HEAD" });
    assert.equal(head.body, null);
    assert.equal((await send(new URL(`${server.url}/empty`))).status, 204);
    assert.equal(await (await send(new URL(`${server.url}/continue`))).json(), "after 100");
    assert.equal(server.connections(), 1, "kept across all of them");
    assert.equal(await (await send(new URL(`${server.url}/to-end`))).text(), "all of it");
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("an answer longer than the read-ahead is streamed whole, then the connection is reused", async () => {
  const big = "x".repeat(READ_AHEAD_BYTES * 3 + 7);
  const server = scriptedServer((req) => ({
    raw: req.path === "/big"
      ? "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
        `${(big.length - 7).toString(16)}\r\n${big.slice(7)}\r\n7\r\n${
          big.slice(0, 7)
        }\r\n0\r\n\r\n`
      : ok('"small"'),
  }));
  const send = pooledFetch();
  try {
    const res = await send(new URL(`${server.url}/big`));
    assert.equal((await res.text()).length, big.length);
    assert.equal(await (await send(new URL(`${server.url}/small`))).json(), "small");
    assert.equal(server.connections(), 1);
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("an answer that never ends is handed over once the read-ahead is full, and streams", async () => {
  // A chunk larger than the read-ahead, and no last chunk: read whole, it would never resolve.
  const server = scriptedServer(() => ({
    raw: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
      `${(READ_AHEAD_BYTES * 2).toString(16)}\r\n${"z".repeat(READ_AHEAD_BYTES * 2)}`,
  }));
  const send = pooledFetch();
  try {
    const res = await send(new URL(`${server.url}/endless`), {
      signal: AbortSignal.timeout(5_000),
    });
    const reader = res.body!.getReader();
    let read = 0;
    while (read <= READ_AHEAD_BYTES) read += (await reader.read()).value!.length;
    await reader.cancel();
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("a connection the server closed while idle is not reused", async () => {
  const server = scriptedServer(() => ({ raw: ok('"ok"') }));
  const send = pooledFetch();
  try {
    await (await send(new URL(`${server.url}/a`))).json();
    assert.equal(send.idle(), 1);
    server.closeAll();
    // The PATCH below is not retried if sent on a dead connection: it must go on a new one.
    await waitFor(() => send.idle() === 0, "the close seen by the pool");
    const res = await send(new URL(`${server.url}/b`), { method: "PATCH", body: "{}" });
    assert.equal(await res.json(), "ok");
    assert.equal(server.connections(), 2);
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("answers on one connection: a head larger than the buffer, chunk lines across its end", async () => {
  const pad = "x".repeat(300);
  const server = scriptedServer((req) => ({
    raw: req.path === "/big-head"
      // A head over the 16 KiB buffer: it grows.
      ? `HTTP/1.1 200 OK\r\nx-pad: ${"p".repeat(40_000)}\r\ncontent-length: 2\r\n\r\nok`
      : req.path === "/many-chunks"
      // 3,000 chunks of 7 bytes in one write: the buffer fills with lines cut at its end.
      ? "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + "2\r\nab\r\n".repeat(3_000) +
        "0\r\n\r\n"
      : req.method === "HEAD"
      ? "HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n" +
        `docker-content-digest: sha256:${"a".repeat(64)}\r\nx-pad: ${pad}\r\n\r\n`
      : "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
        `${(401).toString(16)}\r\n${"y".repeat(401)}\r\n${(4).toString(16)}\r\nyyyy\r\n0\r\n\r\n`,
  }));
  const send = pooledFetch();
  // A head or line lost across the end would leave the request waiting: it fails instead.
  const signal = () => AbortSignal.timeout(5_000);
  try {
    for (let i = 0; i < 60; i++) {
      const head = await send(new URL(`${server.url}/h/${i}`), {
        method: "HEAD",
        signal: signal(),
      });
      assert.equal(head.headers.get("docker-content-digest"), `sha256:${"a".repeat(64)}`);
    }
    for (let i = 0; i < 38; i++) {
      const res = await send(new URL(`${server.url}/g/${i}`), { signal: signal() });
      assert.equal((await res.text()).length, 405);
    }
    const bigHead = await send(new URL(`${server.url}/big-head`), { signal: signal() });
    assert.equal(bigHead.headers.get("x-pad")?.length, 40_000);
    assert.equal(await bigHead.text(), "ok");
    const chunks = await send(new URL(`${server.url}/many-chunks`), { signal: signal() });
    assert.equal(await chunks.text(), "ab".repeat(3_000));
    // 100 requests: as many as the test server answers on one connection.
    assert.equal(server.connections(), 1);
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("edges: chunks win over a Content-Length; extra bytes end the connection; a 600 is a network error", async () => {
  const server = scriptedServer((req) => {
    switch (req.path) {
      case "/both":
        return {
          raw: "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n" +
            "a\r\n0123456789\r\n0\r\n\r\n",
        };
      case "/extra":
        return { raw: "HTTP/1.1 204 No Content\r\n\r\nhello" };
      case "/600":
        return { raw: "HTTP/1.1 600 Odd\r\ncontent-length: 0\r\n\r\n" };
      default:
        return { raw: ok(JSON.stringify(req.headers["user-agent"])) };
    }
  });
  const send = pooledFetch();
  try {
    const both = await send(new URL(`${server.url}/both`));
    assert.equal(both.headers.get("content-length"), null, "the length chunks overrule is dropped");
    assert.equal(await both.text(), "0123456789");
    assert.equal((await send(new URL(`${server.url}/extra`))).status, 204);
    // The bytes after the 204 are not taken for the next answer: a new connection.
    assert.equal(await (await send(new URL(`${server.url}/ua`))).json(), "argoos");
    assert.equal(server.connections(), 2);
    await assert.rejects(send(new URL(`${server.url}/600`)), TypeError);
  } finally {
    send.close();
    await server.stop();
  }
  await assert.rejects(send(new URL(`${server.url}/closed`)), TypeError);
});

Deno.test("a connection idle for idleMs is closed", async () => {
  const server = scriptedServer(() => ({ raw: ok('"ok"') }));
  const send = pooledFetch({ idleMs: 50 });
  try {
    await (await send(new URL(`${server.url}/a`))).json();
    assert.equal(send.idle(), 1);
    await waitFor(() => send.idle() === 0, "the idle connection closed");
    assert.equal(await (await send(new URL(`${server.url}/b`))).json(), "ok");
    assert.equal(server.connections(), 2);
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("a reused connection lost before any answer: a GET is sent again, a PATCH is not", async () => {
  let dropNext = false;
  const server = scriptedServer(() => {
    if (dropNext) {
      dropNext = false;
      return { drop: true };
    }
    return { raw: ok('"ok"') };
  });
  const send = pooledFetch();
  try {
    await (await send(new URL(`${server.url}/a`))).json();
    dropNext = true;
    assert.equal(await (await send(new URL(`${server.url}/get`))).json(), "ok");
    assert.deepEqual(server.seen.map((r) => r.path), ["/a", "/get", "/get"]);

    dropNext = true;
    await assert.rejects(
      send(new URL(`${server.url}/patch`), { method: "PATCH", body: "{}" }),
      (err: Error) => err instanceof TypeError && /closed/.test(err.message),
    );
    assert.equal(server.seen.filter((r) => r.path === "/patch").length, 1, "sent once");
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("a GET sent again goes on a new connection, once, however many are idle", async () => {
  const server = scriptedServer((req) =>
    req.path === "/dies" ? { drop: true } : { raw: ok('"ok"') }
  );
  const send = pooledFetch();
  try {
    // Three connections parked.
    await Promise.all([1, 2, 3].map(async (i) => await (await send(`${server.url}/${i}`)).json()));
    assert.equal(send.idle(), 3);
    await assert.rejects(send(new URL(`${server.url}/dies`)), TypeError);
    const sent = server.seen.filter((r) => r.path === "/dies");
    assert.equal(sent.length, 2, "sent twice, not once per idle connection");
    assert.equal(sent[1].conn, 4, "the second time on a new connection");
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("an answer that comes while a reused connection's request is still written is read", async () => {
  // The second request's answer is sent as soon as its head is read, then its body is drained.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(64 * 1024);
    let pending = "";
    const head = async () => {
      while (!pending.includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("closed before a head");
        pending += new TextDecoder("latin1").decode(buf.subarray(0, n));
      }
      const end = pending.indexOf("\r\n\r\n") + 4;
      const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
      const got = pending.length - end;
      pending = "";
      return length - got;
    };
    try {
      await head();
      await conn.write(encoder.encode(ok('"first"')));
      let left = await head();
      await conn.write(encoder.encode("HTTP/1.1 413 Too Large\r\ncontent-length: 0\r\n\r\n"));
      while (left > 0) {
        const n = await conn.read(buf);
        if (n === null) break;
        left -= n;
      }
    } finally {
      conn.close();
    }
  })();
  const send = pooledFetch();
  try {
    const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`;
    assert.equal(await (await send(url)).json(), "first");
    // Larger than what the sockets buffer, so the write is still going when the answer comes.
    const res = await send(url, { method: "PUT", body: new Uint8Array(16 << 20) });
    assert.equal(res.status, 413);
  } finally {
    send.close();
    listener.close();
    await served;
  }
});

Deno.test("an abort rejects with its reason; the pool goes on", async () => {
  const server = scriptedServer((req) => ({
    // Ten bytes announced, three sent: the answer is awaited until the abort.
    raw: req.path === "/partial" ? "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc" : ok('"ok"'),
  }));
  const send = pooledFetch();
  try {
    const abort = new AbortController();
    const reason = new Error("stop");
    const pending = send(new URL(`${server.url}/partial`), { signal: abort.signal });
    await waitFor(() => server.seen.length === 1, "the request sent");
    abort.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    assert.equal(await (await send(new URL(`${server.url}/after`))).json(), "ok");
    await assert.rejects(
      send(new URL(`${server.url}/never`), { signal: AbortSignal.abort(reason) }),
      (err) => err === reason,
    );
    assert.equal(server.seen.length, 2, "an aborted request is not sent");
  } finally {
    send.close();
    await server.stop();
  }
});

Deno.test("nothing listening: a TypeError naming the origin, as fetch rejects", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const send = pooledFetch();
  try {
    await assert.rejects(
      send(new URL(`http://127.0.0.1:${port}/`)),
      (err: Error) => err instanceof TypeError && err.message.includes(`127.0.0.1:${port}`),
    );
  } finally {
    send.close();
  }
});

Deno.test("origins without a connection open are forgotten past 64: none kept for ever", async () => {
  const servers = Array.from({ length: 70 }, () => scriptedServer(() => ({ raw: ok('"ok"') })));
  const send = pooledFetch({ maxIdle: 0 });
  try {
    // maxIdle 0: each connection is closed once answered, so every pool is left empty.
    for (const server of servers) await (await send(new URL(`${server.url}/`))).json();
    assert.ok(send.origins() <= 65, `${send.origins()} origins kept`);
  } finally {
    send.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
});
