/**
 * The listening socket, in front of `Deno.serve`: `Deno.serve` has no deadline on reading
 * a request's headers (denoland/deno#3515), so a client that sends half a header block
 * holds a connection, and its memory, forever. Each connection is accepted here, its
 * header block must arrive whole within a deadline and its body within another, and the bytes
 * are relayed to `Deno.serve` listening on a loopback port of its own. Connections are kept
 * alive: between requests the header deadline counts from the last byte of the answer. A
 * connection lives at most `maxLifetimeMs`, and at most `maxConnections` are open; beyond that
 * a new one is answered `503` with `Retry-After`.
 *
 * @module
 */

/** Why a connection was cut before its request reached the handler. */
export type CutReason =
  | "header-timeout"
  | "header-too-large"
  | "body-timeout"
  | "lifetime"
  | "connections";

/** Options of {@linkcode serveFront}. */
export interface FrontOptions {
  hostname: string;
  port: number;
  /** PEM certificate and key: TLS is terminated here. */
  tls?: { cert: string; key: string };
  /** Time from accept (TLS handshake included) to the end of the header block; default 10 s. */
  headerTimeoutMs?: number;
  /** Largest header block; default 16 KiB (a delivery's headers are well under 1 KiB). */
  maxHeaderBytes?: number;
  /**
   * Time from the end of the headers to the end of the body; default 11 s. The handler's own
   * body deadline (the guard's) should fire first so that its `408` is sent before the cut.
   */
  bodyTimeoutMs?: number;
  /** Longest a connection stays open, whatever it does; default 120 s. */
  maxLifetimeMs?: number;
  /** Most connections open at once; default 256. */
  maxConnections?: number;
  /** Told about each connection cut. */
  onCut?: (reason: CutReason) => void;
}

/** A running front and the `Deno.serve` behind it. */
export interface FrontServer {
  /** Where clients connect. */
  readonly addr: Deno.NetAddr;
  /** Stop accepting, let requests in flight finish, close everything. */
  shutdown(): Promise<void>;
}

const encoder = new TextEncoder();
const HEADER_END = /\r?\n\r?\n/;

