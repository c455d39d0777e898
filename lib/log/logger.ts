/**
 * Structured logging: one JSON object per line on stderr, so an operator can
 * grep and parse why Argoos did or did not roll something out.
 *
 * @module
 */

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level | "silent", number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: Infinity,
};

/** Fields attached to a log line. Values must be JSON-serialisable. */
export type Fields = Record<string, unknown>;

/** Where finished lines go; tests swap it to capture output. */
export type Sink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: Sink = (line) => Deno.stderr.writeSync(encoder.encode(line + "\n"));

/**
 * A logger writing JSON lines with a timestamp, level and message.
 *
 * @example
 * ```ts
 * import { Logger } from "./logger.ts";
 * const lines: string[] = [];
 * const log = new Logger({ level: "info", sink: (l) => lines.push(l) });
 * log.info("decision", { workload: "default/web", reason: "not an update" });
 * ```
 */
export class Logger {
  #min: number;
  #sink: Sink;
  #base: Fields;

  /** A logger writing lines at `level` and above to `sink` (stderr), each with `fields`. */
  constructor(opts: { level?: Level | "silent"; sink?: Sink; fields?: Fields } = {}) {
    this.#min = ORDER[opts.level ?? "info"];
    this.#sink = opts.sink ?? stderrSink;
    this.#base = opts.fields ?? {};
  }

  /** A logger that adds `fields` to every line it writes. */
  with(fields: Fields): Logger {
    if (this.#min === Infinity) return this;
    const child = new Logger({ sink: this.#sink, fields: { ...this.#base, ...fields } });
    child.#min = this.#min;
    return child;
  }

  /** Debug detail, shown with `VERBOSE`. */
  debug(msg: string, fields?: Fields): void {
    this.#write("debug", msg, fields);
  }
  /** Normal operation. */
  info(msg: string, fields?: Fields): void {
    this.#write("info", msg, fields);
  }
  /** Something an operator should look at. */
  warn(msg: string, fields?: Fields): void {
    this.#write("warn", msg, fields);
  }
  /** A failure. */
  error(msg: string, fields?: Fields): void {
    this.#write("error", msg, fields);
  }

  #write(level: Level, msg: string, fields?: Fields): void {
    if (ORDER[level] < this.#min) return;
    const line = { time: new Date().toISOString(), level, msg, ...this.#base, ...fields };
    this.#sink(JSON.stringify(line, errorReplacer));
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

/** A logger that drops everything, for library callers and tests that do not care. */
export const silentLogger: Logger = new Logger({ level: "silent", sink: () => {} });
