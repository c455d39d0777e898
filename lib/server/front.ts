/**
 * The listening socket and the HTTP/1.1 server on it. `Deno.serve` has no deadline on reading
 * a request's headers (denoland/deno#3515), so a client that sends half a header block would
 * hold a connection, and its memory, forever. Here each connection's header block must arrive
 * whole within a deadline and its body within another; the request is then handed to the
 * handler in this process (relaying the bytes to a `Deno.serve` behind cost a fifth of the
 * service's CPU per delivery). Connections are kept alive: between requests the header
 * deadline counts from the last byte of the answer. A connection lives at most
 * `maxLifetimeMs` (a request being handled then is answered first, with `connection: close`);
 * at most `maxConnections` are open, and at most `maxConnectionsPerClient`
 * from one source address. Beyond either a new one is answered `503` with `Retry-After`.
 *
 * Answers are read whole before they are written: every route answers a few KiB at most.
 *
 * @module
 */

import { LazyDeadline } from "../async/lazy_deadline.ts";
import { chunkSize, contentLength, isChunked, keepsAlive } from "../io/http1.ts";

/** Why a connection was cut before its request reached the handler. */
export type CutReason =
  | "header-timeout"
  | "header-too-large"
  | "body-timeout"
  | "lifetime"
  | "connections"
  | "client-connections";

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
  /** Longest a connection stays open (past it, closed once its answer in progress is sent); default 120 s. */
  maxLifetimeMs?: number;
  /** Most connections open at once; default 256. */
  maxConnections?: number;
  /** Most connections open at once from one source address; default 32. */
  maxConnectionsPerClient?: number;
  /** Told about each connection cut. */
  onCut?: (reason: CutReason) => void;
  /**
   * Asked first about each request whose body was received whole (or that has none): an
   * answer it gives is written as it is, with no `Request` or `Response` made (a front with an
   * empty handler spent 27 µs of CPU per request, 15 µs without them); undefined leaves the
   * request to the handler.
   */
  fast?: FastHandler;
}

/**
 * A request the front received whole, as {@linkcode FrontOptions.fast} sees it.
 *
 * @example
 * ```ts
 * import type { FastRequest } from "./front.ts";
 * const req: FastRequest = { method: "POST", target: "/event", headers: {}, body: new Uint8Array() };
 * ```
 */
export interface FastRequest {
  method: string;
  /** The request target as sent: the path and any query. */
  target: string;
  /** By lower-case name; a repeated header's values joined by ", ". */
  headers: Readonly<Record<string, string>>;
  /** The body, received whole; empty without one. */
  body: Uint8Array;
}

/**
 * An answer of {@linkcode FrontOptions.fast}: the front writes its own framing (length,
 * connection, transfer-encoding; such headers here are left out), and keeps the connection
 * open when the request allows it.
 *
 * @example
 * ```ts
 * import type { FastAnswer } from "./front.ts";
 * const ok: FastAnswer = { status: 200, headers: { "content-type": "application/json" }, body: "{}" };
 * ```
 */
export interface FastAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** Answers a request received whole, or returns undefined to leave it to the handler. */
export type FastHandler = (req: FastRequest) => Promise<FastAnswer> | undefined;

const INTERNAL_ERROR: FastAnswer = {
  status: 500,
  headers: { "content-type": "text/plain;charset=UTF-8" },
  body: "internal error\n",
};

