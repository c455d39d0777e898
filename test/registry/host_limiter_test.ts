import assert from "node:assert/strict";
import { RegistryError } from "../../lib/registry/errors.ts";
import { HostLimiter } from "../../lib/registry/host_limiter.ts";

Deno.test("HostLimiter: at most N in flight per host, others independent", async () => {
  const limiter = new HostLimiter(2, () => 0);
  let active = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const task = () =>
    limiter.run("a", async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
    });
  const all = Promise.all([task(), task(), task(), task(), task()]);
  await Promise.resolve();
  assert.equal(gates.length, 2);
  assert.equal(await limiter.run("b", () => Promise.resolve("other host")), "other host");
  while (gates.length) {
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  }
  await all;
  assert.equal(peak, 2);
});

Deno.test("HostLimiter: a failing task frees its slot", async () => {
  const limiter = new HostLimiter(1, () => 0);
  await assert.rejects(limiter.run("a", () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limiter.run("a", () => Promise.resolve(1)), 1);
});

Deno.test("HostLimiter: backoff fails fast for that host only, until it passes", async () => {
  let now = 1000;
  const limiter = new HostLimiter(1, () => now);
  limiter.backOff("a", 5000);
  limiter.backOff("a", 1000); // never shortens
  assert.equal(limiter.backoffRemaining("a"), 5000);
  assert.equal(limiter.backoffRemaining("b"), 0);
  const err = await limiter.run("a", () => Promise.resolve(1)).catch((e) => e);
  assert.ok(err instanceof RegistryError);
  assert.equal(err.transient, true);
  assert.equal(err.retryAfterMs, 5000);
  assert.equal(err.host, "a");
  assert.equal(await limiter.run("b", () => Promise.resolve(2)), 2);
  now += 5000;
  assert.equal(await limiter.run("a", () => Promise.resolve(3)), 3);
});

Deno.test("HostLimiter: waiters queued before a backoff are refused when their turn comes", async () => {
  const limiter = new HostLimiter(1, () => 0);
  let release!: () => void;
  const first = limiter.run("a", () => new Promise<void>((r) => (release = r)));
  const second = limiter.run("a", () => Promise.resolve("ran"));
  limiter.backOff("a", 1000);
  release();
  await first;
  await assert.rejects(second, RegistryError);
});

Deno.test("HostLimiter: rejects a concurrency below 1", () => {
  assert.throws(() => new HostLimiter(0, () => 0), RangeError);
});

Deno.test("HostLimiter: an idle host is forgotten, a host backing off is kept", async () => {
  let now = 0;
  const limiter = new HostLimiter(2, () => now);
  for (let i = 0; i < 1000; i++) await limiter.run(`h${i}.example`, () => Promise.resolve());
  assert.equal(limiter.backoffRemaining("h0.example"), 0);
  await limiter.run("busy.example", () => {
    limiter.backOff("busy.example", 5_000);
    return Promise.resolve();
  });
  assert.equal(limiter.backoffRemaining("busy.example"), 5_000, "kept while backing off");
  assert.equal(limiter.size, 1, "only the host backing off is held");
  now = 6_000;
  assert.equal(limiter.backoffRemaining("busy.example"), 0);
});
