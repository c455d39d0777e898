/**
 * The work queue: de-duplication, one reconcile per key at a time, the add-promise contract,
 * back-off retries, bounds, stop.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueFullError, QueueStoppedError, WorkQueue } from "../../lib/reconcile/queue.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("WorkQueue: never two reconciles of one key at once; an add during one gets the next", async () => {
  let running = 0;
  let most = 0;
  let runs = 0;
  const gate = Promise.withResolvers<void>();
  const q = new WorkQueue({
    reconcile: async () => {
      most = Math.max(most, ++running);
      const n = ++runs;
      if (n === 1) await gate.promise;
      running--;
      return n;
    },
  });
  try {
    const first = q.add("k");
    await waitFor(() => runs === 1, "first reconcile started");
    // Added while the first runs: answered by a reconcile that starts after the add.
    const second = q.add("k");
    const third = q.add("k");
    gate.resolve();
    assert.equal(await first, 1);
    assert.equal(await second, 2);
    assert.equal(await third, 2, "adds before the same start share one reconcile");
    assert.equal(most, 1);
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue: keys waiting are de-duplicated; workers bound the concurrency", async () => {
  const seen: string[] = [];
  let running = 0;
  let most = 0;
  const q = new WorkQueue({
    workers: 2,
    reconcile: async (key) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(key);
      running--;
      return key;
    },
  });
  try {
    await Promise.all(["a", "b", "c", "d", "c", "d"].map((k) => q.add(k)));
    assert.deepEqual(seen.sort(), ["a", "b", "c", "d"]);
    assert.equal(most, 2);
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue: failures and retry results come back with growing, capped back-off", async () => {
  const delays: number[] = [];
  let runs = 0;
  const q = new WorkQueue<string>({
    baseDelayMs: 1,
    maxDelayMs: 4,
    reconcile: () => {
      runs++;
      if (runs <= 2) return Promise.reject(new Error("API server down"));
      return Promise.resolve(runs <= 4 ? "refused" : "applied");
    },
    retry: (r) => r === "refused",
    onRetry: (_key, ms) => delays.push(ms),
  });
  try {
    await assert.rejects(q.add("k"), /API server down/);
    await waitFor(() => runs === 5, "retried until applied");
    assert.deepEqual(delays, [1, 2, 4, 4]);
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue: bounded, and stop rejects what never ran", async () => {
  const gate = Promise.withResolvers<void>();
  const q = new WorkQueue({ workers: 1, maxKeys: 1, reconcile: () => gate.promise });
  const running = q.add("a");
  const waiting = q.add("b");
  await assert.rejects(q.add("c"), QueueFullError);
  const stopped = q.stop();
  gate.resolve();
  await running;
  await stopped;
  await assert.rejects(waiting, QueueStoppedError);
  await assert.rejects(q.add("d"), QueueStoppedError);
});

Deno.test("WorkQueue.addAfter: runs the key later, once, and not while it is queued already", async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ reconcile: (key) => Promise.resolve(void runs.push(key)) });
  try {
    assert.equal(q.addAfter("a", 30), true);
    assert.equal(q.addAfter("a", 0), true, "asked again while waiting: one run");
    assert.equal(runs.length, 0, "not run at once");
    assert.equal(q.length, 1);
    await waitFor(() => runs.length === 1, "delayed run");
    assert.deepEqual(runs, ["a"]);
    await q.add("b");
    assert.deepEqual(runs, ["a", "b"]);
    assert.equal(q.length, 0);
  } finally {
    await q.stop();
  }
  assert.equal(q.addAfter("a", 0), false, "stopped");
});

Deno.test("WorkQueue.addAfter: a sooner look replaces a later one (a gate opening sooner)", async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ reconcile: (key) => Promise.resolve(void runs.push(key)) });
  try {
    assert.equal(q.addAfter("a", 3_600_000), true);
    assert.equal(q.addAfter("a", 0), true);
    await waitFor(() => runs.length === 1, "the sooner look ran");
    assert.equal(q.addAfter("b", 0), true);
    assert.equal(q.addAfter("b", 3_600_000), true, "a later look keeps the sooner one");
    await waitFor(() => runs.length === 2, "b ran at its first time");
    assert.equal(q.length, 0, "no later look left waiting");
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue.addAfter: a key running when its time comes runs again after", async () => {
  let runs = 0;
  const gate = Promise.withResolvers<void>();
  const q = new WorkQueue({
    reconcile: async () => {
      if (++runs === 1) await gate.promise;
      return runs;
    },
  });
  try {
    const first = q.add("k");
    await waitFor(() => runs === 1, "first run started");
    q.addAfter("k", 0);
    await new Promise((r) => setTimeout(r, 10)); // let the timer fire while the run is held
    gate.resolve();
    await first;
    await waitFor(() => runs === 2, "the later look ran after the first run ended");
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue.addAfter: a delay beyond the longest timer waits, not runs at once", async () => {
  let runs = 0;
  const q = new WorkQueue({ reconcile: () => Promise.resolve(++runs) });
  try {
    assert.ok(q.addAfter("k", 365 * 86_400_000)); // a hold until next year
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runs, 0);
    assert.equal(q.length, 1);
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue.addAfter: keys whose time came run after those add queued, until added", async () => {
  const runs: string[] = [];
  const gate = Promise.withResolvers<void>();
  const q = new WorkQueue({
    workers: 1,
    reconcile: async (key) => {
      runs.push(key);
      if (key === "busy") await gate.promise;
    },
  });
  try {
    const busy = q.add("busy");
    await waitFor(() => runs.length === 1, "the one worker is busy");
    for (const key of ["look-1", "look-2", "look-3"]) q.addAfter(key, 0);
    await new Promise((r) => setTimeout(r, 10)); // their timers fire while the worker is busy
    const delivery = q.add("delivery");
    const looked = q.add("look-3"); // asked for now (a watch event): no longer behind
    gate.resolve();
    await Promise.all([busy, delivery, looked]);
    await waitFor(() => runs.length === 5, "every key ran");
    assert.deepEqual(runs, ["busy", "delivery", "look-3", "look-1", "look-2"]);
    assert.equal(q.length, 0);
  } finally {
    await q.stop();
  }
});

Deno.test("WorkQueue: a sweep of reconciles that await no I/O lets a timer run in between", async () => {
  const KEYS = 400;
  let done = 0;
  const q = new WorkQueue({
    reconcile: () => {
      const until = performance.now() + 0.5; // 200 ms in all, none of it awaiting
      while (performance.now() < until) { /* spin */ }
      return Promise.resolve(++done);
    },
  });
  try {
    let doneWhenTimerRan: number | undefined;
    setTimeout(() => doneWhenTimerRan = done, 0);
    await Promise.all(Array.from({ length: KEYS }, (_, i) => q.add(`k${i}`)));
    assert.ok(
      doneWhenTimerRan !== undefined && doneWhenTimerRan < KEYS / 4,
      `the timer ran after ${doneWhenTimerRan} of ${KEYS} reconciles`,
    );
  } finally {
    await q.stop();
  }
  await new Promise((r) => setTimeout(r, 0));
});

