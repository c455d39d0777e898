/**
 * Gates decide when: an update the policy chose waits for an update window, a minimum age, a
 * person's approval, or forever in observe mode. Read from the workload's annotations (each also
 * per container, `argoos.io/min-age.<container>`, which wins) over the service's defaults, and
 * decided by one pure function, {@linkcode gateFor}.
 *
 * @module
 */

import { parseDuration } from "../parse/duration.ts";
import { ParserNotLoadedError } from "../parse/on_demand.ts";
import type { GateName } from "./pending.ts";
import {
  formatInZone,
  isTimeZone,
  parseUpdateWindows,
  type UpdateWindow,
  windowState,
} from "./window.ts";

/** Windows (`;`-separated cron and duration) outside which nothing new is written. */
export const UPDATE_WINDOW = "argoos.io/update-window";
/** The IANA time zone the windows are read in; default UTC. */
export const UPDATE_WINDOW_TIMEZONE = "argoos.io/update-window-timezone";
/** How old a candidate must be (a duration) before it is written. */
export const MIN_AGE = "argoos.io/min-age";
/** `required`: a person approves each digest (`none` turns a workload-wide one off). */
export const APPROVAL = "argoos.io/approval";
/** `observe`: decide and tell, write nothing but `argoos.io/pending` (`update` writes). */
export const MODE = "argoos.io/mode";

/** The gate annotations, each also written per container (`<key>.<container>`). */
export const GATE_ANNOTATIONS = [UPDATE_WINDOW, UPDATE_WINDOW_TIMEZONE, MIN_AGE, APPROVAL, MODE];

/** The gates of one container; a field absent is no gate (or, in annotations, the default). */
export interface GateRules {
  /** Empty: no window (`always`). */
  windows?: UpdateWindow[];
  /** The IANA time zone the windows are read in; absent: UTC. */
  timeZone?: string;
  /** How old (ms) a candidate must be before it is written. */
  minAgeMs?: number;
  /** Whether a person must approve each digest. */
  approval?: boolean;
  /** Whether Argoos only tells (writes nothing but `argoos.io/pending`). */
  observe?: boolean;
}

/** A gate value that cannot be used: the key as written, its value, and why. */
export interface GateError {
  /** The annotation key the value was read from (the container's own, or the workload's). */
  key: string;
  /** The value as written. */
  value: string;
  /** Why it cannot be used. */
  reason: string;
}

/**
 * The gate rules a container's annotations set, or the first error. `lookup` gives the value
 * that applies to the container (its own key, else the workload's) and the key it was read from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readGateRules } from "./gates.ts";
 * const annotations: Record<string, string> = {
 *   "argoos.io/min-age": "72h",
 *   "argoos.io/approval.db": "required",
 * };
 * const lookup = (key: string) => ({ key, value: annotations[key] });
 * assert.deepEqual(readGateRules(lookup), { minAgeMs: 72 * 3_600_000 });
 * assert.equal(
 *   (readGateRules((key) => ({ key, value: key.endsWith("mode") ? "watch" : undefined })) as {
 *     reason: string;
 *   }).reason,
 *   "unknown mode (observe or update)",
 * );
 * ```
 */
export function readGateRules(
  lookup: (key: string) => { key: string; value: string | undefined },
): GateRules | GateError {
  const rules: GateRules = {};
  const fail = (at: { key: string; value: string | undefined }, reason: string): GateError => ({
    key: at.key,
    value: at.value ?? "",
    reason,
  });
  const window = lookup(UPDATE_WINDOW);
  if (window.value !== undefined) {
    if (window.value.trim() === "always") rules.windows = [];
    else {
      try {
        rules.windows = parseUpdateWindows(window.value);
      } catch (err) {
        if (err instanceof ParserNotLoadedError) throw err;
        return fail(window, (err as Error).message);
      }
    }
  }
  const zone = lookup(UPDATE_WINDOW_TIMEZONE);
  if (zone.value !== undefined) {
    if (!isTimeZone(zone.value)) return fail(zone, "not an IANA time zone (e.g. Europe/Paris)");
    rules.timeZone = zone.value;
  }
  const minAge = lookup(MIN_AGE);
  if (minAge.value !== undefined) {
    try {
      rules.minAgeMs = parseDuration(minAge.value);
    } catch (err) {
      return fail(minAge, (err as Error).message);
    }
  }
  const approval = lookup(APPROVAL);
  if (approval.value !== undefined) {
    if (approval.value !== "required" && approval.value !== "none") {
      return fail(approval, "unknown approval (required or none)");
    }
    rules.approval = approval.value === "required";
  }
  const mode = lookup(MODE);
  if (mode.value !== undefined) {
    if (mode.value !== "observe" && mode.value !== "update") {
      return fail(mode, "unknown mode (observe or update)");
    }
    rules.observe = mode.value === "observe";
  }
  return rules;
}

