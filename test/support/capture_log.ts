/**
 * A logger whose JSON lines are kept for assertions.
 *
 * @module
 */

import { Logger } from "../../lib/log/logger.ts";

/** A capturing logger and what it wrote. */
export interface CapturedLog {
  logger: Logger;
  /** Raw JSON lines, in order. */
  lines: string[];
  /** The lines parsed as objects. */
  records(): Record<string, unknown>[];
}

/**
 * A debug-level logger writing into memory.
 *
 * @example
 * ```ts
 * import { capture } from "./capture_log.ts";
 * const log = capture();
 * log.logger.info("hello", { a: 1 });
 * log.records()[0].msg; // "hello"
 * ```
 */
export function capture(): CapturedLog {
  const lines: string[] = [];
  const logger = new Logger({ level: "debug", sink: (l) => lines.push(l) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l)) };
}
