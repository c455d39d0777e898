/**
 * `argoos.io/tag-pattern`: a JavaScript regular expression matched against the whole tag, run by
 * V8's linear-time regexp engine so that no pattern can stall the service.
 *
 * Why the linear engine: JavaScript regexps backtrack and cannot be interrupted, so
 * `^(a+)+$` on 128 characters never returns (2^128 paths) and would freeze the event loop that
 * serves webhooks. A Worker with a deadline would make every decision asynchronous and cost a
 * thread hop per tag; static "nested quantifier" checks miss `^(a|a)*$` and polynomial blowups.
 * V8 ships a non-backtracking engine (flag `l`, enabled by the V8 option
 * `--enable-experimental-regexp-engine`): matching costs O(tag length × pattern size), measured
 * at under half a millisecond for `^(a+)+$` on 128 characters. It refuses the constructs it
 * cannot run in linear time (backreferences, lookarounds, modifiers, huge counted repetitions);
 * such patterns are reported as invalid, which is also what Flux users know (Go's RE2 has none
 * of them). Tags are at most 128 characters (the reference grammar), so a match is bounded.
 * Without the V8 option every pattern is refused, never run unguarded.
 *
 * @module
 */

/** The longest tag the reference grammar allows; longer text is never matched. */
export const MAX_TAG_LENGTH = 128;
/** The longest pattern accepted: bounds the compiled automaton (and thus each match). */
export const MAX_PATTERN_LENGTH = 1024;
/** The V8 option that enables the linear-time engine (set by `deno task start`/`compile`/`test`). */
export const LINEAR_ENGINE_FLAG = "--enable-experimental-regexp-engine";

/** A compiled tag pattern. */
export interface TagPattern {
  /** The annotation text. */
  readonly source: string;
  /** Whole-tag, linear-time regexp. */
  readonly regexp: RegExp;
  /** Number of capture groups. */
  readonly groupCount: number;
  /** Names of the named capture groups. */
  readonly groupNames: readonly string[];
}

/** The RegExp flag selecting the linear-time engine. */
const LINEAR: string = "l";

let linear: boolean | undefined;

/**
 * Whether this process runs with V8's linear-time regexp engine (`--v8-flags=` +
 * {@linkcode LINEAR_ENGINE_FLAG}). Without it, patterns are refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearEngineAvailable } from "./pattern.ts";
 * // `deno task start`, `deno task test` and the compiled binary run with the option.
 * assert.equal(linearEngineAvailable(), true);
 * ```
 */
export function linearEngineAvailable(): boolean {
  if (linear === undefined) {
    try {
      new RegExp("", LINEAR);
      linear = true;
    } catch {
      linear = false;
    }
  }
  return linear;
}

/**
 * Compiles an annotation value as a whole-tag pattern, or returns why it cannot be used
 * (a one-line reason for the InvalidPolicy report).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compilePattern } from "./pattern.ts";
 * const p = compilePattern("^main-[0-9a-f]{7}-(?<ts>[0-9]+)$");
 * assert.deepEqual(typeof p === "string" ? p : p.groupNames, ["ts"]);
 * assert.match(compilePattern("(a)\\1") as string, /^cannot run in linear time/);
 * ```
 */
export function compilePattern(source: string): TagPattern | string {
  if (source.length === 0) return "empty pattern";
  if (source.length > MAX_PATTERN_LENGTH) {
    return `longer than ${MAX_PATTERN_LENGTH} characters`;
  }
  try {
    new RegExp(source);
  } catch (e) {
    return `does not compile: ${(e as Error).message}`;
  }
  if (!linearEngineAvailable()) {
    return `patterns need V8's linear-time regexp engine; start Argoos with --v8-flags=${LINEAR_ENGINE_FLAG}`;
  }
  let regexp: RegExp;
  let probe: RegExp;
  try {
    regexp = new RegExp(`^(?:${source})$`, LINEAR);
    // Matches the empty string through its second branch, listing every group as undefined.
    probe = new RegExp(`(?:${source})|`, LINEAR);
  } catch {
    return "cannot run in linear time (no backreferences, lookarounds, modifiers or huge repetitions)";
  }
  const shape = probe.exec("")!;
  return {
    source,
    regexp,
    groupCount: shape.length - 1,
    groupNames: Object.keys(shape.groups ?? {}),
  };
}

/**
 * Matches a whole tag; undefined when it does not match or is longer than
 * {@linkcode MAX_TAG_LENGTH}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compilePattern, matchTag, type TagPattern } from "./pattern.ts";
 * const p = compilePattern("v?(\\d+)") as TagPattern;
 * assert.equal(matchTag(p, "v12")?.[1], "12");
 * assert.equal(matchTag(p, "v12-rc"), undefined);
 * ```
 */
export function matchTag(pattern: TagPattern, tag: string): RegExpExecArray | undefined {
  if (tag.length > MAX_TAG_LENGTH) return undefined;
  return pattern.regexp.exec(tag) ?? undefined;
}
