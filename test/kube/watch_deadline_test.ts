/**
 * The client-side watch deadline: a stream that goes silent past its timeoutSeconds (a
 * dead connection, or a server that ignores the parameter) ends instead of hanging.
 *
 * @module
 */

import assert from "node:assert/strict";
import { KubeClient, type WatchEvent } from "../../lib/kube/client.ts";
import { KubeApiError } from "../../lib/kube/errors.ts";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { plainConnection, serveStub } from "./stub_server.ts";

const event = (name: string, rv: string) =>
  JSON.stringify({ type: "ADDED", object: { metadata: { name, resourceVersion: rv } } }) + "\n";

/** A stub whose watch responses send `lines` and then stay silent and open. */
function silentAfter(lines: string[]) {
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const stub = serveStub(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          streams.push(c);
          for (const line of lines) c.enqueue(new TextEncoder().encode(line));
        },
      }),
      { headers: { "content-type": "application/json" } },
    )
  );
  return {
    ...stub,
    async close() {
      for (const c of streams) {
        try {
          c.close();
        } catch {
          // Already cancelled by the client.
        }
      }
      await stub.close();
    },
  };
}

/** Rejects instead of letting a broken test hang the suite. */
function bounded<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting for ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

Deno.test("watch: a stream silent past timeoutSeconds + grace ends quietly", async () => {
  const stub = silentAfter([event("a", "6")]);
  const client = new KubeClient(plainConnection(stub.url), { watchGraceMs: 50 });
  try {
    const got: WatchEvent<{ metadata: { name: string } }>[] = [];
    const watch = client.watch<{ metadata: { name: string } }>(DEPLOYMENTS, {
      timeoutSeconds: 1,
    });
    await bounded(
      (async () => {
        for await (const ev of watch) got.push(ev);
      })(),
      "the silent watch to end",
    );
    assert.deepEqual(got.map((e) => e.object.metadata.name), ["a"], "events before the silence");
  } finally {
    await stub.close();
  }
});

Deno.test("watch: each chunk heard moves the deadline: a stream that keeps talking stays open past it", async () => {
  // Ten events 150 ms apart: 1.5 s, past the 1.05 s a silence may last.
  const timers: ReturnType<typeof setTimeout>[] = [];
  const stub = serveStub(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 10; i++) {
            timers.push(setTimeout(() => {
              try {
                c.enqueue(new TextEncoder().encode(event(`e${i}`, String(10 + i))));
              } catch {
                // Cancelled by the client.
              }
            }, 150 * (i + 1)));
          }
        },
        cancel() {
          timers.forEach(clearTimeout);
        },
      }),
      { headers: { "content-type": "application/json" } },
    )
  );
  const client = new KubeClient(plainConnection(stub.url), { watchGraceMs: 50 });
  try {
    const got: string[] = [];
    const watch = client.watch<{ metadata: { name: string } }>(DEPLOYMENTS, {
      timeoutSeconds: 1,
    });
    await bounded(
      (async () => {
        for await (const ev of watch) got.push(ev.object.metadata.name);
      })(),
      "the watch to end once silent",
    );
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `e${i}`));
  } finally {
    timers.forEach(clearTimeout);
    await stub.close();
  }
});

Deno.test("watch: the caller's signal still ends a watch before the deadline", async () => {
  const stub = silentAfter([]);
  const client = new KubeClient(plainConnection(stub.url), { watchGraceMs: 60_000 });
  try {
    const ac = new AbortController();
    const watch = client.watch(DEPLOYMENTS, { timeoutSeconds: 60, signal: ac.signal });
    const next = watch.next();
    setTimeout(() => ac.abort(), 20);
    assert.deepEqual(await bounded(next, "the aborted watch"), { done: true, value: undefined });
  } finally {
    await stub.close();
  }
});

Deno.test("watch: no response headers before the deadline is a Timeout error", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const stub = serveStub(async () => {
    await released;
    return new Response("");
  });
  const client = new KubeClient(plainConnection(stub.url), { watchGraceMs: 50 });
  try {
    const err = await bounded(
      client.watch(DEPLOYMENTS, { timeoutSeconds: 1 }).next().catch((e) => e),
      "the unanswered watch",
    );
    assert.ok(err instanceof KubeApiError, String(err));
    assert.equal(err.status, 0);
    assert.equal(err.reason, "Timeout");
  } finally {
    release();
    await stub.close();
  }
});