/** A bare response written on the socket, for refusals before any HTTP server saw the request. */
function rawResponse(status: string, body: string, extra = ""): Uint8Array {
  return encoder.encode(
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}

const latin1 = new TextDecoder("latin1");

/**
 * Serve `handler` behind a front that bounds how long and how many connections are held.
 * Throws synchronously, as `Deno.listen` does, when the address cannot be listened on.
 *
 * @example
 * ```ts ignore
 * import { serveFront } from "./front.ts";
 * const server = serveFront({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
 * await server.shutdown();
 * ```
 */
export function serveFront(
  opts: FrontOptions,
  handler: (req: Request) => Response | Promise<Response>,
): FrontServer {
  const headerTimeoutMs = opts.headerTimeoutMs ?? 10_000;
  const maxHeaderBytes = opts.maxHeaderBytes ?? 16 * 1024;
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 11_000;
  const maxLifetimeMs = opts.maxLifetimeMs ?? 120_000;
  const maxConnections = opts.maxConnections ?? 256;
  const listener: Deno.Listener = opts.tls
    ? Deno.listenTls({ hostname: opts.hostname, port: opts.port, ...opts.tls })
    : Deno.listen({ hostname: opts.hostname, port: opts.port });
  const inner = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  /** Open connections and their closers, and whether a backend is attached; at most `maxConnections`. */
  const open = new Map<Deno.Conn, { close: () => void; relaying: boolean }>();
  /** Every relay running, to wait for at shutdown; as many as `open`. */
  const relays = new Set<Promise<void>>();

  async function relay(conn: Deno.Conn): Promise<void> {
    let backend: Deno.TcpConn | undefined;
    let downstream: Promise<void> | undefined;
    let closed = false;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(deadline);
      for (const c of [conn, backend]) {
        try {
          c?.close();
        } catch { /* already closed */ }
      }
    };
    const state = { close, relaying: false };
    open.set(conn, state);
    const cut = (reason: CutReason) => {
      if (!closed) opts.onCut?.(reason);
      close();
    };
    const arm = (reason: CutReason, ms: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(() => cut(reason), ms);
    };
    const lifetime = setTimeout(() => cut("lifetime"), maxLifetimeMs);
    // Where the connection is: reading a header block (`head` holds it so far), a body
    // (`body` tracks its end), or between requests (`idle`: the answer may still be coming).
    let head: Uint8Array = new Uint8Array(0);
    let body: BodyTracker | undefined;
    let idle = false;
    const bodyDone = () => {
      body = undefined;
      idle = true;
      clearTimeout(deadline);
    };
    arm("header-timeout", headerTimeoutMs);
    try {
      const buf = new Uint8Array(16 * 1024);
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        let chunk: Uint8Array = buf.subarray(0, n);
        while (chunk.length > 0 && !closed) {
          if (body) {
            const used = body.feed(chunk);
            await writeAll(backend!, chunk.subarray(0, used));
            chunk = chunk.subarray(used);
            if (body.done) bodyDone();
            continue;
          }
          // The first byte of a request after an answer starts its header deadline.
          if (idle) {
            idle = false;
            arm("header-timeout", headerTimeoutMs);
          }
          head = concat(head, chunk);
          chunk = new Uint8Array(0);
          const match = HEADER_END.exec(latin1.decode(head.subarray(0, maxHeaderBytes + 4)));
          if (!match) {
            if (head.length <= maxHeaderBytes) continue;
            await conn.write(
              rawResponse("431 Request Header Fields Too Large", "headers too large\n"),
            ).catch(() => {});
            return cut("header-too-large");
          }
          const end = match.index + match[0].length;
          [chunk, head] = [head.subarray(end), head.subarray(0, end)];
          if (!backend) {
            backend = await Deno.connect({ hostname: "127.0.0.1", port: inner.addr.port });
            // Relayed pieces are written as they come: Nagle's algorithm would hold each
            // one back for the peer's delayed ACK (40 ms).
            backend.setNoDelay(true);
            (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
            state.relaying = true;
            // Answers flow back as they come; each one restarts the wait for the next request.
            downstream = pump(backend, conn, () => {
              if (idle) arm("header-timeout", headerTimeoutMs);
            }).finally(close);
          }
          await writeAll(backend, head);
          body = bodyTracker(latin1.decode(head));
          head = new Uint8Array(0);
          // The body must be in by its deadline: `Deno.serve` would wait for the rest forever,
          // even after answering.
          arm("body-timeout", bodyTimeoutMs);
          if (body.done) bodyDone();
        }
      }
      // The client is done sending: say so, so that an unfinished upload is seen as aborted.
      await backend?.closeWrite().catch(() => {});
      await downstream;
    } catch {
      // A reset, or a socket closed by a deadline: nothing more to do for this connection.
    } finally {
      clearTimeout(lifetime);
      close();
      open.delete(conn);
    }
  }

  const accepting = (async () => {
    for await (const conn of listener) {
      if (open.size >= maxConnections) {
        opts.onCut?.("connections");
        conn.write(
          rawResponse("503 Service Unavailable", "too many connections\n", "retry-after: 1\r\n"),
        )
          .catch(() => {}).finally(() => conn.close());
        continue;
      }
      const running = relay(conn).finally(() => relays.delete(running));
      relays.add(running);
    }
  })().catch(() => {});

  return {
    addr: listener.addr as Deno.NetAddr,
    async shutdown() {
      listener.close();
      await accepting;
      // Connections that never finished a header block are dropped; requests in flight are
      // answered, then the server closes its side, which ends their relays.
      for (const { close, relaying } of open.values()) if (!relaying) close();
      await inner.shutdown();
      await Promise.all(relays);
    },
  };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/** Where a request's body ends, fed its bytes as they pass. */
interface BodyTracker {
  /** How many bytes of `chunk` belong to the body (the rest starts the next request). */
  feed(chunk: Uint8Array): number;
  readonly done: boolean;
}

/**
 * The body framing of a request, from its header block: chunked (trailers included), or
 * `Content-Length` bytes, or none. Only deadlines depend on it: `Deno.serve` parses the
 * request itself, so a client that frames it otherwise only loses its connection sooner.
 */
function bodyTracker(head: string): BodyTracker {
  if (/^transfer-encoding\s*:.*chunked/im.test(head)) return chunkedTracker();
  const length = /^content-length\s*:\s*(\d+)\s*$/im.exec(head);
  let remaining = length ? Number(length[1]) : 0;
  return {
    feed(chunk) {
      const used = Math.min(remaining, chunk.length);
      remaining -= used;
      return used;
    },
    get done() {
      return remaining === 0;
    },
  };
}

/** A chunked body: size lines, data, and after the last (0) chunk, trailers to an empty line. */
function chunkedTracker(): BodyTracker {
  let line = "";
  let data = 0; // data bytes (plus their CRLF) left in the current chunk
  let trailers = false;
  let done = false;
  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length && !done) {
        if (data > 0) {
          const take = Math.min(data, chunk.length - i);
          data -= take;
          i += take;
          continue;
        }
        const byte = chunk[i++];
        if (byte !== 0x0a) {
          if (line.length < 1024) line += String.fromCharCode(byte);
          continue;
        }
        const text = line.replace(/\r$/, "");
        line = "";
        if (trailers) {
          if (text === "") done = true;
          continue;
        }
        const size = parseInt(text.split(";")[0], 16);
        if (Number.isNaN(size)) continue; // a malformed line: the server refuses the request
        if (size === 0) trailers = true;
        else data = size + 2;
      }
      return i;
    },
    get done() {
      return done;
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Copy `from` to `to` until `from` ends, then end `to`'s sending side. */
async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  onChunk?: (chunk: Uint8Array) => unknown,
): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      onChunk?.(buf.subarray(0, n));
      await writeAll(to, buf.subarray(0, n));
    }
    await to.closeWrite();
  } catch {
    // The other side is gone: the relay closes both.
  }
}
