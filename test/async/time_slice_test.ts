/**
 * The time slice: a long run of work that awaits nothing still lets the event loop turn.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TimeSlice } from "../../lib/async/time_slice.ts";

/** Busy for `ms`: work that awaits nothing. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin */ }
}

Deno.test("TimeSlice: a timer set before 200 ms of work runs within its first slices", async () => {
  const slice = new TimeSlice(5);
  let done = 0;
  let doneWhenTimerRan: number | undefined;
  setTimeout(() => doneWhenTimerRan = done, 0);
  for (let i = 0; i < 200; i++) {
    await slice.pass();
    busy(1);
    done++;
  }
  assert.ok(
    doneWhenTimerRan !== undefined && doneWhenTimerRan < 20,
    `ran after ${doneWhenTimerRan}`,
  );
  await new Promise((r) => setTimeout(r, 0)); // the slice's own timer
});

Deno.test("TimeSlice: work shorter than a slice passes without waiting", () => {
  const slice = new TimeSlice(1_000);
  for (let i = 0; i < 1_000; i++) assert.equal(slice.pass(), undefined);
  return new Promise((r) => setTimeout(r, 0));
});
