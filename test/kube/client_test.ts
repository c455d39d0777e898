import assert from "node:assert/strict";
import { KubeClient, type WatchEvent } from "../../lib/kube/client.ts";
import { isTransient, KubeApiError } from "../../lib/kube/errors.ts";
import { DEPLOYMENTS, LEASES } from "../../lib/kube/resource.ts";
import { plainConnection, serveStub } from "./stub_server.ts";

type Obj = { metadata: { name: string } };
const obj = (name: string): Obj => ({ metadata: { name } });

/** A response body that sends `chunks` one by one, then ends (or stays open). */
function chunked(chunks: string[], opts: { keepOpen?: boolean; onCancel?: () => void } = {}) {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (i < chunks.length) {
        await new Promise((r) => setTimeout(r, 5));
        ctrl.enqueue(enc.encode(chunks[i++]));
      } else if (!opts.keepOpen) {
        ctrl.close();
      } else {
        await new Promise(() => {}); // hold the stream open until cancelled
      }
    },
    cancel() {
      opts.onCancel?.();
    },
  });
}

Deno.test("list sends query parameters and auth, and returns the page", async () => {
  let seen: URL | undefined;
  let auth: string | null = null;
  const stub = serveStub((req) => {
    seen = new URL(req.url);
    auth = req.headers.get("authorization");
    return Response.json({ items: [obj("a")], metadata: { resourceVersion: "7" } });
  });
  try {
    const kube = new KubeClient(plainConnection(stub.url, "tok"));
    const page = await kube.list<Obj>(DEPLOYMENTS, {
      namespace: "prod",
      labelSelector: "argoos.io/policy",
      limit: 10,
    });
    assert.deepEqual(page.items, [obj("a")]);
    assert.equal(page.metadata.resourceVersion, "7");
    assert.equal(seen?.pathname, "/apis/apps/v1/namespaces/prod/deployments");
    assert.equal(seen?.searchParams.get("labelSelector"), "argoos.io/policy");
    assert.equal(seen?.searchParams.get("limit"), "10");
    assert.equal(seen?.searchParams.has("continue"), false);
    assert.equal(auth, "Bearer tok");
  } finally {
    await stub.close();
  }
});

Deno.test("server URL path prefixes are kept", async () => {
  let path = "";
  const stub = serveStub((req) => {
    path = new URL(req.url).pathname;
    return Response.json(obj("x"));
  });
  try {
    await new KubeClient(plainConnection(`${stub.url}/k8s/clusters/c-1/`)).get(
      DEPLOYMENTS,
      "a",
      "x",
    );
    assert.equal(path, "/k8s/clusters/c-1/apis/apps/v1/namespaces/a/deployments/x");
  } finally {
    await stub.close();
  }
});

Deno.test("listAll follows continue tokens and keeps the first resourceVersion", async () => {
  const calls: URLSearchParams[] = [];
  const stub = serveStub((req) => {
    const q = new URL(req.url).searchParams;
    calls.push(q);
    const page = Number(q.get("continue") ?? "0");
    return Response.json({
      items: [obj(`o${page}`)],
      metadata: { resourceVersion: `rv${page}`, continue: page < 2 ? String(page + 1) : undefined },
    });
  });
  try {
    const all = await new KubeClient(plainConnection(stub.url)).listAll<Obj>(DEPLOYMENTS);
    assert.deepEqual(all.items.map((o) => o.metadata.name), ["o0", "o1", "o2"]);
    assert.deepEqual(all.metadata, { resourceVersion: "rv0" });
    assert.deepEqual(calls.map((q) => q.get("limit")), ["500", "500", "500"]);
    assert.deepEqual(calls.map((q) => q.get("continue")), [null, "1", "2"]);
  } finally {
    await stub.close();
  }
});

