/**
 * Running the work of an event id at most once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DeliveryLedger } from "../../lib/webhook/delivery_ledger.ts";

Deno.test("DeliveryLedger runs an id once and skips later deliveries", async () => {
  const ledger = new DeliveryLedger();
  let runs = 0;
  const work = () => Promise.resolve(void runs++);
  assert.equal(await ledger.once("e1", work), true);
  assert.equal(await ledger.once("e1", work), false);
  assert.equal(await ledger.once("e2", work), true);
  assert.equal(runs, 2);
});

Deno.test("DeliveryLedger: a concurrent duplicate waits for the same run", async () => {
  const ledger = new DeliveryLedger();
  let runs = 0;
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => (finish = resolve));
  const first = ledger.once("e1", async () => {
    runs++;
    await gate;
  });
  let secondDone = false;
  const second = ledger.once("e1", () => Promise.resolve(void runs++)).then((ran) => {
    secondDone = true;
    return ran;
  });
  await Promise.resolve();
  assert.equal(secondDone, false, "the duplicate waits for the running work");
  finish();
  assert.deepEqual(await Promise.all([first, second]), [true, false]);
  assert.equal(runs, 1);
});

Deno.test("DeliveryLedger: a failed run is forgotten, so the retry runs", async () => {
  const ledger = new DeliveryLedger();
  let attempts = 0;
  const flaky = () => {
    attempts++;
    return attempts === 1 ? Promise.reject(new Error("apiserver down")) : Promise.resolve();
  };
  await assert.rejects(ledger.once("e1", flaky), /apiserver down/);
  assert.equal(await ledger.once("e1", flaky), true);
  assert.equal(await ledger.once("e1", flaky), false);
  assert.equal(attempts, 2);
});

Deno.test("DeliveryLedger: a duplicate waiting on a failing run sees the failure", async () => {
  const ledger = new DeliveryLedger();
  let fail!: (err: Error) => void;
  const first = ledger.once("e1", () => new Promise<void>((_, reject) => (fail = reject)));
  const second = ledger.once("e1", () => Promise.resolve());
  fail(new Error("boom"));
  await assert.rejects(first, /boom/);
  await assert.rejects(second, /boom/);
  assert.equal(await ledger.once("e1", () => Promise.resolve()), true);
});

Deno.test("DeliveryLedger forgets the oldest ids beyond its capacity", async () => {
  const ledger = new DeliveryLedger(2);
  const noop = () => Promise.resolve();
  for (const id of ["a", "b", "c"]) assert.equal(await ledger.once(id, noop), true);
  assert.equal(await ledger.once("b", noop), false);
  assert.equal(await ledger.once("c", noop), false);
  assert.equal(await ledger.once("a", noop), true, "a was evicted");
});