for (const chain of ["adds the next key", "adds its own key again"]) {
  Deno.test(`WorkQueue: a chain of reconciles that await nothing and ${chain} lets a timer run`, async () => {
    const RUNS = 400;
    let done = 0;
    const q: WorkQueue<number> = new WorkQueue({
      reconcile: (key) => {
        const until = performance.now() + 0.5; // 200 ms in all, none of it awaiting
        while (performance.now() < until) { /* spin */ }
        if (++done < RUNS) q.add(chain === "adds the next key" ? `k${done}` : key).catch(() => {});
        return Promise.resolve(done);
      },
    });
    try {
      let doneWhenTimerRan: number | undefined;
      setTimeout(() => doneWhenTimerRan = done, 0);
      await q.add("k0");
      while (done < RUNS) await new Promise((r) => setTimeout(r, 1));
      assert.ok(
        doneWhenTimerRan !== undefined && doneWhenTimerRan < RUNS / 4,
        `the timer ran after ${doneWhenTimerRan} of ${RUNS} reconciles`,
      );
    } finally {
      await q.stop();
    }
    await new Promise((r) => setTimeout(r, 0));
  });
}

Deno.test({
  name: "WorkQueue: without a backlog, a reconcile starts without a time slice's timer",
  // The slice's timer per turn would still be pending when the test ends (the sanitizer is
  // on by default; said here because the test depends on it).
  sanitizeOps: true,
  fn: async () => {
    const q = new WorkQueue({ reconcile: () => Promise.resolve("applied") });
    assert.deepEqual(await Promise.all([q.add("a"), q.add("b")]), ["applied", "applied"]);
    await q.stop();
  },
});

Deno.test("WorkQueue: a reconcile waiting for its time slice does not start once stopped", async () => {
  let stopped = false;
  let startedAfterStop = 0;
  let done = 0;
  const q = new WorkQueue({
    workers: 8,
    reconcile: () => {
      if (stopped) startedAfterStop++;
      const until = performance.now() + 2; // awaits nothing: the slice runs out
      while (performance.now() < until) { /* spin */ }
      return Promise.resolve(++done);
    },
  });
  const adds = Array.from({ length: 40 }, (_, i) => q.add(`k${i}`).catch((e) => e));
  await new Promise((r) => setTimeout(r, 0)); // one turn: some ran, the next wait for theirs
  stopped = true;
  await q.stop();
  const results = await Promise.all(adds);
  assert.equal(startedAfterStop, 0);
  assert.ok(done < 40, `all ${done} ran: the test did not stop mid-sweep`);
  assert.ok(results.some((r) => r instanceof QueueStoppedError), "waiting adds are told");
  await new Promise((r) => setTimeout(r, 0));
});