Deno.test("create, replace, patch and delete use the right method, path and content type", async () => {
  const seen: string[] = [];
  const stub = serveStub(async (req) => {
    const body = req.body ? await req.text() : "";
    seen.push(
      `${req.method} ${new URL(req.url).pathname} ${req.headers.get("content-type")} ${body}`,
    );
    return Response.json(obj("w"));
  });
  try {
    const kube = new KubeClient(plainConnection(stub.url));
    await kube.create(LEASES, "ns", obj("w"));
    await kube.replace(LEASES, "ns", "w", obj("w"));
    await kube.patch(DEPLOYMENTS, "ns", "w", [{ op: "add", path: "/x", value: 1 }], "json");
    await kube.patch(DEPLOYMENTS, "ns", "w", { a: 1 }, "merge");
    await kube.patch(DEPLOYMENTS, "ns", "w", { a: 1 }, "strategic");
    await kube.delete(DEPLOYMENTS, "ns", "w");
    const lease = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";
    const dep = "/apis/apps/v1/namespaces/ns/deployments/w";
    assert.deepEqual(seen, [
      `POST ${lease} application/json {"metadata":{"name":"w"}}`,
      `PUT ${lease}/w application/json {"metadata":{"name":"w"}}`,
      `PATCH ${dep} application/json-patch+json [{"op":"add","path":"/x","value":1}]`,
      `PATCH ${dep} application/merge-patch+json {"a":1}`,
      `PATCH ${dep} application/strategic-merge-patch+json {"a":1}`,
      `DELETE ${dep} null `,
    ]);
  } finally {
    await stub.close();
  }
});

Deno.test("error responses become KubeApiError, from a Status or from plain text", async () => {
  const stub = serveStub((req) => {
    if (req.url.endsWith("/missing")) {
      return Response.json({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'deployments.apps "missing" not found',
        reason: "NotFound",
        details: { name: "missing", group: "apps", kind: "deployments" },
        code: 404,
      }, { status: 404 });
    }
    return new Response("upstream connect error", { status: 503 });
  });
  try {
    const kube = new KubeClient(plainConnection(stub.url));
    const notFound = await kube.get(DEPLOYMENTS, "a", "missing").catch((e) => e);
    assert.ok(notFound instanceof KubeApiError);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.reason, "NotFound");
    assert.equal(notFound.method, "GET");
    assert.equal(notFound.path, "/apis/apps/v1/namespaces/a/deployments/missing");
    assert.match(notFound.message, /"missing" not found/);
    assert.equal(isTransient(notFound), false);

    const down = await kube.get(DEPLOYMENTS, "a", "other").catch((e) => e);
    assert.ok(down instanceof KubeApiError);
    assert.equal(down.status, 503);
    assert.equal(down.reason, "ServiceUnavailable");
    assert.match(down.message, /upstream connect error/);
    assert.equal(isTransient(down), true);
  } finally {
    await stub.close();
  }
});

Deno.test("a 401 drops cached credentials and retries once", async () => {
  let calls = 0;
  const stub = serveStub((req) => {
    calls++;
    return req.headers.get("authorization") === "Bearer fresh"
      ? Response.json(obj("ok"))
      : Response.json({ kind: "Status", code: 401, reason: "Unauthorized" }, { status: 401 });
  });
  try {
    let token = "stale";
    let invalidations = 0;
    const conn = {
      ...plainConnection(stub.url),
      authHeaders: () => Promise.resolve({ Authorization: `Bearer ${token}` }),
      invalidateAuth() {
        invalidations++;
        token = "fresh";
      },
    };
    const kube = new KubeClient(conn);
    assert.deepEqual(await kube.get(DEPLOYMENTS, "a", "ok"), obj("ok"));
    assert.equal(calls, 2);
    token = "revoked";
    conn.invalidateAuth = () => invalidations++;
    const err = await kube.get(DEPLOYMENTS, "a", "ok").catch((e) => e);
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.status, 401);
    assert.equal(calls, 4, "only one retry");
    assert.equal(invalidations, 2);
  } finally {
    await stub.close();
  }
});

Deno.test("a slow server times out as a transient KubeApiError", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const stub = serveStub(async () => {
    await released;
    return new Response("late");
  });
  try {
    const kube = new KubeClient(plainConnection(stub.url), { timeoutMs: 50 });
    const err = await kube.list(DEPLOYMENTS).catch((e) => e);
    release();
    assert.ok(err instanceof KubeApiError, String(err));
    assert.equal(err.status, 0);
    assert.equal(err.reason, "Timeout");
    assert.equal(isTransient(err), true);
  } finally {
    release();
    await stub.close();
  }
});

Deno.test("a refused connection is a transient KubeApiError", async () => {
  const stub = serveStub(() => new Response());
  const url = stub.url;
  await stub.close();
  const err = await new KubeClient(plainConnection(url)).list(DEPLOYMENTS).catch((e) => e);
  assert.ok(err instanceof KubeApiError, String(err));
  assert.equal(err.reason, "NetworkError");
  assert.equal(isTransient(err), true);
});

