/**
 * Parsing of `WWW-Authenticate` headers (RFC 7235): one header may hold several challenges,
 * each a scheme followed by comma-separated `name=value` params whose quoted values may
 * themselves contain commas, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a:pull,push"`.
 *
 * @module
 */

/**
 * One authentication challenge.
 *
 * @example
 * ```ts
 * import type { Challenge } from "./challenge.ts";
 * const basic: Challenge = { scheme: "basic", params: { realm: "regcap-realm" } };
 * ```
 */
export interface Challenge {
  /** Auth scheme, lower-cased (`bearer`, `basic`). */
  scheme: string;
  /** Params by lower-cased name, values unquoted. */
  params: Record<string, string>;
  /** A bare token68 credential hint (`Negotiate abc==`), rarely used by registries. */
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const BARE_VALUE_CHAR = /[^,\s"]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/**
 * Split a `WWW-Authenticate` header value into its challenges. Malformed trailing input is
 * ignored rather than thrown, since a partial parse still lets the client try.
 *
 * @example
 * ```ts
 * import { parseChallenges } from "./challenge.ts";
 * parseChallenges('Bearer realm="https://a/token",service="reg", Basic realm="x"');
 * // [{ scheme: "bearer", params: { realm: "https://a/token", service: "reg" } },
 * //  { scheme: "basic", params: { realm: "x" } }]
 * ```
 */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const s = header;
  let i = 0;
  const challenges: Challenge[] = [];

  const skip = (chars: string) => {
    while (i < s.length && chars.includes(s[i])) i++;
  };
  const readToken = (re: RegExp): string => {
    const start = i;
    while (i < s.length && re.test(s[i])) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    let out = "";
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      out += s[i++];
    }
    i++; // closing quote
    return out;
  };
  // Looking at `name =`? Otherwise the next token starts a new challenge.
  const atParam = (): boolean => {
    const save = i;
    const name = readToken(TOKEN_CHAR);
    skip(" \t");
    const isParam = name !== "" && s[i] === "=";
    i = save;
    return isParam;
  };

  while (i < s.length) {
    skip(" \t,");
    const scheme = readToken(TOKEN_CHAR);
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(" \t");
    if (i < s.length && s[i] !== "," && !atParam()) {
      const start = i;
      readToken(TOKEN68_CHAR);
      skip("=");
      challenge.token68 = s.slice(start, i);
      skip(" \t");
      continue;
    }
    while (i < s.length) {
      skip(" \t,");
      if (!atParam()) break;
      const name = readToken(TOKEN_CHAR).toLowerCase();
      skip(" \t");
      i++; // "="
      skip(" \t");
      // Unquoted values are tokens by the RFC; be lenient with URLs some servers send bare.
      challenge.params[name] = s[i] === '"' ? readQuoted() : readToken(BARE_VALUE_CHAR);
    }
  }
  return challenges;
}
