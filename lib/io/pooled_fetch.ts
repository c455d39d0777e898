/**
 * `fetch` for short requests over HTTP/1.1 connections kept open between them, a pool per
 * origin. Deno's `fetch` spends about twice the CPU per request in its streams and
 * Request/Response machinery; for the webhook, where each delivery sends two requests, that was
 * a fifth of the service's CPU. Only what Argoos's API and registry clients use is built:
 *
 * - redirects are answered as they are (`redirect: "manual"`; callers follow by hand);
 * - bodies are strings, bytes or `URLSearchParams`; no cookies, no HTTP/2, no `Expect`;
 * - an answer is read ahead up to {@linkcode READ_AHEAD_BYTES}: one that ends within it is
 *   handed over whole, a longer one is streamed from the connection as it is read;
 * - with a proxy configured (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`), every request goes
 *   through Deno's `fetch`, which honours them and `NO_PROXY`.
 *
 * An idle connection keeps a read pending, so one the server closes leaves the pool at once;
 * one idle for `idleMs` is closed. A request that fails on a reused
 * connection before any byte of its answer arrived is sent once more on a new one when it is a
 * `GET` or `HEAD`, or when it could not be written at all. Lengths, chunks and the connection's
 * keep-alive are read as strictly as the front reads requests (`http1.ts`). There is no timeout
 * of its own, as with `fetch`: pass a signal.
 *
 * @module
 */

import { chunkSize, contentLength, isChunked, keepsAlive } from "./http1.ts";
import { concatBytes } from "./read_capped.ts";

/** An answer's bytes read before it is handed over; a longer answer is streamed. */
export const READ_AHEAD_BYTES = 256 * 1024;

/** Longest header block or chunk-size line accepted from a server. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Origins kept before those with no connection open are forgotten. */
const MAX_POOLS = 64;

/** Most `1xx` answers before the final one, and trailer lines after a chunked body. */
const MAX_INFORMATIONAL = 8;
const MAX_TRAILERS = 64;

