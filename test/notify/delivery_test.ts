/**
 * Delivery to one sink, against a receiver on 127.0.0.1: Standard Webhooks signatures checked
 * by the published `standardwebhooks` verifier and by node:crypto, retries on network errors,
 * 5xx and 429 (Retry-After honoured), none on other 4xx, the retry budget, the bounded queue
 * (oldest dropped first) and logs that never show the URL.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import { Webhook } from "standardwebhooks";
import {
  type DeliveryOutcome,
  SinkQueue,
  type SinkQueueOptions,
} from "../../lib/notify/delivery.ts";
import type { Notification } from "../../lib/notify/notification.ts";
import { parseSink, type SinkSpec } from "../../lib/notify/sinks.ts";
import { capture } from "../support/capture_log.ts";
import { waitFor } from "../support/wait_for.ts";
import { type Receiver, startReceiver } from "./receiver.ts";

const note = (id: string): Notification => ({
  id,
  type: "io.argoos.rollout.applied",
  source: "argoos/test",
  time: new Date().toISOString(),
  subject: "default/deployment/web",
  severity: "Normal",
  data: {
    namespace: "default",
    kind: "Deployment",
    name: "web",
    reason: "ImageUpdated",
    message: "m",
  },
  changes: [],
});

/** A queue to the receiver, its outcomes counted, fast back-off. */
function queueTo(r: Receiver, spec: Partial<SinkSpec> = {}, opts: SinkQueueOptions = {}) {
  const outcomes: DeliveryOutcome[] = [];
  const log = capture();
  const q = new SinkQueue(
    { name: "ops", format: "cloudevents", url: `${r.url}/hook/SECRET-PATH`, ...spec },
    { firstBackoffMs: 10, logger: log.logger, onOutcome: (o) => outcomes.push(o), ...opts },
  );
  return { q, outcomes, log };
}

async function withReceiver(fn: (r: Receiver) => Promise<void>) {
  const r = startReceiver();
  try {
    await fn(r);
  } finally {
    await r.close();
  }
}

Deno.test("a whsec_ secret signs per Standard Webhooks: the published verifier accepts it", () =>
  withReceiver(async (r) => {
    const secret = `whsec_${btoa("a key of thirty-two bytes, or so")}`;
    const { q } = queueTo(r, { secret });
    q.push(note("evt-1"));
    await q.idle();
    const [got] = r.received;
    assert.equal(got.headers.get("webhook-id"), "evt-1");
    assert.match(got.headers.get("webhook-timestamp")!, /^\d{10}$/);
    const headers = Object.fromEntries(got.headers);
    // Throws unless a v1 signature matches the id, timestamp and exact body.
    const verified = new Webhook(secret).verify(got.body, headers) as { id: string };
    assert.equal(verified.id, "evt-1");
    assert.throws(() => new Webhook(secret).verify(got.body + " ", headers));
    assert.throws(() => new Webhook(`whsec_${btoa("another key")}`).verify(got.body, headers));
  }));

Deno.test("a secret without whsec_ is the HMAC key as it is (node:crypto computes the same)", () =>
  withReceiver(async (r) => {
    const { q } = queueTo(r, { secret: "plain-secret" });
    q.push(note("evt-2"));
    await q.idle();
    const [got] = r.received;
    const signed = `${got.headers.get("webhook-id")}.${
      got.headers.get("webhook-timestamp")
    }.${got.body}`;
    const expected = createHmac("sha256", Buffer.from("plain-secret")).update(signed).digest(
      "base64",
    );
    assert.equal(got.headers.get("webhook-signature"), `v1,${expected}`);
  }));

Deno.test("no secret: no signature headers", () =>
  withReceiver(async (r) => {
    const { q } = queueTo(r);
    q.push(note("evt-3"));
    await q.idle();
    assert.equal(r.received[0].headers.get("webhook-signature"), null);
    assert.match(r.received[0].headers.get("content-type")!, /^application\/cloudevents\+json/);
  }));