/** A running front. */
export interface FrontServer {
  /** Where clients connect. */
  readonly addr: Deno.NetAddr;
  /**
   * Bytes looked at so far while searching for the ends of header blocks: each received byte
   * is looked at once (plus at most 3 again per read), however slowly a block arrives.
   */
  readonly headerBytesScanned: number;
  /** Stop accepting, let requests in flight finish, close everything. */
  shutdown(): Promise<void>;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Requests whose body the front had received whole before handing them over. */
const wholeBodies = new WeakSet<Request>();

/**
 * Whether `req`'s body had arrived whole when the front handed it over (no deadline can
 * apply to reading it): read before `req.body`, which turns the bytes into a stream.
 *
 * @example
 * ```ts
 * import { receivedWhole } from "./front.ts";
 * receivedWhole(new Request("http://x/", { method: "POST", body: "{}" })); // false: not the front's
 * ```
 */
export function receivedWhole(req: Request): boolean {
  return wholeBodies.has(req);
}

/** A bare response, for refusals the handler never sees. */
function rawResponse(status: string, body: string, extra = ""): Uint8Array {
  return encoder.encode(
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}

/** A request the front refuses before the handler: answered with `status` and closed. */
class Refused extends Error {
  constructor(readonly status: string, message: string) {
    super(message);
  }
}

/**
 * Serve `handler` on a front that bounds how long and how many connections are held.
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
  const maxPerClient = opts.maxConnectionsPerClient ?? 32;
  const listener: Deno.Listener = opts.tls
    ? Deno.listenTls({ hostname: opts.hostname, port: opts.port, ...opts.tls })
    : Deno.listen({ hostname: opts.hostname, port: opts.port });
  const scheme = opts.tls ? "https" : "http";
  /** Open connections: whether one is between requests, and how to close it. */
  const open = new Map<Deno.Conn, { idle: boolean; close: () => void }>();
  /** Open connections by source address. */
  const perClient = new Map<string, number>();
  /** Every connection being served, to wait for at shutdown; as many as `open`. */
  const serving = new Set<Promise<void>>();
  let stopping = false;
  let scanned = 0;

  async function serveConn(conn: Deno.Conn): Promise<void> {
    let closed = false;
    // One deadline at a time, on a timer moved only when a deadline comes sooner than it
    // fires: a timer armed once or twice per request would cost more than the request.
    let dueReason: CutReason = "header-timeout";
    const deadline = new LazyDeadline(() => cut(dueReason));
    const close = () => {
      if (closed) return;
      closed = true;
      deadline.stop();
      try {
        conn.close();
      } catch { /* already closed */ }
    };
    const state = { idle: true, close };
    open.set(conn, state);
    const cut = (reason: CutReason) => {
      if (!closed) opts.onCut?.(reason);
      close();
    };
    const arm = (reason: CutReason, ms: number) => {
      dueReason = reason;
      deadline.set(ms);
    };
    const disarm = () => deadline.clear();
    let expired = false;
    const lifetime = setTimeout(() => {
      expired = true;
      // A request being handled is answered first (with `connection: close`).
      if (state.idle) cut("lifetime");
    }, maxLifetimeMs);
    (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
    const input = new Input(conn);
    const refuse431 = async () => {
      await input.write(rawResponse("431 Request Header Fields Too Large", "headers too large\n"))
        .catch(() => {});
      cut("header-too-large");
    };
    try {
      while (!closed && !stopping) {
        arm("header-timeout", headerTimeoutMs);
        // The end of the header block is searched in the bytes received since the last look
        // only (3 back: a blank line may straddle two reads).
        let end = headerEnd(input, input.start);
        while (end < 0) {
          const looked = input.end - input.start;
          if (looked > maxHeaderBytes) return await refuse431();
          if (!await input.fill()) return;
          end = headerEnd(input, input.start + Math.max(0, looked - 3));
        }
        if (end - input.start > maxHeaderBytes + 4) return await refuse431();
        state.idle = false;
        const head = parseHead(latin1.decode(input.take(end)));
        if (head instanceof Refused) {
          await input.write(rawResponse(head.status, `${head.message}\n`)).catch(() => {});
          return close();
        }
        // A body already received whole (a delivery's usually is) is handed over as it is:
        // a stream would cost more than the rest of the request.
        const { framing } = head;
        const whole = typeof framing === "object" && input.end - input.start >= framing.length
          ? input.take(input.start + framing.length).slice()
          : undefined;
        const body = framing === "none" || whole ? undefined : new BodyReader(input, framing);
        if (body) {
          arm("body-timeout", bodyTimeoutMs);
          body.onEnd = disarm;
          if (/100-continue/i.test(head.headers.expect ?? "")) {
            await input.write(encoder.encode("HTTP/1.1 100 Continue\r\n\r\n"));
          }
        } else {
          disarm();
        }
        let answering: Promise<FastAnswer> | undefined;
        try {
          answering = body || !opts.fast ? undefined : opts.fast({
            method: head.method,
            target: head.target,
            headers: head.headers,
            body: whole ?? new Uint8Array(0),
          });
        } catch {
          answering = Promise.resolve(INTERNAL_ERROR);
        }
        if (answering) {
          const answer = await answering.catch(() => INTERNAL_ERROR);
          const keep = head.keepAlive && !stopping && !expired;
          await input.write(answerBytes(
            answer.status,
            "",
            headerLines(answer.headers),
            encoder.encode(answer.body),
            head.method === "HEAD",
            keep,
          ));
          if (!keep) return close();
          state.idle = true;
          continue;
        }
        let request: Request;
        try {
          request = new Request(`${scheme}://${head.headers.host || "localhost"}${head.target}`, {
            method: head.method,
            headers: head.headers,
            body: whole ?? body?.stream(),
          });
          if (whole) wholeBodies.add(request);
        } catch (err) {
          await input.write(
            rawResponse("400 Bad Request", `bad request: ${(err as Error).message}\n`),
          ).catch(() => {});
          return close();
        }
        const res = await Promise.resolve()
          .then(() => handler(request))
          .catch(() =>
            new Response(INTERNAL_ERROR.body, { status: 500, headers: INTERNAL_ERROR.headers })
          );
        // The next request starts where this body ends: when the handler did not read it
        // all, or anyone asked for it, the connection ends with this answer.
        const keep = head.keepAlive && (body?.done ?? true) && !stopping && !expired &&
          !/\bclose\b/i.test(res.headers.get("connection") ?? "");
        await input.write(await serialize(res, head.method === "HEAD", keep));
        if (!keep) return close();
        state.idle = true;
      }
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
      const client = (conn.remoteAddr as Deno.NetAddr).hostname;
      const fromClient = perClient.get(client) ?? 0;
      const refusal = open.size >= maxConnections
        ? "connections"
        : fromClient >= maxPerClient
        ? "client-connections"
        : undefined;
      if (refusal) {
        opts.onCut?.(refusal);
        const why = refusal === "connections"
          ? "too many connections\n"
          : "too many connections from your address\n";
        conn.write(rawResponse("503 Service Unavailable", why, "retry-after: 1\r\n"))
          .catch(() => {}).finally(() => conn.close());
        continue;
      }
      perClient.set(client, fromClient + 1);
      const running = serveConn(conn).finally(() => {
        serving.delete(running);
        const left = perClient.get(client)! - 1;
        if (left === 0) perClient.delete(client);
        else perClient.set(client, left);
      });
      serving.add(running);
    }
  })().catch(() => {});

  return {
    addr: listener.addr as Deno.NetAddr,
    get headerBytesScanned() {
      return scanned;
    },
    async shutdown() {
      stopping = true;
      listener.close();
      await accepting;
      // Connections between requests are dropped; requests in flight are answered, with
      // `connection: close`.
      for (const { idle, close } of open.values()) if (idle) close();
      await Promise.all(serving);
    },
  };

  /** Where the header block in `input` ends (after its blank line), looking from `from`; or -1. */
  function headerEnd(input: Input, from: number): number {
    const bytes = input.buf.subarray(0, input.end);
    scanned += input.end - from;
    for (let i = bytes.indexOf(0x0a, from); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
      if (bytes[i + 1] === 0x0a) return i + 2;
      if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 3;
    }
    return -1;
  }
}

/** The bytes received on a connection and not yet used, read into one growing buffer. */
class Input {
  buf = new Uint8Array(4 * 1024);
  start = 0;
  end = 0;
  constructor(readonly conn: Deno.Conn) {}

