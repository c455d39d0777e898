/**
 * Reads the curl transcripts of a real registry (test/fixtures/registry-api/*.txt:
 * `> ` request lines, `< ` response lines, then an optional `--- body ---`) so stubs can
 * replay the exact responses.
 *
 * @module
 */

/**
 * One recorded exchange.
 *
 * @example
 * ```ts
 * import { loadTranscript, type Transcript } from "./transcript.ts";
 * const t: Transcript = await loadTranscript("head_unknown_tag.txt");
 * ```
 */
export interface Transcript {
  request: { method: string; target: string; headers: [string, string][] };
  response: { status: number; headers: [string, string][]; body: string };
}

const FIXTURES = new URL("../fixtures/registry-api/", import.meta.url);

/**
 * Load and parse a transcript by file name.
 *
 * @example
 * ```ts
 * import { loadTranscript } from "./transcript.ts";
 * const t = await loadTranscript("tags_list.txt");
 * t.response.status; // 200
 * ```
 */
export async function loadTranscript(name: string): Promise<Transcript> {
  return parseTranscript(await Deno.readTextFile(new URL(name, FIXTURES)));
}

/**
 * Parse transcript text.
 *
 * @example
 * ```ts
 * import { parseTranscript } from "./transcript.ts";
 * const t = parseTranscript("> GET /v2/ HTTP/1.1\n> \n< HTTP/1.1 200 OK\n< \n");
 * t.request.method; // "GET"
 * ```
 */
export function parseTranscript(text: string): Transcript {
  const [head, body = ""] = text.split("\n--- body ---\n");
  const req = head.split("\n").filter((l) => l.startsWith("> ")).map((l) => l.slice(2));
  const res = head.split("\n").filter((l) => l.startsWith("< ")).map((l) => l.slice(2));
  const [method, target] = req[0].split(" ");
  return {
    request: { method, target, headers: headerLines(req.slice(1)) },
    response: {
      status: Number(res[0].split(" ")[1]),
      headers: headerLines(res.slice(1)),
      body: body.trimEnd(),
    },
  };
}

/**
 * The recorded response as a `Response` a stub can return. `Content-Length` and `Date` are
 * left to the server; a HEAD gets no body, like the original.
 *
 * @example
 * ```ts
 * import { parseTranscript, replay } from "./transcript.ts";
 * const t = parseTranscript("> GET /v2/ HTTP/1.1\n< HTTP/1.1 200 OK\n");
 * await replay(t).body?.cancel();
 * ```
 */
export function replay(t: Transcript): Response {
  const headers = new Headers();
  for (const [k, v] of t.response.headers) {
    if (!/^(content-length|date)$/i.test(k)) headers.append(k, v);
  }
  const body = t.request.method === "HEAD" ? null : t.response.body;
  return new Response(body, { status: t.response.status, headers });
}

/**
 * All values of a request header in a transcript (curl repeats `Accept`).
 *
 * @example
 * ```ts
 * import { parseTranscript, requestHeaderValues } from "./transcript.ts";
 * const t = parseTranscript(
 *   "> HEAD /v2/x/manifests/1 HTTP/1.1\n> Accept: a\n> Accept: b\n< HTTP/1.1 200 OK\n",
 * );
 * requestHeaderValues(t, "accept"); // ["a", "b"]
 * ```
 */
export function requestHeaderValues(t: Transcript, name: string): string[] {
  return t.request.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
}

function headerLines(lines: string[]): [string, string][] {
  return lines.filter((l) => l.includes(":")).map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  });
}
