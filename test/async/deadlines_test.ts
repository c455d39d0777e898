import assert from "node:assert/strict";
import { Deadlines } from "../../lib/async/deadlines.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("Deadlines: keys fall due in time order, same times in the order set", async () => {
  const fired: string[] = [];
  const due = new Deadlines((key) => fired.push(key));
  const now = performance.now();
  due.set("late", now + 40);
  due.set("first", now);
  due.set("second", now);
  due.set("middle", now + 20);
  assert.equal(due.size, 4);
  await waitFor(() => fired.length === 4, "four keys due");
  assert.deepEqual(fired, ["first", "second", "middle", "late"]);
  assert.equal(due.size, 0);
});

// Fails on a timer still pending when the test ends.
Deno.test("Deadlines: set again moves a key, delete and clear cancel", {
  sanitizeOps: true,
}, async () => {
  const fired: string[] = [];
  const due = new Deadlines((key) => fired.push(key));
  const now = performance.now();
  due.set("moved-later", now);
  due.set("moved-later", now + 30);
  due.set("moved-sooner", now + 60_000);
  due.set("moved-sooner", now + 10);
  due.set("cancelled", now + 5);
  assert.equal(due.delete("cancelled"), true);
  assert.equal(due.delete("cancelled"), false);
  assert.equal(due.get("moved-later"), now + 30);
  await waitFor(() => fired.length === 2, "two keys due");
  assert.deepEqual(fired, ["moved-sooner", "moved-later"]);
  due.set("never", now + 5);
  due.clear(); // and its timer
  assert.equal(due.has("never"), false);
  assert.equal(due.size, 0);
});

Deno.test("Deadlines: a key set while keys fall due waits for the next turn", async () => {
  const fired: string[] = [];
  const due = new Deadlines((key) => {
    fired.push(key);
    if (key === "a") due.set("again", performance.now());
  });
  due.set("a", performance.now());
  due.set("b", performance.now());
  await waitFor(() => fired.length === 3, "three keys due");
  assert.deepEqual(fired, ["a", "b", "again"]);
});

Deno.test("Deadlines: many moves keep the heap bounded and the order right", async () => {
  const fired: string[] = [];
  const due = new Deadlines((key) => fired.push(key));
  const now = performance.now();
  for (let round = 0; round < 50; round++) {
    for (let k = 0; k < 20; k++) due.set(`k${k}`, now + 60_000 + round);
  }
  for (let k = 19; k >= 0; k--) due.set(`k${k}`, now + 20 - k);
  assert.equal(due.size, 20);
  await waitFor(() => fired.length === 20, "twenty keys due");
  assert.deepEqual(fired, Array.from({ length: 20 }, (_, i) => `k${19 - i}`));
});
