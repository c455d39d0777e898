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

/** Where finished lines go, with their level; tests swap it to capture output. */
export type Sink = (line: string, level: Level) => void;

const encoder = new TextEncoder();

/** Lines logged at debug or info level and not written yet, and their length in characters. */
let waiting: string[] = [];
let waitingChars = 0;

/** Most characters kept waiting before they are written, whatever the event loop does. */
const MAX_WAITING_CHARS = 64 * 1024;

/**
 * Writes the log lines still waiting to stderr. Info and debug lines are written a batch at a
 * time, at the end of the event loop's turn (a write per line cost about a tenth of the CPU of
 * a webhook delivery); a warning or an error is written at once, after the lines logged before
 * it. Call it before `Deno.exit`, which runs no pending timer.
 *
 * @example
 * ```ts
 * import { flushLog, Logger } from "./logger.ts";
 * new Logger().info("stopping");
 * flushLog(); // the line is on stderr now
 * ```
 */
export function flushLog(): void {
  if (waiting.length === 0) return;
  const bytes = encoder.encode(waiting.join("\n") + "\n");
  waiting = [];
  waitingChars = 0;
  try {
    // A pipe may take less than asked of one write.
    for (let at = 0; at < bytes.length;) at += Deno.stderr.writeSync(bytes.subarray(at));
  } catch {
    // stderr is gone (its reader exited): there is nowhere left to tell, and logging must
    // never stop the service.
  }
}

// The lines logged before an uncaught error or rejection ends the process are written first.
for (const event of ["error", "unhandledrejection", "unload"]) {
  globalThis.addEventListener?.(event, flushLog);
}

const stderrSink: Sink = (line, level) => {
  if (waiting.length === 0 && level !== "warn" && level !== "error") setTimeout(flushLog, 0);
  waiting.push(line);
  waitingChars += line.length;
  if (level === "warn" || level === "error" || waitingChars > MAX_WAITING_CHARS) flushLog();
};

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
    const line = { time: isoNow(), level, msg, ...this.#base, ...fields };
    // A replacer makes JSON.stringify call back for every value: only when an Error may be in.
    this.#sink(JSON.stringify(line, holdsError(line) ? errorReplacer : undefined), level);
  }
}

/** The last millisecond a line was stamped, and its ISO form: lines come in bursts. */
let stampedMs = Number.NaN;
let stamp = "";

function isoNow(): string {
  const ms = Date.now();
  if (ms !== stampedMs) {
    stampedMs = ms;
    stamp = new Date(ms).toISOString();
  }
  return stamp;
}

/** Whether an Error may be in the line's fields (a replacer must look then). */
function holdsError(line: Fields): boolean {
  for (const key in line) {
    const value = line[key];
    if (typeof value === "object" && value !== null && mayHoldError(value)) return true;
  }
  return false;
}

/**
 * An Error, or an array or object holding one at its first level; one holding objects of its
 * own may hold an Error deeper. Not recursive: the fields of log lines are of many shapes, and
 * a recursive walk over them was compiled again and again.
 */
function mayHoldError(value: object): boolean {
  if (value instanceof Error) return true;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (typeof item !== "object" || item === null) continue;
    if (item instanceof Error) return true;
    for (const inner of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof inner === "object" && inner !== null) return true;
    }
  }
  return false;
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

/** A logger that drops everything, for library callers and tests that do not care. */
export const silentLogger: Logger = new Logger({ level: "silent", sink: () => {} });
