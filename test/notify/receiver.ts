/**
 * A notification receiver on 127.0.0.1 for tests: records every request and answers what the
 * test scripts (200 by default).
 *
 * @module
 */

/** One request received. */
export interface Received {
  path: string;
  headers: Headers;
  body: string;
  at: number;
}

/** A running receiver. */
export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  received: Received[];
  /** Answer the next requests with these, in order (then 200). */
  script(...answers: (Response | "hang")[]): void;
  close(): Promise<void>;
}

/**
 * Start a receiver. A `"hang"` answer holds the request until the receiver closes.
 *
 * @example
 * ```ts ignore
 * const r = startReceiver();
 * r.script(new Response("", { status: 503 }));
 * await r.close();
 * ```
 */
export function startReceiver(): Receiver {
  const received: Received[] = [];
  const answers: (Response | "hang")[] = [];
  const closing = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, signal: closing.signal },
    async (req) => {
      received.push({
        path: new URL(req.url).pathname,
        headers: req.headers,
        body: await req.text(),
        at: Date.now(),
      });
      const answer = answers.shift() ?? new Response("ok");
      if (answer !== "hang") return answer;
      await new Promise((resolve) => closing.signal.addEventListener("abort", resolve));
      return new Response("closed", { status: 503 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    script: (...a) => answers.push(...a),
    close: async () => {
      closing.abort();
      await server.finished;
    },
  };
}
