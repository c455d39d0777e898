/**
 * `from=to,from2=to2` lists, as operators write registry aliases and mirrors.
 *
 * @module
 */

/**
 * The `[from, to]` pairs of a comma-separated `from=to` list, each trimmed; empty items are
 * skipped. Throws `<what>: "<pair>" is not of the form <form>` on a pair without both sides,
 * with a second `=`, or that `valid` refuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePairs } from "./pairs.ts";
 * assert.deepEqual(parsePairs("a=b, c=d", "ALIASES", "from=to"), [["a", "b"], ["c", "d"]]);
 * assert.throws(() => parsePairs("a=b=c", "ALIASES", "from=to"), /ALIASES: "a=b=c"/);
 * ```
 */
export function parsePairs(
  spec: string,
  what: string,
  form: string,
  valid: (from: string, to: string) => boolean = () => true,
): [string, string][] {
  return spec.split(",").map((s) => s.trim()).filter(Boolean).map((pair) => {
    const [from, to, extra] = pair.split("=").map((s) => s.trim());
    if (!from || !to || extra !== undefined || !valid(from, to)) {
      throw new Error(`${what}: "${pair}" is not of the form ${form}`);
    }
    return [from, to];
  });
}
