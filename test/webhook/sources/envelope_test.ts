/**
 * parseEnvelope over every real registry capture, and over malformed bodies.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EnvelopeError, parseEnvelope } from "../../../lib/webhook/sources/envelope.ts";

const FIXTURES = new URL("../../fixtures/", import.meta.url);
const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];

interface SummaryRow {
  action: string;
  mediaType: string;
  repository: string;
  tag: string | null;
  digest: string;
  event_id: string;
}

interface Capture {
  summary: SummaryRow[];
  deliveries: { body_raw: string }[];
}

async function jsonFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, FIXTURES))) {
    if (e.isFile && e.name.endsWith(".json") && !e.name.startsWith("_")) names.push(e.name);
  }
  return names.sort();
}

/** What the capture's own summary says Argoos must act on: tagged manifest pushes. */
function expectedPush(row: SummaryRow): boolean {
  return row.action === "push" && MANIFEST_TYPES.includes(row.mediaType) && !!row.tag;
}

Deno.test("parseEnvelope acts on exactly the tagged manifest pushes of every capture", async () => {
  const files = await jsonFiles("events/");
  assert.deepEqual(files.length, 38);
  let pushes = 0;
  let ignored = 0;
  for (const name of files) {
    const capture: Capture = JSON.parse(
      await Deno.readTextFile(new URL(`events/${name}`, FIXTURES)),
    );
    // Summary rows are the deliveries' events, in order (one event per envelope here).
    const events = capture.deliveries.flatMap((d) => {
      const env = parseEnvelope(JSON.parse(d.body_raw));
      return [
        ...env.pushes.map((p) => ({ id: p.id, push: p })),
        ...env.ignored.map((i) => ({ id: i.id, push: undefined })),
      ];
    });
    assert.deepEqual(events.length, capture.summary.length, name);
    capture.summary.forEach((row, i) => {
      const got = events[i];
      assert.deepEqual(got.id, row.event_id, `${name} #${i}`);
      if (expectedPush(row)) {
        pushes++;
        assert.deepEqual(
          got.push && [got.push.repository, got.push.tag, got.push.digest, got.push.mediaType],
          [row.repository, row.tag, row.digest, row.mediaType],
          `${name} #${i} is a tagged manifest push`,
        );
        assert.ok(got.push?.requestHost, `${name} #${i} request host`);
      } else {
        ignored++;
        assert.deepEqual(got.push, undefined, `${name} #${i} (${row.action}) must be ignored`);
      }
    });
  }
  // Guard against a vacuous pass: the captures hold both kinds.
  assert.ok(pushes > 20 && ignored > 50, `pushes ${pushes}, ignored ${ignored}`);
});

Deno.test("parseEnvelope on each representative body", async (t) => {
  const bodies = await jsonFiles("bodies/");
  assert.deepEqual(bodies.length, 22);
  for (const name of bodies) {
    await t.step(name, async () => {
      const raw = await Deno.readTextFile(new URL(`bodies/${name}`, FIXTURES));
      const event = JSON.parse(raw).events[0];
      const env = parseEnvelope(JSON.parse(raw));
      const acted = name.startsWith("manifest-push-") && !name.includes("untagged");
      if (acted) {
        assert.deepEqual(env.ignored, []);
        assert.deepEqual(env.pushes, [{
          id: event.id,
          timestamp: event.timestamp,
          repository: event.target.repository,
          tag: event.target.tag,
          digest: event.target.digest,
          mediaType: event.target.mediaType,
          requestHost: event.request.host,
        }]);
      } else {
        assert.deepEqual(env.pushes, []);
        assert.deepEqual(env.ignored.map((i) => [i.id, i.action]), [[event.id, event.action]]);
      }
    });
  }
});

Deno.test("parseEnvelope gives each ignored event a reason", () => {
  const target = { repository: "myapp", digest: "sha256:" + "a".repeat(64) };
  const env = parseEnvelope({
    events: [
      { id: "1", action: "pull", target: { ...target, tag: "1", mediaType: MANIFEST_TYPES[0] } },
      { id: "2", action: "push", target: { ...target, mediaType: "application/octet-stream" } },
      { id: "3", action: "push", target: { ...target, mediaType: MANIFEST_TYPES[0] } },
      { id: "4", action: "delete", target: { ...target, tag: "1" } },
      { id: "5", action: "mount", target },
      { id: "6", action: "push", target: { ...target, tag: "1" } },
    ],
  });
  assert.deepEqual(env.pushes, []);
  assert.deepEqual(env.ignored, [
    { id: "1", action: "pull", reason: "action pull" },
    { id: "2", action: "push", reason: "media type application/octet-stream" },
    { id: "3", action: "push", reason: "push by digest" },
    { id: "4", action: "delete", reason: "action delete" },
    { id: "5", action: "mount", reason: "action mount" },
    { id: "6", action: "push", reason: "media type none" },
  ]);
});

