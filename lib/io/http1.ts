/**
 * The HTTP/1.1 framing rules (RFC 9112) both ends of Argoos read by: the front, of requests it
 * serves, and `pooledFetch`, of answers it reads. Strict, because a lenient reading of a length
 * or an encoding is how a message is made to mean two things to two readers.
 *
 * @module
 */

/**
 * The body length a Content-Length field gives, or undefined when it is malformed: decimal
 * digits only, and repeated fields (joined by ", ") must agree.
 *
 * @example
 * ```ts
 * import { contentLength } from "./http1.ts";
 * contentLength("42"); // 42
 * contentLength("42, 42"); // 42
 * contentLength("0x2a"); // undefined
 * contentLength("3, 5"); // undefined
 * ```
 */
export function contentLength(value: string): number | undefined {
  const values = new Set(value.split(",").map((v) => v.trim()));
  const [first] = values;
  return values.size === 1 && /^\d{1,15}$/.test(first) ? Number(first) : undefined;
}

/**
 * Whether a Transfer-Encoding field ends with `chunked`: the only framing by encoding there is
 * (any other coding last leaves the length to the end of the connection).
 *
 * @example
 * ```ts
 * import { isChunked } from "./http1.ts";
 * isChunked("chunked"); // true
 * isChunked("chunked, gzip"); // false
 * isChunked("xchunked"); // false
 * ```
 */
export function isChunked(transferEncoding: string): boolean {
  return /(^|,)\s*chunked\s*$/i.test(transferEncoding);
}

/**
 * Whether the connection stays open after this message: HTTP/1.1 unless it says `close`,
 * HTTP/1.0 only if it says `keep-alive` (`connection` holds the Connection fields, joined).
 *
 * @example
 * ```ts
 * import { keepsAlive } from "./http1.ts";
 * keepsAlive("1", ""); // true
 * keepsAlive("1", "Close"); // false
 * keepsAlive("1", "closed-caption"); // true: not the close option
 * keepsAlive("0", "keep-alive"); // true
 * ```
 */
export function keepsAlive(minorVersion: string, connection: string): boolean {
  const options = connection.toLowerCase();
  return minorVersion === "1"
    ? !/(^|[\s,])close\s*(,|$)/.test(options)
    : /(^|[\s,])keep-alive\s*(,|$)/.test(options);
}

/**
 * The size a chunk-size line gives (hex digits, at most 8, then optional extensions), or
 * undefined when it is malformed.
 *
 * @example
 * ```ts
 * import { chunkSize } from "./http1.ts";
 * chunkSize("1a"); // 26
 * chunkSize("0;ext=1"); // 0
 * chunkSize(" 0x3 junk"); // undefined
 * ```
 */
export function chunkSize(line: string): number | undefined {
  const size = /^([0-9a-fA-F]{1,8})[ \t]*(;.*)?$/.exec(line);
  return size ? parseInt(size[1], 16) : undefined;
}
