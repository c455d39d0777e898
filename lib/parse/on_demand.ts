/**
 * The two npm parsers only some workloads need, imported on first need and used synchronously
 * after: `semver` ranges (`argoos.io/semver-range`) and `cron-parser` (update windows). Most
 * workloads name neither, and importing them costs every process about 6 MB of resident memory
 * (the first npm package brings Node compatibility with it). Whoever reads rules from text
 * loads what the text names first ({@linkcode loadParsers}); `mod.ts` loads both.
 *
 * @module
 */

import type { Range, RangeOptions } from "semver";
import type { CronExpressionParser } from "cron-parser";

let semver: typeof import("semver") | undefined;
let cron: typeof CronExpressionParser | undefined;

/**
 * A parser was used before {@linkcode loadParsers} loaded it: a mistake in Argoos, not in the
 * text being read, so it is never reported as the text's fault.
 *
 * @example
 * ```ts
 * import { ParserNotLoadedError } from "./on_demand.ts";
 * new ParserNotLoadedError("semver").message; // "the semver parser is not loaded"
 * ```
 */
export class ParserNotLoadedError extends Error {
  /** Which parser. */
  constructor(parser: "semver" | "cron") {
    super(`the ${parser} parser is not loaded`);
    this.name = "ParserNotLoadedError";
  }
}

/**
 * Import the parsers named (each once per process); resolves once they can be used.
 *
 * @example
 * ```ts
 * import { loadParsers, semverRange } from "./on_demand.ts";
 * await loadParsers({ semver: true });
 * semverRange("^1.2").test("1.3.0"); // true
 * ```
 */
export async function loadParsers(need: { semver?: boolean; cron?: boolean }): Promise<void> {
  if (need.semver) semver ??= await import("semver");
  if (need.cron) cron ??= (await import("cron-parser")).CronExpressionParser;
}

/**
 * A `semver` range; throws the parser's error for a text that is none, and
 * {@linkcode ParserNotLoadedError} before {@linkcode loadParsers} loaded `semver`.
 *
 * @example
 * ```ts
 * import { loadParsers, semverRange } from "./on_demand.ts";
 * await loadParsers({ semver: true });
 * semverRange(">=1.4 <2", { includePrerelease: true }).test("2.0.0"); // false
 * ```
 */
export function semverRange(text: string, options?: RangeOptions): Range {
  if (semver === undefined) throw new ParserNotLoadedError("semver");
  return new semver.Range(text, options);
}

/**
 * The cron expression parser; throws {@linkcode ParserNotLoadedError} before
 * {@linkcode loadParsers} loaded it.
 *
 * @example
 * ```ts
 * import { cronParser, loadParsers } from "./on_demand.ts";
 * await loadParsers({ cron: true });
 * cronParser().parse("0 2 * * 6", { tz: "UTC" }).next(); // the next Saturday, 02:00 UTC
 * ```
 */
export function cronParser(): typeof CronExpressionParser {
  if (cron === undefined) throw new ParserNotLoadedError("cron");
  return cron;
}