/** The candidate a gate judges: the digest to write and since when it is known. */
export interface GateCandidate {
  /** The digest to write, `sha256:…`. */
  digest: string;
  /** ms epoch: its push time, else when Argoos first saw that tag at that digest. */
  since: number;
}

/** A gate that holds: which, when it may open (absent: approval, observe), and why. */
export interface Held {
  /** Always `false`: the candidate may not be written now. */
  open: false;
  /** The first gate that holds it. */
  gate: GateName;
  /** ms epoch when the gate may open; absent for approval and observe. */
  opensAt?: number;
  /** The reason in words, with the opening time ("update window opens …"). */
  message: string;
}

/** What the gates say: write now, or which gate holds and when it may open. */
export type GateDecision = { open: true } | Held;

/**
 * Whether a candidate may be written now, else the first gate that holds it, in this order:
 * observe mode (never opens), approval (opens when `approved` names its digest), minimum age,
 * update window (in its time zone, default UTC). Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gateFor } from "./gates.ts";
 * import { parseUpdateWindows } from "./window.ts";
 * import { loadParsers } from "../parse/on_demand.ts";
 * await loadParsers({ cron: true });
 * const digest = "sha256:" + "c".repeat(64);
 * const rules = { windows: parseUpdateWindows("0 2 * * 6 4h"), timeZone: "Europe/Paris" };
 * const friday = Date.parse("2026-12-11T12:00:00Z");
 * assert.deepEqual(gateFor(rules, { digest, since: 0 }, new Set(), friday), {
 *   open: false,
 *   gate: "window",
 *   opensAt: Date.parse("2026-12-12T01:00:00Z"),
 *   message: "update window opens 2026-12-12T02:00:00+01:00",
 * });
 * assert.deepEqual(gateFor({ approval: true }, { digest, since: 0 }, new Set([digest]), 0), {
 *   open: true,
 * });
 * ```
 */
export function gateFor(
  rules: GateRules,
  candidate: GateCandidate,
  approved: ReadonlySet<string>,
  now: number,
): GateDecision {
  const closed = judge(rules, candidate, approved, now).find((g) => !g.open);
  return closed ?? { open: true };
}

/**
 * Every gate a container has and what each says of a candidate, in the order they are judged,
 * as one line (empty when it has none), for `argoos plan`.
 *
 * @example
 * ```ts
 * import { describeGates } from "./gates.ts";
 * describeGates({ approval: true, minAgeMs: 3_600_000 }, { digest: "sha256:…", since: 0 }, new Set(), 0);
 * // "waiting for approval; min age reached 1970-01-01T01:00:00Z"
 * ```
 */
export function describeGates(
  rules: GateRules,
  candidate: GateCandidate,
  approved: ReadonlySet<string>,
  now: number,
): string {
  return judge(rules, candidate, approved, now).map((g) => g.message).join("; ");
}

/** What each gate a container has says, in order: open ones with what they wait for no more. */
function judge(
  rules: GateRules,
  candidate: GateCandidate,
  approved: ReadonlySet<string>,
  now: number,
): ({ open: true; message: string } | Held)[] {
  const said: ({ open: true; message: string } | Held)[] = [];
  if (rules.observe) {
    said.push({ open: false, gate: "observe", message: "observe mode: not written" });
  }
  if (rules.approval) {
    said.push(
      approved.has(candidate.digest)
        ? { open: true, message: "approved" }
        : { open: false, gate: "approval", message: "waiting for approval" },
    );
  }
  if (rules.minAgeMs) {
    const ripe = candidate.since + rules.minAgeMs;
    const message = `min age reached ${formatInZone(ripe, "UTC")}`;
    said.push(
      now < ripe
        ? { open: false, gate: "min-age", opensAt: ripe, message }
        : { open: true, message },
    );
  }
  if (rules.windows?.length) {
    const timeZone = rules.timeZone ?? "UTC";
    const state = windowState(rules.windows, timeZone, now);
    said.push(
      state.open
        ? {
          open: true,
          message: `update window open until ${formatInZone(state.closesAt, timeZone)}`,
        }
        : {
          open: false,
          gate: "window",
          opensAt: state.opensAt,
          message: `update window opens ${formatInZone(state.opensAt, timeZone)}`,
        },
    );
  }
  return said;
}