Deno.test("watch reassembles events split anywhere across chunks", async () => {
  const events = [
    { type: "ADDED", object: obj("a") },
    { type: "MODIFIED", object: obj("b\nwith newline in name") },
    { type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } },
    { type: "DELETED", object: obj("ü-unicode") },
  ];
  const text = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
  const bytes = new TextEncoder().encode(text);
  // Split the byte stream at awkward places, including inside a multi-byte character.
  const cuts = [1, 7, 30, 31, 60, bytes.indexOf(0xc3) + 1, bytes.length - 1];
  let seen: URL | undefined;
  const stub = serveStub((req) => {
    seen = new URL(req.url);
    const parts = [0, ...cuts, bytes.length].slice(1).map((end, i, ends) =>
      bytes.slice(i === 0 ? 0 : ends[i - 1], end)
    );
    return new Response(
      new ReadableStream({
        async pull(ctrl) {
          const next = parts.shift();
          if (!next) return ctrl.close();
          await new Promise((r) => setTimeout(r, 2));
          ctrl.enqueue(next);
        },
      }),
    );
  });
  try {
    const got: WatchEvent<unknown>[] = [];
    const kube = new KubeClient(plainConnection(stub.url));
    for await (
      const ev of kube.watch(DEPLOYMENTS, {
        namespace: "x",
        resourceVersion: "5",
        allowWatchBookmarks: true,
        timeoutSeconds: 60,
      })
    ) got.push(ev);
    assert.deepEqual(got, events);
    assert.equal(seen?.pathname, "/apis/apps/v1/namespaces/x/deployments");
    assert.equal(seen?.searchParams.get("watch"), "true");
    assert.equal(seen?.searchParams.get("resourceVersion"), "5");
    assert.equal(seen?.searchParams.get("allowWatchBookmarks"), "true");
    assert.equal(seen?.searchParams.get("timeoutSeconds"), "60");
  } finally {
    await stub.close();
  }
});

Deno.test("watch reads events larger than its read buffer, in one reused buffer", async () => {
  // Two-byte characters throughout: the reads end inside characters as well as inside events.
  const events = [30_000, 70_000, 5].map((n, i) => ({
    type: "MODIFIED",
    object: { metadata: { name: `w${i}`, annotations: { note: "ü".repeat(n) } } },
  }));
  const body = new TextEncoder().encode(events.map((e) => JSON.stringify(e) + "\n").join(""));
  const stub = serveStub(() => new Response(body));
  try {
    const got: WatchEvent<unknown>[] = [];
    for await (const ev of new KubeClient(plainConnection(stub.url)).watch(DEPLOYMENTS, {})) {
      got.push(ev);
    }
    assert.deepEqual(got, events);
  } finally {
    await stub.close();
  }
});

Deno.test("watch yields a final event without trailing newline", async () => {
  const stub = serveStub(() =>
    new Response(chunked([`{"type":"ADDED","object":{"metadata":{"name":"a"}}}`]))
  );
  try {
    const got: WatchEvent<unknown>[] = [];
    for await (const ev of new KubeClient(plainConnection(stub.url)).watch(DEPLOYMENTS, {})) {
      got.push(ev);
    }
    assert.deepEqual(got, [{ type: "ADDED", object: obj("a") }]);
  } finally {
    await stub.close();
  }
});

Deno.test("watch ERROR 410 is thrown as KubeApiError status 410 after earlier events", async () => {
  const gone = {
    type: "ERROR",
    object: {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "too old resource version: 5 (1234)",
      reason: "Expired",
      code: 410,
    },
  };
  let cancelled = false;
  const stub = serveStub(() =>
    new Response(
      chunked([
        JSON.stringify({ type: "ADDED", object: obj("a") }) + "\n",
        JSON.stringify(gone) + "\n",
      ], { keepOpen: true, onCancel: () => cancelled = true }),
    )
  );
  try {
    const got: WatchEvent<unknown>[] = [];
    const err = await (async () => {
      for await (const ev of new KubeClient(plainConnection(stub.url)).watch(DEPLOYMENTS, {})) {
        got.push(ev);
      }
    })().catch((e) => e);
    assert.deepEqual(got, [{ type: "ADDED", object: obj("a") }]);
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.status, 410);
    assert.equal(err.reason, "Expired");
    assert.equal(isTransient(err), false);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(cancelled, "the stream was closed");
  } finally {
    await stub.close();
  }
});

