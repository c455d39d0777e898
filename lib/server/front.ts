/**
 * The listening socket, in front of `Deno.serve`: `Deno.serve` has no deadline on reading
 * a request's headers (denoland/deno#3515), so a client that sends half a header block
 * holds a connection, and its memory, forever. Each connection is accepted here, its
 * header block must arrive whole within a deadline, and it is then handed, with
 * `Connection: close` so that it carries this one request only, to `Deno.serve` listening
 * on a loopback port of its own. A connection lives at most `maxLifetimeMs`, and at most
 * `maxConnections` are open; beyond that a new one is answered `503` with `Retry-After`.
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

/** The header block with every `Connection`/`Keep-Alive` line replaced by `Connection: close`. */
function oneRequestOnly(head: string): string {
  const lines = head.split(/\r?\n/).filter((l) => !/^(connection|keep-alive)\s*:/i.test(l));
  return `${lines.join("\r\n")}\r\nconnection: close\r\n\r\n`;
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
  /** Open connections: their closer, and whether they still wait for headers; at most `maxConnections`. */
  const open = new Map<Deno.Conn, { close: () => void; inHeaders: boolean }>();
  /** Every relay running, to wait for at shutdown; as many as `open`. */
  const relays = new Set<Promise<void>>();

  async function relay(conn: Deno.Conn): Promise<void> {
    let backend: Deno.Conn | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      for (const c of [conn, backend]) {
        try {
          c?.close();
        } catch { /* already closed */ }
      }
    };
    const state = { close, inHeaders: true };
    open.set(conn, state);
    const cut = (reason: CutReason) => {
      if (!closed) opts.onCut?.(reason);
      close();
    };
    const lifetime = setTimeout(() => cut("lifetime"), maxLifetimeMs);
    const headerDeadline = setTimeout(() => cut("header-timeout"), headerTimeoutMs);
    try {
      // The header block, within the deadline and the size cap.
      const buf = new Uint8Array(maxHeaderBytes + 1);
      let size = 0;
      let end = -1;
      while (end < 0) {
        if (size > maxHeaderBytes) {
          clearTimeout(headerDeadline);
          await conn.write(
            rawResponse("431 Request Header Fields Too Large", "headers too large\n"),
          )
            .catch(() => {});
          return cut("header-too-large");
        }
        const n = await conn.read(buf.subarray(size));
        if (n === null) return close();
        size += n;
        const match = HEADER_END.exec(latin1.decode(buf.subarray(0, size)));
        if (match) end = match.index + match[0].length;
      }
      clearTimeout(headerDeadline);
      state.inHeaders = false;
      const head = oneRequestOnly(latin1.decode(buf.subarray(0, end)).replace(HEADER_END, ""));
      backend = await Deno.connect({ hostname: "127.0.0.1", port: inner.addr.port });
      if (closed) return close();
      await writeAll(backend, Uint8Array.from(head, (c) => c.charCodeAt(0)));
      if (size > end) await writeAll(backend, buf.subarray(end, size));
      // The body must be in by its deadline, else the connection is cut: `Deno.serve` would
      // otherwise hold it open, waiting for the rest, even after answering.
      const bodyEnd = bodyTracker(head);
      const bodyDeadline = setTimeout(() => cut("body-timeout"), bodyTimeoutMs);
      if (bodyEnd(buf.subarray(end, size))) clearTimeout(bodyDeadline);
      // The answer ends the connection: the client's side is not waited for.
      pump(conn, backend, (chunk) => bodyEnd(chunk) && clearTimeout(bodyDeadline))
        .finally(() => clearTimeout(bodyDeadline));
      await pump(backend, conn);
    } catch {
      // A reset, or a socket closed by a deadline: nothing more to do for this connection.
    } finally {
      clearTimeout(headerDeadline);
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
      // Connections still sending headers are dropped; requests in flight are answered.
      for (const { close, inHeaders } of open.values()) if (inHeaders) close();
      await inner.shutdown();
      await Promise.all(relays);
    },
  };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/**
 * Whether a request's body is complete, fed its bytes as they pass: by `Content-Length`, or
 * for a chunked body by its last chunk (`0` CRLF CRLF; trailers are not sent by registries).
 * A body-less request is complete at once.
 */
function bodyTracker(head: string): (chunk: Uint8Array) => boolean {
  const length = /^content-length\s*:\s*(\d+)\s*$/im.exec(head);
  if (/^transfer-encoding\s*:.*chunked/im.test(head)) {
    let tail = "\n";
    return (chunk) => {
      tail = (tail + latin1.decode(chunk)).slice(-6);
      return /\n0\r?\n\r?\n$/.test(tail);
    };
  }
  let remaining = length ? Number(length[1]) : 0;
  return (chunk) => (remaining -= chunk.length) <= 0;
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