  /** Read more after `end` (moving or growing the buffer when full); false at the end of input. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      const used = this.end - this.start;
      if (this.start > 0 && used < this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(this.buf.length * 2);
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = used;
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** The unused bytes up to `to` (a view, valid until the next fill), now used. */
  take(to: number): Uint8Array {
    const out = this.buf.subarray(this.start, to);
    this.start = to;
    return out;
  }

  async write(data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.length;) at += await this.conn.write(data.subarray(at));
  }
}

/** How a request's body is framed. */
type Framing = "none" | "chunked" | { length: number };

/** A request's line and headers, parsed. */
interface Head {
  method: string;
  target: string;
  /** By lower-case name; a repeated header's values joined by ", ". */
  headers: Record<string, string>;
  framing: Framing;
  keepAlive: boolean;
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/** Parse a header block (its final blank line included), or say why it is refused. */
function parseHead(text: string): Head | Refused {
  const lines = text.split(/\r?\n/);
  // A client may send empty lines before a request (RFC 9112, section 2.2).
  while (lines.length > 2 && lines[0] === "") lines.shift();
  const line = REQUEST_LINE.exec(lines[0]);
  if (!line) return new Refused("400 Bad Request", "malformed request line");
  if (!line[2].startsWith("/")) {
    return new Refused("400 Bad Request", "request target must be a path");
  }
  // A plain record: `Request` takes it at a fifth of the cost of a `Headers`.
  const headers: Record<string, string> = Object.create(null);
  for (const raw of lines.slice(1, -2)) {
    const field = HEADER_LINE.exec(raw);
    if (!field) return new Refused("400 Bad Request", "malformed header line");
    const name = field[1].toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${field[2]}` : field[2];
  }
  const keepAlive = keepsAlive(line[3], headers.connection ?? "");
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  let framing: Framing = "none";
  if (te !== undefined) {
    // Both framings in one request is how requests are smuggled past proxies.
    if (cl !== undefined || !isChunked(te)) {
      return new Refused("400 Bad Request", "unsupported transfer-encoding");
    }
    framing = "chunked";
  } else if (cl !== undefined) {
    const length = contentLength(cl);
    if (length === undefined) return new Refused("400 Bad Request", "malformed content-length");
    if (length > 0) framing = { length };
  }
  if (framing !== "none" && (line[1] === "GET" || line[1] === "HEAD")) {
    return new Refused("400 Bad Request", `${line[1]} with a body`);
  }
  return { method: line[1], target: line[2], headers, framing, keepAlive };
}

/** The body of one request, read from the connection as the handler pulls it. */
class BodyReader {
  /** Whether the body was read to its end, so the next request starts after it. */
  done = false;
  /** Called once when the body was read to its end. */
  onEnd?: () => void;
  constructor(readonly input: Input, readonly framing: Exclude<Framing, "none">) {}

  stream(): ReadableStream<Uint8Array> {
    // Pulled by hand: `ReadableStream.from` costs twice as much per request.
    const chunks = this.#chunks();
    return new ReadableStream({
      async pull(controller) {
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
  }

  async *#chunks(): AsyncGenerator<Uint8Array> {
    if (this.framing === "chunked") yield* this.#chunked();
    else yield* this.#bytes(this.framing.length);
    this.done = true;
    this.onEnd?.();
  }

  /** `n` bytes, as they arrive. */
  async *#bytes(n: number): AsyncGenerator<Uint8Array> {
    const input = this.input;
    while (n > 0) {
      if (input.start === input.end && !await input.fill()) throw new Error("body cut short");
      const take = Math.min(n, input.end - input.start);
      n -= take;
      yield input.take(input.start + take).slice();
    }
  }

  /** Size lines, data and their CRLFs, and after the last (0) chunk, trailers to an empty line. */
  async *#chunked(): AsyncGenerator<Uint8Array> {
    let trailers = false;
    while (true) {
      const line = await this.#line();
      if (trailers) {
        if (line === "") return;
        continue;
      }
      const n = chunkSize(line);
      if (n === undefined) throw new Error("malformed chunk size");
      if (n === 0) {
        trailers = true;
        continue;
      }
      yield* this.#bytes(n);
      if (await this.#line() !== "") throw new Error("malformed chunk end");
    }
  }

  /** One line (without its end), at most 1 KiB. */
  async #line(): Promise<string> {
    const input = this.input;
    for (let from = input.start;;) {
      const nl = input.buf.subarray(from, input.end).indexOf(0x0a);
      if (nl >= 0) {
        return latin1.decode(input.take(from + nl + 1)).replace(/\r?\n$/, "");
      }
      if (input.end - input.start > 1024) throw new Error("chunk line too long");
      from = input.end;
      if (!await input.fill()) throw new Error("body cut short");
    }
  }
}

const BODILESS = new Set([204, 304]);

/** The answer's bytes: status line, headers, and its body read whole. */
async function serialize(res: Response, head: boolean, keepAlive: boolean): Promise<Uint8Array> {
  const body = BODILESS.has(res.status) ? new Uint8Array(0) : await res.bytes();
  let lines = "";
  // forEach, not for…of: the iterator's protocol cost four times as much per answer.
  res.headers.forEach((value, name) => lines += headerLine(name, value));
  return answerBytes(res.status, res.statusText, lines, body, head, keepAlive);
}

/** `name: value` lines of `headers`, framing headers left out (the front writes its own). */
function headerLines(headers: Readonly<Record<string, string>>): string {
  let lines = "";
  for (const name in headers) lines += headerLine(name, headers[name]);
  return lines;
}

function headerLine(name: string, value: string): string {
  return name === "content-length" || name === "connection" || name === "transfer-encoding"
    ? ""
    : `${name}: ${value}\r\n`;
}

/** Status line, `lines`, the front's framing, then `body` (none for a HEAD request). */
function answerBytes(
  status: number,
  statusText: string,
  lines: string,
  body: Uint8Array,
  head: boolean,
  keepAlive: boolean,
): Uint8Array {
  let text = `HTTP/1.1 ${status} ${statusText}\r\n${lines}`;
  if (!BODILESS.has(status)) text += `content-length: ${body.length}\r\n`;
  text += keepAlive ? "\r\n" : "connection: close\r\n\r\n";
  const bytes = encoder.encode(text);
  if (head || body.length === 0) return bytes;
  const out = new Uint8Array(bytes.length + body.length);
  out.set(bytes);
  out.set(body, bytes.length);
  return out;
}
