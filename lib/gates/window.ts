/**
 * Update windows: spans of real time that open at a cron expression's minute in an IANA time
 * zone and last a duration (`"0 2 * * 6 4h; 30 22 * * 1-5 90m"`). Outside every window no new
 * write is made; a rollout started inside one finishes after it closes.
 *
 * @module
 */

import { cronParser } from "../parse/on_demand.ts";
import { parseDuration } from "../parse/duration.ts";

/** One window: the opening minute as a 5-field cron expression, and how long it stays open. */
export interface UpdateWindow {
  /** The opening minute, five cron fields. */
  cron: string;
  /** How long (ms) the window stays open. */
  durationMs: number;
}

/** Where `now` falls: inside a window (until `closesAt`), or outside until `opensAt`. */
export type WindowState = { open: true; closesAt: number } | { open: false; opensAt: number };

/**
 * Parse `argoos.io/update-window`: windows separated by `;`, each five cron fields and a
 * duration. Throws an `Error` naming what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUpdateWindows } from "./window.ts";
 * import { loadParsers } from "../parse/on_demand.ts";
 * await loadParsers({ cron: true });
 * assert.deepEqual(parseUpdateWindows("0 2 * * 6 4h; 30 22 * * 1-5 90m"), [
 *   { cron: "0 2 * * 6", durationMs: 4 * 3_600_000 },
 *   { cron: "30 22 * * 1-5", durationMs: 90 * 60_000 },
 * ]);
 * assert.throws(() => parseUpdateWindows("0 2 * * 4h"), /five cron fields/);
 * ```
 */
export function parseUpdateWindows(text: string): UpdateWindow[] {
  const parts = text.split(";").map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error("no window (e.g. 0 2 * * 6 4h)");
  const cron = cronParser();
  return parts.map((part) => {
    const fields = part.split(/\s+/);
    if (fields.length !== 6) {
      throw new Error(`"${part}": five cron fields and a duration (e.g. 0 2 * * 6 4h)`);
    }
    const expression = fields.slice(0, 5).join(" ");
    let durationMs: number;
    try {
      durationMs = parseDuration(fields[5]);
      // The next opening proves the expression names a minute that exists (not 30 February).
      cron.parse(expression, { tz: "UTC" }).next();
    } catch (err) {
      throw new Error(`"${part}": ${(err as Error).message}`);
    }
    if (durationMs <= 0) throw new Error(`"${part}": a window lasts more than 0`);
    return { cron: expression, durationMs };
  });
}

/**
 * Whether `timeZone` is an IANA time zone name this runtime knows.
 *
 * @example
 * ```ts
 * import { isTimeZone } from "./window.ts";
 * isTimeZone("Europe/Paris"); // true
 * isTimeZone("Mars/Olympus"); // false
 * ```
 */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `now` (ms epoch) is inside one of `windows`, read in `timeZone`: a window opens at its
 * cron's local minute (a minute a spring-forward skips opens an hour later, as cron-parser
 * reads it; one an autumn change repeats opens at both of its instants) and lasts its duration
 * of real time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUpdateWindows, windowState } from "./window.ts";
 * import { loadParsers } from "../parse/on_demand.ts";
 * await loadParsers({ cron: true });
 * const saturdays = parseUpdateWindows("0 2 * * 6 4h");
 * const friday = Date.parse("2026-12-11T12:00:00Z");
 * assert.deepEqual(windowState(saturdays, "Europe/Paris", friday), {
 *   open: false,
 *   opensAt: Date.parse("2026-12-12T01:00:00Z"),
 * });
 * ```
 */
export function windowState(
  windows: readonly UpdateWindow[],
  timeZone: string,
  now: number,
): WindowState {
  let opensAt = Infinity;
  let closesAt = -Infinity;
  // Openings fall on whole minutes: the last one at or before now is before the next minute.
  const minute = Math.floor(now / 60_000) * 60_000;
  const cron = cronParser();
  for (const w of windows) {
    const last = cron.parse(w.cron, {
      tz: timeZone,
      currentDate: new Date(minute + 1_000),
    }).prev().getTime();
    if (now < last + w.durationMs) closesAt = Math.max(closesAt, last + w.durationMs);
    const next = cron.parse(w.cron, { tz: timeZone, currentDate: new Date(now) })
      .next().getTime();
    opensAt = Math.min(opensAt, next);
  }
  return closesAt > now ? { open: true, closesAt } : { open: false, opensAt };
}

/**
 * An instant as RFC 3339 in `timeZone`, with its offset there (`Z` for UTC), to the second.
 *
 * @example
 * ```ts
 * import { formatInZone } from "./window.ts";
 * formatInZone(Date.parse("2026-12-12T01:00:00Z"), "Europe/Paris"); // "2026-12-12T02:00:00+01:00"
 * formatInZone(Date.parse("2026-12-12T01:00:00Z"), "UTC"); // "2026-12-12T01:00:00Z"
 * ```
 */
export function formatInZone(ms: number, timeZone: string): string {
  const at = Math.floor(ms / 1_000) * 1_000;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  const local =
    `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const offsetMin = Math.round((Date.parse(`${local}Z`) - at) / 60_000);
  if (offsetMin === 0) return `${local}Z`;
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${local}${offsetMin < 0 ? "-" : "+"}${hh}:${mm}`;
}
