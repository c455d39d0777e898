import assert from "node:assert/strict";
import {
  formatInZone,
  isTimeZone,
  parseUpdateWindows,
  windowState,
} from "../../lib/gates/window.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The service loads them on first need; these tests call the pure functions directly.
await loadParsers({ semver: true, cron: true });

const at = (iso: string) => Date.parse(iso);

Deno.test("windowState: open or closed, across time zones and daylight-saving changes", () => {
  const cases: { windows: string; zone: string; now: string; want: string }[] = [
    // Saturdays 02:00-06:00 Paris (UTC+1 in December).
    {
      windows: "0 2 * * 6 4h",
      zone: "Europe/Paris",
      now: "2026-12-11T12:00:00Z",
      want: "opens 2026-12-12T01:00:00Z",
    },
    {
      windows: "0 2 * * 6 4h",
      zone: "Europe/Paris",
      now: "2026-12-12T01:00:00Z",
      want: "closes 2026-12-12T05:00:00Z",
    },
    {
      windows: "0 2 * * 6 4h",
      zone: "Europe/Paris",
      now: "2026-12-12T04:59:59Z",
      want: "closes 2026-12-12T05:00:00Z",
    },
    {
      windows: "0 2 * * 6 4h",
      zone: "Europe/Paris",
      now: "2026-12-12T05:00:00Z",
      want: "opens 2026-12-19T01:00:00Z",
    },
    {
      windows: "0 2 * * 6 4h",
      zone: "UTC",
      now: "2026-12-12T01:30:00Z",
      want: "opens 2026-12-12T02:00:00Z",
    },
    {
      windows: "0 2 * * 6 4h",
      zone: "America/New_York",
      now: "2026-12-12T06:59:00Z",
      want: "opens 2026-12-12T07:00:00Z",
    },
    {
      windows: "0 2 * * 6 4h",
      zone: "Asia/Kolkata",
      now: "2026-12-11T20:30:00Z",
      want: "closes 2026-12-12T00:30:00Z",
    },
    // Two windows: the weekday evenings one is the nearer.
    {
      windows: "0 2 * * 6 4h; 30 22 * * 1-5 90m",
      zone: "Europe/Paris",
      now: "2026-12-07T12:00:00Z",
      want: "opens 2026-12-07T21:30:00Z",
    },
    {
      windows: "0 2 * * 6 4h; 30 22 * * 1-5 90m",
      zone: "Europe/Paris",
      now: "2026-12-07T22:59:00Z",
      want: "closes 2026-12-07T23:00:00Z",
    },
    // A window spanning midnight.
    {
      windows: "0 23 * * * 2h",
      zone: "UTC",
      now: "2026-12-08T00:30:00Z",
      want: "closes 2026-12-08T01:00:00Z",
    },
    // Paris, last Sunday of March: 02:00 jumps to 03:00. A daily 01:30 window of 2h is two
    // hours of real time: 00:30Z to 02:30Z (04:30 local after the change); the next one opens
    // at 01:30 CEST (23:30Z).
    {
      windows: "30 1 * * * 2h",
      zone: "Europe/Paris",
      now: "2026-03-29T02:29:00Z",
      want: "closes 2026-03-29T02:30:00Z",
    },
    {
      windows: "30 1 * * * 2h",
      zone: "Europe/Paris",
      now: "2026-03-29T02:30:00Z",
      want: "opens 2026-03-29T23:30:00Z",
    },
    // The skipped 02:30 opens an hour later, at 03:30 CEST.
    {
      windows: "30 2 * * * 1h",
      zone: "Europe/Paris",
      now: "2026-03-28T12:00:00Z",
      want: "opens 2026-03-29T01:30:00Z",
    },
    // Last Sunday of October: 03:00 goes back to 02:00. 01:30 + 2h real time ends at 02:30 CET.
    {
      windows: "30 1 * * * 2h",
      zone: "Europe/Paris",
      now: "2026-10-25T01:29:00Z",
      want: "closes 2026-10-25T01:30:00Z",
    },
    // The repeated 02:30 is 02:30 twice: it opens at both instants (CEST, then CET).
    {
      windows: "30 2 * * * 30m",
      zone: "Europe/Paris",
      now: "2026-10-24T12:00:00Z",
      want: "opens 2026-10-25T00:30:00Z",
    },
    {
      windows: "30 2 * * * 30m",
      zone: "Europe/Paris",
      now: "2026-10-25T01:10:00Z",
      want: "opens 2026-10-25T01:30:00Z",
    },
  ];
  for (const c of cases) {
    const s = windowState(parseUpdateWindows(c.windows), c.zone, at(c.now));
    const got = s.open
      ? `closes ${new Date(s.closesAt).toISOString().replace(".000", "")}`
      : `opens ${new Date(s.opensAt).toISOString().replace(".000", "")}`;
    assert.equal(got, c.want, `${c.windows} in ${c.zone} at ${c.now}`);
  }
});

Deno.test("parseUpdateWindows: refuses what is not five cron fields and a duration", () => {
  const bad: [string, RegExp][] = [
    ["", /no window/],
    [" ; ", /no window/],
    ["0 2 * * 6", /five cron fields and a duration/],
    ["0 0 2 * * 6 4h", /five cron fields and a duration/],
    ["61 2 * * 6 4h", /"61 2 \* \* 6 4h": .*61/],
    ["0 2 * * 6 4 hours", /five cron fields/],
    ["0 2 * * 6 4d", /not a duration/],
    ["0 2 * * 6 0", /more than 0/],
    ["0 0 30 2 * 1h", /"0 0 30 2 \* 1h"/],
  ];
  for (const [text, why] of bad) assert.throws(() => parseUpdateWindows(text), why, text);
  assert.deepEqual(parseUpdateWindows(" 0 2 * * sat 4h ;"), [
    { cron: "0 2 * * sat", durationMs: 4 * 3_600_000 },
  ]);
});

Deno.test("formatInZone and isTimeZone", () => {
  const t = at("2026-07-01T10:00:00.750Z");
  assert.equal(formatInZone(t, "UTC"), "2026-07-01T10:00:00Z");
  assert.equal(formatInZone(t, "Europe/Paris"), "2026-07-01T12:00:00+02:00");
  assert.equal(formatInZone(t, "America/St_Johns"), "2026-07-01T07:30:00-02:30");
  assert.equal(
    formatInZone(at("2026-12-12T01:00:00Z"), "Europe/Paris"),
    "2026-12-12T02:00:00+01:00",
  );
  assert.equal(isTimeZone("Asia/Kolkata"), true);
  assert.equal(isTimeZone("Europe/Pariss"), false);
});
