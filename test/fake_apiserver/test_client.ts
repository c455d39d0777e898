/**
 * Small HTTP helpers the fake API server's own tests use to talk to it.
 *
 * @module
 */

import type { FakeApiServer } from "./server.ts";

/** A decoded response. */
export interface CallResult {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/**
 * Send one authenticated request and decode the JSON answer.
 *
 * @example
 * ```ts
 * import { call } from "./test_client.ts";
 * import { startFakeApiServer } from "./server.ts";
 * const api = await startFakeApiServer();
 * (await call(api, "GET", "/api/v1/namespaces/default/pods")).status; // 200
 * await api.stop();
 * ```
 */
export async function call(
  api: FakeApiServer,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<CallResult> {
  const res = await fetch(api.url + path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, "content-type": contentType },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** One decoded watch event. */
export interface WatchEvent {
  type: string;
  // deno-lint-ignore no-explicit-any
  object: any;
}

/**
 * Reads a watch stream event by event.
 *
 * @example
 * ```ts
 * import { WatchReader } from "./test_client.ts";
 * import { startFakeApiServer } from "./server.ts";
 * const api = await startFakeApiServer();
 * const watch = await WatchReader.open(api, "/api/v1/pods?watch=1");
 * await watch.close();
 * await api.stop();
 * ```
 */
export class WatchReader {
  #buffer = "";
  #decoder = new TextDecoder();

  private constructor(
    readonly response: Response,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
  ) {}

  /** Start a watch request. */
  static async open(api: FakeApiServer, path: string): Promise<WatchReader> {
    const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${api.token}` } });
    return new WatchReader(res, res.body!.getReader());
  }

  /** The next event, or undefined when the server ended the stream. */
  async next(): Promise<WatchEvent | undefined> {
    while (!this.#buffer.includes("\n")) {
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
    const at = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, at);
    this.#buffer = this.#buffer.slice(at + 1);
    return JSON.parse(line);
  }

  /** The next `n` events. */
  async take(n: number): Promise<WatchEvent[]> {
    const events: WatchEvent[] = [];
    for (let i = 0; i < n; i++) {
      const event = await this.next();
      if (!event) break;
      events.push(event);
    }
    return events;
  }

  /** Stop reading and release the connection. */
  async close(): Promise<void> {
    await this.reader.cancel();
  }
}
