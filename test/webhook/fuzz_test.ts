/**
 * Fuzzing POST /event through the real HTTP server (the service as `argoos serve` starts it,
 * on a fake API server, with a stub registry): seeded and bounded, 10,000 bodies of random
 * bytes, truncated and deeply nested JSON, wrong types at every level, prototype keys, huge
 * ids, chunked and oversized uploads. Every answer is a 2xx or a 4xx, and the service is
 * still healthy after.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startService } from "../support/argoos_service.ts";
import { deployment } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";
import { startTagRegistry } from "../service/tag_registry.ts";
import { seededRandom } from "../support/seeded_random.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed);
const BODIES = 10_000;
const CONCURRENCY = 8;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One generated delivery: its body and how it is sent. */
interface Case {
  kind: string;
  body: Uint8Array<ArrayBuffer> | string;
  chunked?: boolean;
}

function generator(random: () => number, host: string) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const valid = (): Json =>
    JSON.parse(pushEnvelope(
      { host, repository: "myapp", tag: pick(["1.2.4", "1.3.0", "2.0.0", "latest"]) },
      { host, repository: pick(["myapp", "other/app"]), tag: "1.2.5" },
    ));
  const anyValue = (depth = 0): Json => {
    switch (int(depth > 3 ? 6 : 8)) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return pick([0, -1, 1e308, -0, 3.5, Number.MAX_SAFE_INTEGER]);
      case 3:
        return pick(["", " ", "push", "x".repeat(int(300)), "\u0000", "🔑", "../..", "sha256:"]);
      case 4:
        return "A".repeat(5_000 + int(30_000)); // huge string
      case 5:
        return pick(["__proto__", "constructor", "prototype", "toString"]);
      case 6:
        return Array.from({ length: int(4) }, () => anyValue(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: int(4) }, () => [pick(KEYS), anyValue(depth + 1)]),
        );
    }
  };
  /** Every path of objects and arrays in a value, to break one of them. */
  const paths = (v: Json, at: (string | number)[] = []): (string | number)[][] => {
    const out = [at];
    if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
    }
    return out;
  };
  const setAt = (root: Json, path: (string | number)[], value: Json): Json => {
    if (path.length === 0) return value;
    let node = root as Record<string | number, Json>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
    node[path.at(-1)!] = value;
    return root;
  };
  const nested = (depth: number) => {
    const open = pick(["[", '{"events":', '{"a":']);
    const close = open === "[" ? "]" : "}";
    return open.repeat(depth) + "1" + close.repeat(random() < 0.5 ? depth : int(depth));
  };
  const withProtoKeys = (): string => {
    const env = valid() as { events: Record<string, Json>[] };
    const key = pick(["__proto__", "constructor", "prototype"]);
    const poison = { [pick(["events", "polluted", "toString", "id"])]: anyValue() };
    // Written as text: an object literal would set the prototype instead of a key.
    const inject = (json: string) => json.replace(/^\{/, `{"${key}":${JSON.stringify(poison)},`);
    const where = int(3);
    if (where === 0) return inject(JSON.stringify(env));
    const event = JSON.stringify(env.events[0]);
    const target = JSON.stringify(env.events[0].target);
    const changed = where === 1
      ? JSON.stringify(env).replace(event, inject(event))
      : JSON.stringify(env).replace(target, inject(target));
    return changed;
  };

  return (i: number): Case => {
    // Every 1000th: an oversized upload (both with and without a declared length).
    if (i % 1000 === 999) {
      return {
        kind: "oversized",
        body: "x".repeat(1024 * 1024 + 1 + int(4096)),
        chunked: i % 2000 === 999,
      };
    }
    const chunked = random() < 0.1;
    switch (int(8)) {
      case 0: {
        const bytes = new Uint8Array(int(2048));
        for (let b = 0; b < bytes.length; b++) bytes[b] = int(256);
        return { kind: "random bytes", body: bytes, chunked };
      }
      case 1: {
        const text = JSON.stringify(valid());
        return { kind: "truncated", body: text.slice(0, int(text.length)), chunked };
      }
      case 2:
        return { kind: "nested", body: nested(1 + int(20_000)), chunked };
      case 3: {
        const doc = valid();
        const all = paths(doc);
        return {
          kind: "wrong type",
          body: JSON.stringify(setAt(doc, pick(all), anyValue())),
          chunked,
        };
      }
      case 4:
        return { kind: "prototype keys", body: withProtoKeys(), chunked };
      case 5: {
        const doc = valid() as { events: Record<string, Json>[] };
        // Mostly tens of KiB; one in fifty near the body cap.
        doc.events[0].id = "e".repeat(random() < 0.02 ? 900_000 : 1_000 + int(30_000));
        return { kind: "huge id", body: JSON.stringify(doc), chunked };
      }
      case 6: {
        const doc = valid() as { events: Json[] };
        doc.events = Array.from({ length: 90 + int(30) }, () => doc.events[0]);
        return { kind: "many events", body: JSON.stringify(doc), chunked };
      }
      default:
        return { kind: "valid", body: JSON.stringify(valid()), chunked };
    }
  };
}

