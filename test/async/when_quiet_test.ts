import assert from "node:assert/strict";
import { WhenQuiet } from "../../lib/async/when_quiet.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("WhenQuiet: called a quiet period after the last work of a burst, once", async () => {
  let lastNote = 0;
  /** How long after the last work each call came. */
  const gaps: number[] = [];
  const quiet = new WhenQuiet(() => gaps.push(performance.now() - lastNote), 40);
  const note = () => {
    lastNote = performance.now();
    quiet.note();
  };
  try {
    // A burst of work longer than the quiet period.
    const started = performance.now();
    while (performance.now() - started < 120) {
      note();
      await new Promise((r) => setTimeout(r, 5));
    }
    const calls = await waitFor(() => gaps.length, "the call after the burst");
    // A call only ever comes a quiet period after the work before it (a stalled loop may
    // have paused the burst long enough for one more).
    assert.ok(gaps.every((gap) => gap >= 40), `gaps ${gaps}`);
    // No work, no call; the next burst gets its own.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gaps.length, calls);
    note();
    await waitFor(() => gaps.length === calls + 1, "the call after the second burst");
    assert.ok(gaps.every((gap) => gap >= 40), `gaps ${gaps}`);
  } finally {
    quiet.stop();
  }
});

Deno.test("WhenQuiet: nothing is called before work is noted, nor after stop", async () => {
  let called = 0;
  const quiet = new WhenQuiet(() => called++, 10);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(called, 0);
  quiet.note();
  quiet.stop();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(called, 0);
});