Deno.test("5xx and 429 are retried (Retry-After honoured), with the same id; 4xx is final", () =>
  withReceiver(async (r) => {
    const { q, outcomes } = queueTo(r, { secret: "s" });
    r.script(
      new Response("down", { status: 503 }),
      new Response("slow down", { status: 429, headers: { "retry-after": "1" } }),
    );
    q.push(note("evt-4"));
    await q.idle();
    assert.equal(r.received.length, 3);
    assert.deepEqual(outcomes, ["retried", "retried", "delivered"]);
    assert.deepEqual(
      new Set(r.received.map((x) => x.headers.get("webhook-id"))),
      new Set(["evt-4"]),
    );
    // The 429 asked for a second: the third request came no sooner.
    assert.ok(
      r.received[2].at - r.received[1].at >= 950,
      `${r.received[2].at - r.received[1].at} ms`,
    );

    r.script(new Response("no", { status: 400 }));
    q.push(note("evt-5"));
    await q.idle();
    assert.equal(r.received.length, 4);
    assert.deepEqual(outcomes.slice(3), ["failed"]);
  }));

Deno.test("network errors and timeouts are retried until the budget runs out, then failed", async () => {
  // A port nothing listens on: connection refused.
  const closed = startReceiver();
  await closed.close();
  const { q, outcomes, log } = queueTo(closed, {}, { retryForMs: 300 });
  q.push(note("evt-6"));
  await q.idle();
  assert.equal(outcomes.at(-1), "failed");
  assert.ok(outcomes.filter((o) => o === "retried").length >= 2, outcomes.join());

  await withReceiver(async (r) => {
    r.script("hang", "hang");
    const t = queueTo(r, {}, { timeoutMs: 100 });
    t.q.push(note("evt-7"));
    await t.q.idle();
    assert.deepEqual(t.outcomes, ["retried", "retried", "delivered"]);
    assert.ok(t.log.lines.some((l) => l.includes('"why":"timed out"')));
  });
  // Logs name the sink, never its URL.
  assert.ok(log.lines.length > 0);
  for (const line of log.lines) {
    assert.doesNotMatch(line, /SECRET-PATH|127\.0\.0\.1/);
    assert.match(line, /"sink":"ops"/);
  }
});

Deno.test("a full queue drops its oldest, counted; a push never waits; stop cuts short", () =>
  withReceiver(async (r) => {
    r.script("hang");
    // The held request times out and is not retried (no budget): then the queue drains.
    const { q, outcomes } = queueTo(r, {}, { maxQueued: 2, timeoutMs: 300, retryForMs: 0 });
    q.push(note("first"));
    await waitFor(() => r.received.length === 1, "first request");
    const started = performance.now();
    for (const id of ["a", "b", "c", "d"]) q.push(note(id));
    assert.ok(performance.now() - started < 50, "push returns at once");
    assert.equal(q.length, 2);
    assert.deepEqual(outcomes, ["dropped", "dropped"]);
    await q.idle();
    assert.deepEqual(r.received.map((x) => JSON.parse(x.body).id), ["first", "c", "d"]);
    assert.deepEqual(outcomes, ["dropped", "dropped", "failed", "delivered", "delivered"]);

    // Stopping cuts the request in flight and drops what waits.
    r.script("hang");
    const held = queueTo(r, {}, { timeoutMs: 60_000 });
    held.q.push(note("e"));
    held.q.push(note("f"));
    await waitFor(() => r.received.length === 4, "e sent");
    await held.q.stop();
    assert.deepEqual(held.outcomes, ["failed", "dropped"]);
  }));

Deno.test("slack+http:// and teams+http:// reach a local relay with their vendor's JSON", () =>
  withReceiver(async (r) => {
    for (const [scheme, key] of [["slack", "blocks"], ["teams", "attachments"]]) {
      const spec = parseSink(`chat=${scheme}+${r.url}/${scheme}`);
      assert.equal(spec.url, `${r.url}/${scheme}`);
      const q = new SinkQueue(spec);
      q.push(note(scheme));
      await q.idle();
      const got = r.received.at(-1)!;
      assert.equal(got.path, `/${scheme}`);
      assert.equal(got.headers.get("content-type"), "application/json");
      assert.ok(key in JSON.parse(got.body), scheme);
    }
  }));