Deno.test("watch stops quietly when the signal aborts and closes the stream", async () => {
  let cancelled = false;
  const stub = serveStub(() =>
    new Response(
      chunked([JSON.stringify({ type: "ADDED", object: obj("a") }) + "\n"], {
        keepOpen: true,
        onCancel: () => cancelled = true,
      }),
    )
  );
  try {
    const ac = new AbortController();
    const got: WatchEvent<unknown>[] = [];
    for await (
      const ev of new KubeClient(plainConnection(stub.url)).watch(DEPLOYMENTS, {
        signal: ac.signal,
      })
    ) {
      got.push(ev);
      setTimeout(() => ac.abort(), 10);
    }
    assert.equal(got.length, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(cancelled);
  } finally {
    await stub.close();
  }
});

Deno.test("breaking out of a watch loop closes the stream", async () => {
  let cancelled = false;
  const stub = serveStub(() =>
    new Response(
      chunked([JSON.stringify({ type: "ADDED", object: obj("a") }) + "\n"], {
        keepOpen: true,
        onCancel: () => cancelled = true,
      }),
    )
  );
  try {
    for await (const _ of new KubeClient(plainConnection(stub.url)).watch(DEPLOYMENTS, {})) break;
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(cancelled);
  } finally {
    await stub.close();
  }
});

Deno.test("a watch that the server refuses throws the Status", async () => {
  const stub = serveStub(() =>
    Response.json({ kind: "Status", code: 403, reason: "Forbidden", message: "no" }, {
      status: 403,
    })
  );
  try {
    const watch = new KubeClient(plainConnection(stub.url)).watch(DEPLOYMENTS, {});
    const err = await watch.next().catch((e) => e);
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.status, 403);
  } finally {
    await stub.close();
  }
});

Deno.test("a write's answer seen again on a watch is the object the write returned, not read twice", async () => {
  const written = { ...obj("a"), metadata: { name: "a", resourceVersion: "7" } };
  // Over the size kept: read again from its watch line.
  const large = {
    metadata: { name: "c", resourceVersion: "10", annotations: { x: "y".repeat(40_000) } },
  };
  const replaced = { ...obj("b"), metadata: { name: "b", resourceVersion: "8" } };
  // The server's own change to a, and an answer written again with other spacing: read anew.
  const theirs = { ...obj("a"), metadata: { name: "a", resourceVersion: "9" } };
  const watched = Promise.withResolvers<(line: string) => void>();
  const stub = serveStub((req) => {
    const url = new URL(req.url);
    if (url.searchParams.has("watch")) {
      return new Response(
        new ReadableStream<Uint8Array>({
          start: (ctrl) =>
            watched.resolve((line) => ctrl.enqueue(new TextEncoder().encode(line + "\n"))),
        }),
      );
    }
    // Answered as kube-apiserver answers: compact JSON and a newline.
    const body = req.method === "PATCH"
      ? (url.pathname.endsWith("/c") ? large : written)
      : replaced;
    return new Response(JSON.stringify(body) + "\n");
  });
  const kube = new KubeClient(plainConnection(stub.url));
  const ac = new AbortController();
  try {
    const events = kube.watch<Record<string, unknown>>(DEPLOYMENTS, { signal: ac.signal });
    const first = events.next(); // opens the watch
    const send = await watched.promise;
    const patched = await kube.patch(DEPLOYMENTS, "x", "a", [], "json");
    const put = await kube.replace(DEPLOYMENTS, "x", "b", replaced);
    const big = await kube.patch(DEPLOYMENTS, "x", "c", [], "json");
    send(`{"type":"MODIFIED","object":${JSON.stringify(written)}}`);
    send(`{"type":"MODIFIED","object":${JSON.stringify(theirs)}}`);
    send(`{"type":"MODIFIED", "object":${JSON.stringify(replaced)}}`);
    send(`{"type":"MODIFIED","object":${JSON.stringify(replaced)}}`);
    send(`{"type":"MODIFIED","object":${JSON.stringify(large)}}`);
    const got = [
      (await first).value!,
      ...await Promise.all([1, 2, 3, 4].map(() => events.next()))
        .then((all) => all.map((r) => r.value!)),
    ];
    assert.equal(got[0].object, patched, "the PATCH's answer, as returned");
    assert.deepEqual(got[1].object, theirs);
    assert.deepEqual(got[2].object, replaced);
    assert.notEqual(got[2].object, put, "not the same text: read");
    assert.equal(got[3].object, put, "the PUT's answer, as returned");
    assert.deepEqual(got[4].object, big);
    assert.notEqual(got[4].object, big, "over the size kept: read");
    assert.deepEqual(got.map((e) => e.type), Array(5).fill("MODIFIED"));
  } finally {
    ac.abort();
    await stub.close().catch(() => {});
  }
});
