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

Deno.test("TimeSlice: callers sharing a slice wait together, and the next slice is one slice long", async () => {
  const slice = new TimeSlice(5);
  let done = 0;
  const ticks: number[] = [];
  // A timer chain: the work done when each link ran.
  const tick = () => {
    ticks.push(done);
    if (ticks.length < 10) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let i = 0; i < 50; i++) {
      await slice.pass();
      busy(1);
      done++;
    }
  }));
  while (ticks.length < 10) await new Promise((r) => setTimeout(r, 0));
  // Four callers, 1 ms each per pass: a turn runs one slice (about 6 units), not four.
  const gaps = ticks.slice(1).map((n, i) => n - ticks[i]);
  assert.ok(Math.max(...gaps) <= 12, `work between turns: ${gaps}`);
});

Deno.test("TimeSlice: a request sent before 200 ms of work is answered within its first slices", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  try {
    const slice = new TimeSlice(5);
    let done = 0;
    let doneWhenAnswered: number | undefined;
    const answered = fetch(`http://127.0.0.1:${server.addr.port}/`)
      .then((res) => res.text())
      .then(() => doneWhenAnswered = done);
    for (let i = 0; i < 200; i++) {
      await slice.pass();
      busy(1);
      done++;
    }
    await answered;
    assert.ok(doneWhenAnswered! < 50, `answered after ${doneWhenAnswered}`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("TimeSlice: work shorter than a slice passes without waiting", () => {
  const slice = new TimeSlice(1_000);
  for (let i = 0; i < 1_000; i++) assert.equal(slice.pass(), undefined);
  return new Promise((r) => setTimeout(r, 0));
});