Deno.test("parseEnvelope rejects what is not an envelope", async (t) => {
  const push = {
    id: "e1",
    timestamp: "2026-11-25T09:17:38Z",
    action: "push",
    target: {
      mediaType: MANIFEST_TYPES[0],
      repository: "myapp",
      digest: "sha256:" + "a".repeat(64),
      tag: "1.2.4",
    },
    request: { host: "127.0.0.1:5000" },
  };
  const without = (path: string[]): unknown => {
    const copy = structuredClone(push) as unknown as Record<string, Record<string, unknown>>;
    if (path.length === 1) delete copy[path[0]];
    else delete copy[path[0]][path[1]];
    return { events: [copy] };
  };
  const cases: [string, string, RegExp][] = [
    ["JSON null", "null", /"events" array/],
    ["an array", "[]", /"events" array/],
    ["no events", "{}", /"events" array/],
    ["events not an array", '{"events":{}}', /"events" array/],
    ["event not an object", '{"events":[1]}', /events\[0\] must be an object/],
    ["event missing id", JSON.stringify(without(["id"])), /events\[0\]\.id/],
    ["event with empty id", JSON.stringify({ events: [{ ...push, id: "" }] }), /events\[0\]\.id/],
    ["event missing action", JSON.stringify(without(["action"])), /events\[0\]\.action/],
    ["event missing target", JSON.stringify(without(["target"])), /events\[0\]\.target/],
    [
      "push missing repository",
      JSON.stringify(without(["target", "repository"])),
      /target\.repository/,
    ],
    ["push missing digest", JSON.stringify(without(["target", "digest"])), /target\.digest/],
    ["push missing request", JSON.stringify(without(["request"])), /events\[0\]\.request/],
    ["push missing request.host", JSON.stringify(without(["request", "host"])), /request\.host/],
    [
      "second event bad",
      JSON.stringify({ events: [push, { ...push, id: 7 }] }),
      /events\[1\]\.id/,
    ],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseEnvelope(JSON.parse(body)), (err: unknown) => {
        assert.ok(err instanceof EnvelopeError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }
  await t.step("the valid base case parses", () => {
    assert.deepEqual(parseEnvelope({ events: [push] }).pushes.length, 1);
  });
});

Deno.test("parseEnvelope refuses ids, names, digests and hosts that break grammar or length", () => {
  const push = (target: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      events: [{
        id: "ce22755a-7ed2-4b26-8d40-2f4ed3a8e086",
        action: "push",
        target: {
          mediaType: MANIFEST_TYPES[0],
          repository: "team/app",
          tag: "1.2.3",
          digest: "sha256:" + "a".repeat(64),
          ...target,
        },
        request: { host: "registry.example:5000" },
        ...extra,
      }],
    });
  assert.equal(parseEnvelope(JSON.parse(push({}))).pushes.length, 1);
  const table: [string, string, string][] = [
    [push({}, { id: "x".repeat(65) }), "id", "events[0].id"],
    [push({}, { id: "a b" }), "id", "events[0].id"],
    [push({}, { id: "../../etc" }), "id", "events[0].id"],
    [push({ repository: "Team/App" }), "repository", "target.repository"],
    [push({ repository: "a/".repeat(128) + "b" }), "repository", "target.repository"],
    [push({ repository: "app//x" }), "repository", "target.repository"],
    [push({ tag: "-x" }), "tag", "target.tag"],
    [push({ tag: "t".repeat(129) }), "tag", "target.tag"],
    [push({ tag: "a/b" }), "tag", "target.tag"],
    [push({ digest: "sha256:xyz" }), "digest", "target.digest"],
    [push({ digest: "sha256:" + "a".repeat(1000) }), "digest", "target.digest"],
    [push({}, { request: { host: "bad host" } }), "host", "request.host"],
    [push({}, { request: { host: "h".repeat(300) } }), "host", "request.host"],
    [push({}, { action: "p".repeat(100) }), "shape", "events[0].action"],
    [JSON.stringify({ events: Array(101).fill({}) }), "too-many-events", "101 events"],
  ];
  for (const [body, reason, where] of table) {
    assert.throws(
      () => parseEnvelope(JSON.parse(body)),
      (err: unknown) => {
        assert.ok(err instanceof EnvelopeError);
        assert.equal(err.reason, reason, body.slice(0, 200));
        assert.ok(err.message.includes(where), err.message);
        assert.ok(!err.message.includes("\n") && err.message.length < 300, err.message);
        return true;
      },
    );
  }
});
