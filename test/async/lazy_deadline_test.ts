import assert from "node:assert/strict";
import { LazyDeadline } from "../../lib/async/lazy_deadline.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("LazyDeadline: set again and again, it is due once, the last deadline after the last set", async () => {
  let lastSet = 0;
  /** How long after the last set each call came. */
  const gaps: number[] = [];
  const deadline = new LazyDeadline(() => gaps.push(performance.now() - lastSet));
  const set = () => {
    lastSet = performance.now();
    deadline.set(40);
  };
  try {
    // Set more often than its delay, for longer than it.
    const started = performance.now();
    while (performance.now() - started < 120) {
      set();
      await new Promise((r) => setTimeout(r, 5));
    }
    const calls = await waitFor(() => gaps.length, "the call after the last set");
    // A call only ever comes its delay after the set before it (a stalled loop may have
    // paused the sets long enough for one more).
    assert.ok(gaps.every((gap) => gap >= 40), `gaps ${gaps}`);
    // Not set, not due; set again, due again.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gaps.length, calls);
    set();
    await waitFor(() => gaps.length === calls + 1, "the call after the next set");
    assert.ok(gaps.every((gap) => gap >= 40), `gaps ${gaps}`);
  } finally {
    deadline.stop();
  }
});

Deno.test("LazyDeadline: a sooner deadline fires sooner than the timer already running", async () => {
  let due = 0;
  const deadline = new LazyDeadline(() => due = performance.now());
  try {
    const started = performance.now();
    deadline.set(10_000);
    deadline.set(10);
    await waitFor(() => due > 0, "the sooner deadline");
    assert.ok(due - started < 5_000, `due after ${due - started} ms`);
  } finally {
    deadline.stop();
  }
});

Deno.test("LazyDeadline: nothing is called after clear or stop", async () => {
  let called = 0;
  const cleared = new LazyDeadline(() => called++);
  const stopped = new LazyDeadline(() => called++);
  cleared.set(10);
  cleared.clear();
  stopped.set(10);
  stopped.stop();
  // Waiting for something not to happen: the timer cleared runs out first and finds nothing.
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(called, 0);
});

Deno.test({
  name: "LazyDeadline: stop leaves no timer running",
  // Fails on a timer still pending when the test ends.
  sanitizeOps: true,
  fn() {
    const deadline = new LazyDeadline(() => {});
    deadline.set(60_000);
    deadline.set(120_000);
    deadline.stop();
  },
});