const KEYS = [
  "events",
  "id",
  "action",
  "target",
  "repository",
  "tag",
  "digest",
  "mediaType",
  "request",
  "host",
  "timestamp",
  "__proto__",
  "constructor",
] as const;

/** A body as a stream of a few chunks: sent with Transfer-Encoding: chunked. */
function chunkedBody(body: Uint8Array | string, random: () => number): ReadableStream<Uint8Array> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const n = 1 + Math.floor(random() * Math.max(1, bytes.length / 3));
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

Deno.test("fuzz: 10,000 hostile deliveries get 2xx or 4xx, never 5xx, and the service lives", async () => {
  const registry = startTagRegistry({ myapp: ["1.2.3", "1.2.4", "1.3.0", "2.0.0", "latest"] });
  const host = registry.host;
  const svc = await startService({
    seed: (cluster) =>
      cluster.fake.put(deployment({
        name: "web",
        policy: "minor",
        containers: [{ name: "app", image: `${host}/myapp:1.2.3` }],
      })),
  });
  const random = seededRandom(SEED);
  const next = generator(random, host);
  const statuses = new Map<string, number>();
  const failures: string[] = [];
  try {
    await svc.argoos.cache.synced;
    let i = 0;
    const worker = async () => {
      while (i < BODIES && failures.length < 5) {
        const n = i++;
        const c = next(n);
        let status: number;
        try {
          const res = await fetch(`${svc.argoos.url}/event`, {
            method: "POST",
            headers: {
              "content-type": "application/vnd.docker.distribution.events.v1+json",
              "x-argoos-token": "t",
            },
            body: c.chunked ? chunkedBody(c.body, random) : c.body,
          });
          await res.body?.cancel();
          status = res.status;
        } catch (err) {
          // The server may stop reading an oversized upload and close: a refusal, not a crash.
          if (c.kind === "oversized") continue;
          failures.push(`#${n} ${c.kind}: ${(err as Error).message}`);
          continue;
        }
        statuses.set(`${c.kind} ${status}`, (statuses.get(`${c.kind} ${status}`) ?? 0) + 1);
        if (status >= 500) failures.push(`#${n} ${c.kind}: ${status}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.deepEqual(failures, [], `seed ${SEED}: ${[...statuses].join(", ")}`);
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.ok(answered >= BODIES - 20, `${answered} answered`);
    // Every kind was tried and refused or accepted as it should be.
    assert.ok(statuses.get("valid 200"), [...statuses].join(", "));
    assert.ok(statuses.get("oversized 413"), [...statuses].join(", "));
    assert.equal((await svc.get("/healthz")).status, 200);
    assert.ok(!svc.log.records().some((r) => r.level === "error"), "no error logged");
  } finally {
    await svc.stop();
    await registry.close();
  }
});
