/**
 * Each sink's payload against its documented shape (fixtures in test/fixtures/notify, named
 * after the vendor pages), and the CloudEvents attributes the issue names.
 *
 * @module
 */

import assert from "node:assert/strict";
import { payloadOf } from "../../lib/notify/formats.ts";
import { type Notification, notificationOf } from "../../lib/notify/notification.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const fixture = async (name: string): Promise<Json> =>
  JSON.parse(await Deno.readTextFile(new URL(`../fixtures/notify/${name}`, import.meta.url)));

/**
 * Where `ours` lacks a key of `doc` or holds another JSON type there (each element of a
 * documented array must match some element of ours); empty when it conforms.
 */
function mismatches(ours: Json, doc: Json, path = "$"): string[] {
  const type = (v: Json) => v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
  if (type(ours) !== type(doc)) return [`${path}: ${type(ours)}, documented ${type(doc)}`];
  if (Array.isArray(doc)) {
    return doc.flatMap((d, i) =>
      ours.some((o: Json) => mismatches(o, d).length === 0)
        ? []
        : [`${path}[${i}]: no element like it`]
    );
  }
  if (type(doc) !== "object") return [];
  return Object.keys(doc).flatMap((k) =>
    k in ours ? mismatches(ours[k], doc[k], `${path}.${k}`) : [`${path}.${k}: missing`]
  );
}

const workload = readWorkload(
  kindNamed("Deployment")!,
  deployment({
    name: "web",
    namespace: "shop",
    policy: "minor",
    containers: [{ name: "app", image: "registry.example.com/web:1.2.3" }],
  }) as Parameters<typeof readWorkload>[1],
);
const DIGEST = `sha256:${"ab".repeat(32)}`;

const failed: Notification = notificationOf({
  workload,
  reason: "RolloutFailed",
  type: "Warning",
  message:
    "app: registry.example.com/web:1.2.3 → registry.example.com/web:1.3.0: crash-loop: <app> restarted 5 times",
  changes: [{
    container: "app",
    from: "registry.example.com/web:1.2.3",
    to: "registry.example.com/web:1.3.0",
    digest: DIGEST,
  }],
  cause: "crash-loop",
}, { source: "argoos/prod", now: Date.UTC(2026, 0, 2, 3, 4, 5), id: "n-1" })!;

Deno.test("CloudEvents: structured mode, the documented attributes, data as the issue names it", async () => {
  const { contentType, body } = payloadOf("cloudevents", failed);
  assert.match(contentType, /^application\/cloudevents\+json/);
  const ev = JSON.parse(body);
  // The envelope as documented; `data` is the application's own (an object here too).
  const { data: documentedData, ...envelope } = await fixture(
    "cloudevents-json-format-structured.json",
  );
  assert.deepEqual(mismatches(ev, envelope), []);
  assert.equal(typeof ev.data, typeof documentedData);
  assert.equal(ev.specversion, "1.0");
  assert.equal(ev.id, "n-1");
  assert.equal(ev.source, "argoos/prod");
  assert.equal(ev.type, "io.argoos.rollout.failed");
  assert.equal(ev.subject, "shop/deployment/web");
  assert.equal(ev.time, "2026-01-02T03:04:05.000Z");
  assert.deepEqual(ev.data, {
    namespace: "shop",
    kind: "Deployment",
    name: "web",
    container: "app",
    from: "registry.example.com/web:1.2.3",
    to: "registry.example.com/web:1.3.0",
    digest: DIGEST,
    policy: "minor",
    reason: "crash-loop",
    message: failed.data.message,
  });
});

Deno.test("Slack: text and blocks as the incoming-webhook page shows, naming workload, images and reason", async () => {
  const { contentType, body } = payloadOf("slack", failed);
  assert.equal(contentType, "application/json");
  const msg = JSON.parse(body);
  assert.deepEqual(mismatches(msg, await fixture("slack-incoming-webhooks-blocks.json")), []);
  assert.equal(msg.text, "Rollout failed: Deployment shop/web");
  const text = JSON.stringify(msg.blocks);
  for (const part of ["shop/web", "web:1.2.3 → registry.example.com/web:1.3.0", "crash-loop"]) {
    assert.ok(text.includes(part), part);
  }
  // mrkdwn control characters escaped: "<app>" is not a link.
  assert.ok(text.includes("&lt;app&gt;"));
});

Deno.test("Teams: a message with one Adaptive Card attachment, as the Workflows webhook takes", async () => {
  const msg = JSON.parse(payloadOf("teams", failed).body);
  assert.deepEqual(mismatches(msg, await fixture("teams-incoming-webhook-adaptive-card.json")), []);
  const card = msg.attachments[0].content;
  assert.equal(card.type, "AdaptiveCard");
  assert.equal(card.body[0].text, "Rollout failed: Deployment shop/web");
  const facts = Object.fromEntries(card.body[1].facts.map((f: Json) => [f.title, f.value]));
  assert.equal(facts.Reason, "crash-loop");
  assert.match(facts.Image, /web:1\.2\.3 → registry\.example\.com\/web:1\.3\.0/);
});

Deno.test("every event reason maps to its type; other reasons notify nobody", () => {
  const table: [string, string | undefined][] = [
    ["ImageUpdated", "io.argoos.rollout.applied"],
    ["RolloutSucceeded", "io.argoos.rollout.succeeded"],
    ["RolloutFailed", "io.argoos.rollout.failed"],
    ["Reverted", "io.argoos.rollout.reverted"],
    ["UpdatePending", "io.argoos.update.pending"],
    ["ApprovalRequired", "io.argoos.update.pending"],
    ["UpdateAvailable", "io.argoos.update.available"],
    ["UpdateRejected", "io.argoos.update.refused"],
    ["ListingRefused", "io.argoos.update.refused"],
    ["ManualChange", "io.argoos.manual-change"],
    ["Held", undefined],
    ["WouldUpdate", undefined],
    ["InvalidPolicy", undefined],
  ];
  for (const [reason, type] of table) {
    const n = notificationOf(
      { workload, reason: reason as "ImageUpdated", type: "Normal", message: "m" },
      { source: "argoos/x", now: 0 },
    );
    assert.equal(n?.type, type, reason);
    // Nothing that does not apply: no container, no digest, the Event reason as the reason.
    if (n) {
      assert.deepEqual(Object.keys(n.data).sort(), [
        "kind",
        "message",
        "name",
        "namespace",
        "policy",
        "reason",
      ]);
    }
  }
});

Deno.test("several containers: data lists them all under changes", () => {
  const n = notificationOf({
    workload,
    reason: "ImageUpdated",
    type: "Normal",
    message: "m",
    changes: [{ container: "a", from: "a:1", to: "a:2" }, {
      container: "b",
      from: "b:1",
      to: "b:2",
    }],
  }, { source: "argoos/x", now: 0 })!;
  assert.equal(n.data.container, undefined);
  assert.deepEqual(n.data.changes?.map((c) => c.container), ["a", "b"]);
  assert.match(
    JSON.parse(payloadOf("slack", n).body).blocks[2].text.text,
    /a: a:1 → a:2\nb: b:1 → b:2/,
  );
});
