/**
 * The benchmarks' webhook client: a distribution push notification for a seeded repository
 * of the fake cluster, sent until it is answered 200, as a registry sends it.
 *
 * It plays the registry, which runs on another machine in production: it writes each request
 * whole on a kept-alive connection and reads only the status line, the framing headers and
 * the body's length, so that the CPU it takes from Argoos on a shared machine is as little
 * as it can be (a general HTTP client cost about as much per delivery as Argoos's own reading
 * of the request).
 *
 * @module
 */

import { contentLength, keepsAlive } from "../lib/io/http1.ts";
import { seededDigest, seededName } from "./fake_cluster_process.ts";

const encoder = new TextEncoder();
/** Sends of one push at most: a service stuck at 503 ends the bench instead of spinning. */
const MAX_SENDS = 1_000;
const latin1 = new TextDecoder("latin1");

/** An answer as this client reads it. */
interface Answer {
  status: number;
  body: string;
  keepAlive: boolean;
}

/** One kept-alive connection to Argoos, one request at a time. */
class Connection {
  #buf = new Uint8Array(4 * 1024);
  #end = 0;

  constructor(readonly conn: Deno.TcpConn) {}

  /** Write `request` whole and read its answer; throws when the connection ends first. */
  async exchange(request: Uint8Array): Promise<Answer> {
    for (let at = 0; at < request.length;) at += await this.conn.write(request.subarray(at));
    let headEnd: number;
    while ((headEnd = this.#find()) < 0) await this.#fill();
    const lines = latin1.decode(this.#buf.subarray(0, headEnd)).split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!status) throw new Error(`not an HTTP answer: ${lines[0]}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    // Argoos's front always states the length of what it answers.
    const length = contentLength(headers.get("content-length") ?? "");
    if (length === undefined) throw new Error("an answer without a content-length");
    const bodyStart = headEnd + 4;
    while (this.#end < bodyStart + length) await this.#fill();
    const body = latin1.decode(this.#buf.subarray(bodyStart, bodyStart + length));
    // One request at a time: nothing may follow its answer.
    if (this.#end !== bodyStart + length) throw new Error("bytes after the answer");
    this.#end = 0;
    return {
      status: Number(status[2]),
      body,
      keepAlive: keepsAlive(status[1], headers.get("connection") ?? ""),
    };
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed already */ }
  }

  /** Where the header block's blank line starts, or -1. */
  #find(): number {
    const bytes = this.#buf.subarray(0, this.#end);
    for (
      let i = bytes.indexOf(0x0d);
      i >= 0 && i + 3 < bytes.length;
      i = bytes.indexOf(0x0d, i + 1)
    ) {
      if (bytes[i + 1] === 0x0a && bytes[i + 2] === 0x0d && bytes[i + 3] === 0x0a) return i;
    }
    return -1;
  }

  async #fill(): Promise<void> {
    if (this.#end === this.#buf.length) {
      const grown = new Uint8Array(this.#buf.length * 2);
      grown.set(this.#buf);
      this.#buf = grown;
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("connection closed before the answer's end");
    this.#end += n;
  }
}

/**
 * Sends pushes of seeded tags to one Argoos, counting what it had to send again.
 *
 * @example
 * ```ts ignore
 * import { PushClient } from "./push_client.ts";
 * const client = new PushClient("http://127.0.0.1:3000", "token", "127.0.0.1:5000");
 * await client.push(7, 1); // app-7:1.0.1
 * client.retried; // 0
 * client.close();
 * ```
 */
export class PushClient {
  /** `503` answers and failed connections met so far, each sent again. */
  retried = 0;
  readonly #target: URL;
  /** Connections between requests. */
  #idle: Connection[] = [];
  /** Every open connection, to close. */
  #open = new Set<Connection>();

  constructor(readonly url: string, readonly token: string, readonly registry: string) {
    this.#target = new URL(url);
  }

  /** Deliver the push of `1.0.<patch>` of the i-th seeded repository; resolves once answered 200. */
  async push(i: number, patch: number): Promise<void> {
    const body = encoder.encode(JSON.stringify({
      events: [{
        id: `bench-${i}-1.0.${patch}`,
        timestamp: new Date().toISOString(),
        action: "push",
        target: {
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          repository: seededName(i),
          digest: seededDigest(i, patch),
          tag: `1.0.${patch}`,
        },
        request: { host: this.registry },
      }],
    }));
    const head = encoder.encode(
      `POST /event HTTP/1.1\r\nhost: ${this.#target.host}\r\n` +
        "content-type: application/vnd.docker.distribution.events.v1+json\r\n" +
        `x-argoos-token: ${this.token}\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    const request = new Uint8Array(head.length + body.length);
    request.set(head);
    request.set(body, head.length);
    let failedConnections = 0;
    for (let sent = 1;; sent++) {
      let conn = this.#idle.pop();
      const reused = conn !== undefined;
      let answer: Answer | undefined;
      try {
        conn ??= await this.#connect();
        answer = await conn.exchange(request);
      } catch (err) {
        // A kept connection the service closed meanwhile (its idle deadline) is dropped, and
        // the push sent again; a new one that fails is tried again, as a registry does, a
        // few times.
        if (conn) this.#drop(conn);
        if (!reused && ++failedConnections > 5) throw err;
      }
      if (answer && conn) {
        if (answer.keepAlive) this.#idle.push(conn);
        else this.#drop(conn);
      }
      if (answer?.status === 200) return;
      // A 503 (the cap on deliveries or connections at once, which a client running at it
      // can meet, or reconciles not finished in time on a loaded machine) is sent again, as a
      // registry does (without its back-off, which would only idle), up to MAX_SENDS.
      if (!answer || answer.status === 503) {
        if (sent === MAX_SENDS) {
          throw new Error(
            `push of ${seededName(i)}:1.0.${patch} not answered 200 in ${sent} sends`,
          );
        }
        this.retried++;
        continue;
      }
      throw new Error(
        `push of ${seededName(i)}:1.0.${patch} answered ${answer.status}: ${answer.body}`,
      );
    }
  }

  /** Closes its connections. */
  close(): void {
    for (const conn of this.#open) conn.close();
    this.#open.clear();
    this.#idle = [];
  }

  async #connect(): Promise<Connection> {
    const conn = new Connection(
      await Deno.connect({
        hostname: this.#target.hostname,
        port: Number(this.#target.port || 80),
      }),
    );
    conn.conn.setNoDelay(true);
    this.#open.add(conn);
    return conn;
  }

  #drop(conn: Connection): void {
    conn.close();
    this.#open.delete(conn);
  }
}
