/**
 * The `X-Argoos-Token` secret: where it comes from (a value, or a mounted file that is
 * re-read when the Secret is rotated), refusing blank ones, and checking a presented
 * token without leaking, through timing, how much of a guess was right.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Compare a presented token with the expected one in constant time: the loop runs over the
 * presented bytes, each compared with the expected byte at that place (cycling), and the
 * lengths are compared with them, so the time taken depends on the presented token's length
 * only (which its sender knows): not on how much of a guess was right, nor on the expected
 * token's length. Hashing both first did the same at five times the cost.
 *
 * @example
 * ```ts
 * import { tokenMatches } from "./token.ts";
 * tokenMatches("s3cret", "s3cret"); // true
 * tokenMatches("s3cret", null); // false
 * ```
 */
export function tokenMatches(expected: string, presented: string | null): boolean {
  if (presented === null) return false;
  const want = expectedBytes(expected);
  const got = encoder.encode(presented);
  if (want.length === 0) return got.length === 0;
  let diff = want.length ^ got.length;
  for (let i = 0; i < got.length; i++) diff |= got[i] ^ want[i % want.length];
  return diff === 0;
}

/** The last expected token's bytes: they change only when the token is rotated. */
let expectedCache: { token: string; bytes: Uint8Array } | undefined;

function expectedBytes(token: string): Uint8Array {
  if (expectedCache?.token !== token) expectedCache = { token, bytes: encoder.encode(token) };
  return expectedCache.bytes;
}

/** A token that would turn authentication off (blank), or a token file that cannot be read. */
export class TokenError extends Error {
  override name = "TokenError";
}

/**
 * The token a value holds, trimmed; a blank or whitespace-only one is refused, since
 * accepting it would accept every delivery that sends the header empty.
 *
 * @example
 * ```ts
 * import { checkedToken } from "./token.ts";
 * checkedToken(" s3cret\n", "TOKEN"); // "s3cret"
 * ```
 */
export function checkedToken(value: string, source: string): string {
  const token = value.trim();
  if (token === "") throw new TokenError(`${source} is blank: a token must not be empty`);
  return token;
}

/** Where the expected token is read, once per delivery. */
export interface TokenSource {
  /** The expected token; rejects with {@linkcode TokenError} when none is usable now. */
  current(): Promise<string>;
}

/**
 * A fixed token (from `--token` or `TOKEN`).
 *
 * @example
 * ```ts
 * import { fixedToken } from "./token.ts";
 * await fixedToken("s3cret").current(); // "s3cret"
 * ```
 */
export function fixedToken(value: string, source = "the token"): TokenSource {
  const token = checkedToken(value, source);
  return { current: () => Promise.resolve(token) };
}

/** Options of {@linkcode FileToken}. */
export interface FileTokenOptions {
  /** Look at the file at most this often (default 1 s): a stat per delivery would be wasted. */
  checkEveryMs?: number;
  /** Called with the error when a changed file holds no usable token. */
  onError?: (err: TokenError) => void;
  /** Clock; injectable for tests. */
  now?: () => number;
}

/**
 * A token kept in a file (a mounted Secret), re-read when the file changes: Kubernetes
 * rotates a mounted Secret by swapping a symlink, so a new inode, size or mtime says a
 * new token is there. A file that turns blank or unreadable refuses every delivery until
 * it holds a token again (fail closed), rather than keeping a token the operator removed.
 *
 * @example
 * ```ts
 * import { FileToken } from "./token.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "s3cret\n");
 * const source = await FileToken.open(path);
 * await source.current(); // "s3cret"
 * await Deno.remove(path);
 * ```
 */
export class FileToken implements TokenSource {
  #token: string | TokenError = new TokenError("token file not read yet");
  #stamp = "";
  #checkedAt = -Infinity;
  #checking: Promise<void> | undefined;
  readonly #checkEveryMs: number;
  readonly #now: () => number;

  private constructor(readonly path: string, private readonly opts: FileTokenOptions) {
    this.#checkEveryMs = opts.checkEveryMs ?? 1_000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Read the file once; rejects with {@linkcode TokenError} when it holds no token. */
  static async open(path: string, opts: FileTokenOptions = {}): Promise<FileToken> {
    const source = new FileToken(path, opts);
    await source.#check();
    if (source.#token instanceof TokenError) throw source.#token;
    return source;
  }

  /** The token the file holds now (re-read if it changed since last looked at). */
  async current(): Promise<string> {
    if (this.#now() - this.#checkedAt >= this.#checkEveryMs) {
      await (this.#checking ??= this.#check().finally(() => this.#checking = undefined));
    }
    if (this.#token instanceof TokenError) throw this.#token;
    return this.#token;
  }

  async #check(): Promise<void> {
    this.#checkedAt = this.#now();
    let stamp: string;
    try {
      const st = await Deno.stat(this.path);
      stamp = `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
      if (stamp === this.#stamp) return;
      // A token is a short line: refuse to hold a huge file in memory.
      if (st.size > 4096) throw new TokenError(`token file ${this.path} is over 4096 bytes`);
      this.#token = checkedToken(await Deno.readTextFile(this.path), `token file ${this.path}`);
    } catch (err) {
      stamp = "";
      this.#token = err instanceof TokenError
        ? err
        : new TokenError(`token file ${this.path}: ${(err as Error).message}`);
      this.opts.onError?.(this.#token);
    }
    this.#stamp = stamp;
  }
}