/** `connecting`, or the signal's reason once it aborts (a late connection is closed). */
async function untilAborted<T extends Deno.Conn>(
  connecting: Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (!signal) return await connecting;
  signal.throwIfAborted();
  const aborted = Promise.withResolvers<never>();
  const onAbort = () => aborted.reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([connecting, aborted.promise]);
  } catch (err) {
    connecting.then((conn) => conn.close(), () => {});
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Options of {@linkcode pooledFetch}. */
export interface PooledFetchOptions {
  /** Root certificates (PEM) trusted besides the default ones. */
  caCerts?: string[];
  /** Client certificate (PEM), with `key`. */
  cert?: string;
  /** Client key (PEM), with `cert`. */
  key?: string;
  /** Idle connections kept per origin; default 64. */
  maxIdle?: number;
  /** An idle connection older than this (ms) is closed instead of reused; default 4,000. */
  idleMs?: number;
}

/** A `fetch` with connections of its own, released by `close`. */
export interface PooledFetch {
  (input: string | URL, init?: RequestInit): Promise<Response>;
  /** Connections open and waiting for a request, over all origins. */
  idle(): number;
  /** Origins it keeps a pool for (at most 64 past those with a connection open). */
  origins(): number;
  /** Closes every connection; requests in flight fail. */
  close(): void;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * A {@linkcode PooledFetch}: `fetch`'s contract for the requests described in the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pooledFetch } from "./pooled_fetch.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   Response.json({ ok: true }));
 * const send = pooledFetch();
 * const answer = await send(`http://127.0.0.1:${server.addr.port}/`);
 * assert.deepEqual(await answer.json(), { ok: true });
 * send.close();
 * await server.shutdown();
 * ```
 */
export function pooledFetch(opts: PooledFetchOptions = {}): PooledFetch {
  if (proxied()) return viaFetch(opts);
  const pools = new Map<string, Pool>();
  let closed = false;
  const send = (input: string | URL, init: RequestInit = {}) => {
    if (closed) return Promise.reject(new TypeError("pooledFetch: closed"));
    const url = typeof input === "string" ? new URL(input) : input;
    let pool = pools.get(url.origin);
    if (!pool) {
      // One pool per origin ever asked: those with no connection left go first.
      if (pools.size >= MAX_POOLS) {
        for (const [origin, p] of pools) if (p.empty) pools.delete(origin);
      }
      pools.set(url.origin, pool = new Pool(url, opts));
    }
    return pool.send(url, init);
  };
  return Object.assign(send, {
    idle: () => pools.values().reduce((n, pool) => n + pool.idle, 0),
    origins: () => pools.size,
    close() {
      closed = true;
      for (const pool of pools.values()) pool.close();
      pools.clear();
    },
  });
}

/** Whether the environment names a proxy (unreadable environment: none). */
function proxied(): boolean {
  try {
    return ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"]
      .some((name) => Deno.env.get(name));
  } catch {
    return false;
  }
}

/**
 * A `Deno.HttpClient` for these TLS settings: the CA certificates trusted besides the default
 * ones, and a client certificate when `cert` and `key` are both given; undefined when there is
 * nothing to set (the default client serves).
 *
 * @example
 * ```ts
 * import { tlsHttpClient } from "./pooled_fetch.ts";
 * tlsHttpClient({}); // undefined
 * ```
 */
export function tlsHttpClient(
  { caCerts, cert, key }: Pick<PooledFetchOptions, "caCerts" | "cert" | "key">,
): Deno.HttpClient | undefined {
  if (cert && key) return Deno.createHttpClient({ caCerts, cert, key });
  return caCerts ? Deno.createHttpClient({ caCerts }) : undefined;
}

/** Deno's `fetch` with the same TLS settings. */
function viaFetch(opts: PooledFetchOptions): PooledFetch {
  const client = tlsHttpClient(opts);
  const send = (input: string | URL, init: RequestInit = {}) =>
    fetch(input, { ...init, redirect: "manual", client });
  return Object.assign(send, { idle: () => 0, origins: () => 0, close: () => client?.close() });
}

/** The connections to one origin. */
class Pool {
  /** Oldest first. */
  #idle: Connection[] = [];
  #busy = new Set<Connection>();
  #closed = false;
  /** Connections being opened: the pool is not forgotten meanwhile. */
  #opening = 0;
  #sweep?: ReturnType<typeof setTimeout>;

  constructor(readonly url: URL, readonly opts: PooledFetchOptions) {}

  get idle(): number {
    return this.#idle.length;
  }

  /** Whether it holds no connection, nor is opening one. */
  get empty(): boolean {
    return this.#idle.length === 0 && this.#busy.size === 0 && this.#opening === 0;
  }

  async send(url: URL, init: RequestInit): Promise<Response> {
    const method = (init.method ?? "GET").toUpperCase();
    const request = encodeRequest(method, url, init);
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    for (let retry = false;; retry = true) {
      // Sent again, it goes on a new connection: a request the server drops is sent twice.
      const conn = (retry ? undefined : this.#take()) ?? await this.#open(signal);
      const reused = conn.uses > 0;
      const onAbort = () => conn.close();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const answer = await conn.exchange(request, method);
        return this.#respond(conn, answer, signal, onAbort);
      } catch (err) {
        signal?.removeEventListener("abort", onAbort);
        this.#drop(conn);
        if (signal?.aborted) throw signal.reason;
        const again = reused && conn.nothingReceived &&
          (conn.nothingWritten || method === "GET" || method === "HEAD");
        if (!again) throw networkError(url, err);
      }
    }
  }

  /** The answer as a Response; the connection goes back to the pool once its body is read. */
  async #respond(
    conn: Connection,
    answer: Answer,
    signal: AbortSignal | undefined,
    onAbort: () => void,
  ): Promise<Response> {
    const done = (reusable: boolean) => {
      signal?.removeEventListener("abort", onAbort);
      // Bytes left after the answer (a server sending more than it said): never reused.
      if (reusable && answer.keepAlive && conn.drained) this.#release(conn);
      else this.#drop(conn);
    };
    const head = { status: answer.status, statusText: answer.statusText, headers: answer.headers };
    if (!answer.body) {
      done(true);
      return this.#response(null, head);
    }
    const read = answer.body;
    const first: Uint8Array<ArrayBuffer>[] = [];
    let size = 0;
    try {
      for (let chunk; size <= READ_AHEAD_BYTES && (chunk = await read()) !== null;) {
        first.push(chunk);
        size += chunk.length;
      }
    } catch (err) {
      done(false);
      if (signal?.aborted) throw signal.reason;
      throw networkError(this.url, err);
    }
    if (size <= READ_AHEAD_BYTES) {
      done(true);
      return this.#response(concatBytes(first, size), head);
    }
    const stream = new ReadableStream<Uint8Array>({
      type: "bytes",
      async pull(controller) {
        const chunk = first.shift() ?? await read().catch((err) => {
          done(false);
          throw signal?.aborted ? signal.reason : networkError(conn.url, err);
        });
        if (chunk === null) {
          done(true);
          controller.close();
        } else controller.enqueue(chunk);
      },
      cancel: () => done(false),
    });
    return this.#response(stream, head);
  }

  /** The Response, or a network error for an answer fetch would not make one of (a 600). */
  #response(body: BodyInit | null, head: ResponseInit): Response {
    try {
      return new Response(body, head);
    } catch (err) {
      if (body instanceof ReadableStream) body.cancel().catch(() => {});
      throw networkError(this.url, err);
    }
  }

  #take(): Connection | undefined {
    const now = performance.now();
    for (let conn; (conn = this.#idle.pop());) {
      if (conn.alive && now - conn.idleSince < (this.opts.idleMs ?? 4_000)) {
        conn.take();
        this.#busy.add(conn);
        return conn;
      }
      conn.close();
    }
  }

  async #open(signal?: AbortSignal): Promise<Connection> {
    const { hostname, port, protocol } = this.url;
    const host = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
    const { caCerts, cert, key } = this.opts;
    let socket: Deno.Conn;
    this.#opening++;
    try {
      socket = protocol === "https:"
        ? await untilAborted(
          Deno.connectTls({
            hostname: host,
            port: Number(port || 443),
            caCerts,
            ...(cert && key ? { cert, key } : {}),
          }),
          signal,
        )
        : await Deno.connect({ hostname: host, port: Number(port || 80), signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw networkError(this.url, err);
    } finally {
      this.#opening--;
    }
    const conn = new Connection(socket, this.url, () => this.#forget(conn));
    if (this.#closed || signal?.aborted) {
      conn.close();
      signal?.throwIfAborted();
      throw networkError(this.url, new Error("client closed"));
    }
    this.#busy.add(conn);
    return conn;
  }

  #release(conn: Connection): void {
    this.#busy.delete(conn);
    if (this.#closed || this.#idle.length >= (this.opts.maxIdle ?? 64)) return conn.close();
    conn.idle();
    this.#idle.push(conn);
    this.#armSweep();
  }

  /**
   * Closes connections idle past `idleMs`, on one timer per pool that runs while any is idle
   * (the list is oldest first): servers that keep idle connections for long are not held.
   */
  #armSweep(): void {
    if (this.#sweep !== undefined) return;
    const idleMs = this.opts.idleMs ?? 4_000;
    const sweep = this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = performance.now();
      while (this.#idle.length > 0 && now - this.#idle[0].idleSince >= idleMs) {
        this.#idle.shift()!.close();
      }
      if (this.#idle.length > 0) this.#armSweep();
    }, idleMs);
    Deno.unrefTimer(sweep);
  }

  #drop(conn: Connection): void {
    this.#busy.delete(conn);
    conn.close();
  }

  /** A connection that ended by itself, idle or busy (closed on an abort after it was read). */
  #forget(conn: Connection): void {
    const at = this.#idle.indexOf(conn);
    if (at >= 0) this.#idle.splice(at, 1);
    this.#busy.delete(conn);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#sweep);
    for (const conn of [...this.#idle, ...this.#busy]) conn.close();
    this.#idle = [];
    this.#busy.clear();
  }
}

/** A request's bytes. */
function encodeRequest(method: string, url: URL, init: RequestInit): Uint8Array {
  const { body, type } = encodeBody(init.body);
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  let typed = false;
  let named = false;
  const add = (name: string, value: string) => {
    if (/[\r\n]/.test(name + value)) throw new TypeError(`invalid header ${name}`);
    const lower = name.toLowerCase();
    if (lower === "host" || lower === "content-length" || lower === "connection") return;
    if (lower === "content-type") typed = true;
    if (lower === "user-agent") named = true;
    head += `${name}: ${value}\r\n`;
  };
  const headers = init.headers ?? {};
  if (headers instanceof Headers || Array.isArray(headers)) {
    for (const [name, value] of headers) add(name, value);
  } else for (const [name, value] of Object.entries(headers)) add(name, value);
  if (type && !typed) head += `content-type: ${type}\r\n`;
  // Registries and the firewalls before them may refuse a request that names no agent.
  if (!named) head += "user-agent: argoos\r\n";
  if (body || method === "POST" || method === "PUT" || method === "PATCH") {
    head += `content-length: ${body?.length ?? 0}\r\n`;
  }
  const bytes = encoder.encode(head + "\r\n");
  if (!body?.length) return bytes;
  const all = new Uint8Array(bytes.length + body.length);
  all.set(bytes);
  all.set(body, bytes.length);
  return all;
}

function encodeBody(body: RequestInit["body"]): { body?: Uint8Array; type?: string } {
  if (body === undefined || body === null) return {};
  if (typeof body === "string") {
    return { body: encoder.encode(body), type: "text/plain;charset=UTF-8" };
  }
  if (body instanceof URLSearchParams) {
    return {
      body: encoder.encode(body.toString()),
      type: "application/x-www-form-urlencoded;charset=UTF-8",
    };
  }
  if (body instanceof Uint8Array) return { body };
  throw new TypeError("pooledFetch sends string, Uint8Array or URLSearchParams bodies only");
}

/** A status and headers, with a reader of the body (null: none). */
interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  keepAlive: boolean;
  body?: () => Promise<Uint8Array<ArrayBuffer> | null>;
}

/** One connection: one exchange at a time, its unread bytes kept between reads. */
class Connection {
  /** Exchanges completed on it. */
  uses = 0;
  alive = true;
  idleSince = 0;
  nothingWritten = true;
  nothingReceived = true;
  #buf = new Uint8Array(16 * 1024);
  #parked = false;
  #start = 0;
  #end = 0;
  /** The read pending while idle (it watches for the server closing), resumed by the next use. */
  #pending?: Promise<number | null>;

  constructor(
    readonly socket: Deno.Conn,
    readonly url: URL,
    readonly onEnded: () => void,
  ) {}

  async exchange(request: Uint8Array, method: string): Promise<Answer> {
    this.nothingWritten = true;
    this.nothingReceived = true;
    for (let at = 0; at < request.length;) {
      at += await this.socket.write(request.subarray(at));
      this.nothingWritten = false;
    }
    for (let informational = 0;; informational++) {
      const answer = await this.#head();
      this.nothingReceived = false;
      if (answer.status >= 100 && answer.status < 200) {
        if (informational >= MAX_INFORMATIONAL) throw new Error("too many 1xx answers");
        continue;
      }
      this.uses++;
      if (method === "HEAD" || answer.status === 204 || answer.status === 304) return answer;
      const te = fieldOf(answer, "transfer-encoding");
      const cl = fieldOf(answer, "content-length");
      if (te !== undefined) {
        if (!isChunked(te)) throw new Error(`unsupported transfer-encoding ${te}`);
        // Chunks frame the body whatever a Content-Length says (RFC 9112, 6.3): a reader
        // trusting the length would take a body of any size under its cap.
        answer.headers = answer.headers.filter(([n]) => n !== "content-length");
        answer.body = this.#chunked();
      } else if (cl !== undefined) {
        const n = contentLength(cl);
        if (n === undefined) throw new Error(`bad content-length ${cl}`);
        if (n > 0) answer.body = this.#sized(n);
      } else {
        // Delimited by the end of the connection: never reused.
        answer.keepAlive = false;
        answer.body = this.#untilEnd();
      }
      return answer;
    }
  }

  /** Whether every byte received was taken. */
  get drained(): boolean {
    return this.#start === this.#end;
  }

  /** Parked in the pool: a read stays pending to see the server close it. */
  idle(): void {
    this.idleSince = performance.now();
    this.#parked = true;
    const pending = this.#pending = this.#read();
    // Settled while still parked: the server closed it, or sent bytes nobody asked for. Once
    // taken, what the read brings is the answer's (one may come while the request is written).
    const ended = () => {
      if (this.#parked && this.#pending === pending) this.close();
    };
    pending.then(ended, ended);
  }

  /** Taken from the pool for a request. */
  take(): void {
    this.#parked = false;
  }

  close(): void {
    if (!this.alive) return;
    this.alive = false;
    try {
      this.socket.close();
    } catch {
      // Closed already.
    }
    this.onEnded();
  }

  /** Reads more bytes after `#end`; null at the end of the stream. */
  #read(): Promise<number | null> {
    if (this.#end === this.#buf.length) {
      // Full up to its end: move the unread bytes to the front, into a larger buffer when
      // they fill more than half (a head or line is bounded by MAX_HEAD_BYTES).
      const live = this.#end - this.#start;
      if (live * 2 > this.#buf.length) {
        const grown = new Uint8Array(this.#buf.length * 2);
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      } else this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = live;
    }
    return this.socket.read(this.#buf.subarray(this.#end));
  }

  /** More bytes into the buffer (the idle read's first); false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const pending = this.#pending;
    this.#pending = undefined;
    const n = await (pending ?? this.#read());
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** Takes the bytes up to `to`; an empty buffer starts again at its front. */
  #advance(to: number): void {
    this.#start = to;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /**
   * The bytes up to `delimiter` (taken with it), searched once each: the bytes already looked
   * at are counted from `#start`, since a read may move them to the front of the buffer.
   */
  async #until<T>(
    delimiter: "\r\n\r\n" | "\r\n",
    tooLong: string,
    read: (bytes: Uint8Array) => T,
  ): Promise<T> {
    const width = delimiter.length;
    for (let looked = 0;;) {
      const from = this.#start + Math.max(0, looked - (width - 1));
      const at = width === 4
        ? indexOfCrlfCrlf(this.#buf, from, this.#end)
        : indexOfCrlf(this.#buf, from, this.#end);
      if (at >= 0) {
        const value = read(this.#buf.subarray(this.#start, at));
        this.#advance(at + width);
        return value;
      }
      looked = this.#end - this.#start;
      if (looked > MAX_HEAD_BYTES) throw new Error(tooLong);
      if (!await this.#fill()) throw new Error("connection closed by the server");
    }
  }

  #head(): Promise<Answer> {
    return this.#until("\r\n\r\n", "answer head too large", parseHead);
  }

  #line(): Promise<string> {
    return this.#until("\r\n", "chunk line too long", (bytes) => latin1.decode(bytes));
  }

  /** Up to `max` buffered bytes (reading when none are), copied out. */
  async #some(max: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#end === this.#start && !await this.#fill()) {
      throw new Error("connection closed by the server");
    }
    const n = Math.min(max, this.#end - this.#start);
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#advance(this.#start + n);
    return out;
  }

  #sized(length: number): () => Promise<Uint8Array<ArrayBuffer> | null> {
    let left = length;
    return async () => {
      if (left === 0) return null;
      const chunk = await this.#some(left);
      left -= chunk.length;
      return chunk;
    };
  }

  #chunked(): () => Promise<Uint8Array<ArrayBuffer> | null> {
    let left = 0;
    let ended = false;
    return async () => {
      if (ended) return null;
      if (left === 0) {
        const size = chunkSize(await this.#line());
        if (size === undefined) throw new Error("bad chunk size");
        if (size === 0) {
          // Trailers, up to the empty line that ends the answer.
          for (let n = 0; (await this.#line()) !== ""; n++) {
            if (n >= MAX_TRAILERS) throw new Error("too many trailers");
          }
          ended = true;
          return null;
        }
        left = size;
      }
      const chunk = await this.#some(left);
      left -= chunk.length;
      if (left === 0 && (await this.#line()) !== "") throw new Error("bad chunk end");
      return chunk;
    };
  }

  #untilEnd(): () => Promise<Uint8Array<ArrayBuffer> | null> {
    return async () => {
      if (this.#end === this.#start && !await this.#fill()) return null;
      return this.#some(Infinity);
    };
  }
}

/**
 * Status line and fields of an answer's head (its bytes, without the blank line). Each name and
 * value is decoded on its own: a slice of one string of the whole head would keep all of it
 * alive for as long as one value is kept (a registry's digest, 10,000 times: 2.5 MB).
 */
function parseHead(head: Uint8Array): Answer {
  let end = indexOfCrlf(head, 0, head.length);
  if (end < 0) end = head.length;
  const first = latin1.decode(head.subarray(0, end));
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(first);
  if (!status) throw new Error(`not an HTTP/1.1 answer: ${first.slice(0, 100)}`);
  const headers: [string, string][] = [];
  for (let at = end + 2; at < head.length; at = end + 2) {
    end = indexOfCrlf(head, at, head.length);
    if (end < 0) end = head.length;
    const colon = head.indexOf(58, at); // ":"
    if (colon <= at || colon >= end) throw new Error("malformed answer header");
    let from = colon + 1;
    let to = end;
    while (from < to && (head[from] === 32 || head[from] === 9)) from++;
    while (to > from && (head[to - 1] === 32 || head[to - 1] === 9)) to--;
    const name = latin1.decode(head.subarray(at, colon)).trim().toLowerCase();
    headers.push([name, latin1.decode(head.subarray(from, to))]);
  }
  const answer = { status: Number(status[2]), statusText: status[3] ?? "", headers };
  return { ...answer, keepAlive: keepsAlive(status[1], fieldOf(answer, "connection") ?? "") };
}

/** The values of the answer's field `name`, joined by ", " as repeated fields read; if any. */
function fieldOf(answer: Pick<Answer, "headers">, name: string): string | undefined {
  const values = answer.headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length ? values.join(", ") : undefined;
}

function indexOfCrlf(buf: Uint8Array, from: number, end: number): number {
  for (let i = buf.indexOf(13, from); i >= 0 && i + 1 < end; i = buf.indexOf(13, i + 1)) {
    if (buf[i + 1] === 10) return i;
  }
  return -1;
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number, end: number): number {
  for (let i = buf.indexOf(13, from); i >= 0 && i + 3 < end; i = buf.indexOf(13, i + 1)) {
    if (buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** What `fetch` rejects with when the network fails: a TypeError with the cause. */
function networkError(url: URL, cause: unknown): TypeError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TypeError(`error sending request for url (${url.origin}): ${why}`, { cause });
}
