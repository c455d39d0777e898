/**
 * The front's fast path for deliveries (`fastRoutes`, `guardFast`): the answers it gives from
 * a body received whole are those of the `Request` path, what it does not take is left to the
 * routes, and both ways in share one cap on deliveries at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { FastAnswer, FastRequest } from "../../lib/server/front.ts";
import { guardFast, guardHandler, InFlightCap } from "../../lib/server/guard.ts";
import { fastRoutes } from "../../lib/server/routes.ts";
import type { DeliverySummary } from "../../lib/reconcile/deliver.ts";
import { deliveryHandler, MAX_BODY_BYTES, requestHandler } from "../../lib/webhook/handler.ts";
import { RECEIVER_ROUTES } from "../../lib/webhook/sources/routes.ts";
import { fixedToken } from "../../lib/webhook/token.ts";

const encoder = new TextEncoder();
const TOKEN = "s3cret";
const SUMMARY: DeliverySummary = { applied: 1, unchanged: 0, refused: 0, rejected: 0 };

const deliveries = new Map(RECEIVER_ROUTES.map((r) => [
  r.source,
  deliveryHandler(r, { token: fixedToken(TOKEN), deliver: () => Promise.resolve(SUMMARY) }),
]));

const fast = fastRoutes({ deliveries, admit: guardFast({ cap: new InFlightCap() }) });

const PUSH = JSON.stringify({
  events: [{
    id: "e1",
    timestamp: "2026-12-07T05:00:00Z",
    action: "push",
    target: {
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      repository: "team/app",
      digest: `sha256:${"a".repeat(64)}`,
      tag: "1.2.4",
    },
    request: { host: "registry.example:5000" },
  }],
});

/** A POST as the front holds it once received whole: its length is always stated. */
function request(target: string, body: string, headers: Record<string, string> = {}): FastRequest {
  const bytes = encoder.encode(body);
  return {
    method: "POST",
    target,
    headers: { ...headers, "content-length": String(bytes.length) },
    body: bytes,
  };
}

/** The same request through the `Request` path: its answer as the front would write it. */
async function viaRequest(req: FastRequest, pathToken?: string): Promise<FastAnswer> {
  const source = req.target === "/event" ? "distribution" : "dockerhub";
  const res = await requestHandler(deliveries.get(source)!)(
    new Request(`http://argoos${req.target}`, {
      method: req.method,
      headers: req.headers,
      body: req.body.slice(),
    }),
    pathToken,
  );
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => headers[name] = value);
  return { status: res.status, headers, body: await res.text() };
}

Deno.test("fast path: each delivery is answered as the Request path answers it", async () => {
  const token = { "x-argoos-token": TOKEN };
  const cases: [string, FastRequest, string?][] = [
    ["a push", request("/event", PUSH, token)],
    ["a wrong token", request("/event", PUSH, { "x-argoos-token": "s3cre" })],
    ["no token", request("/event", PUSH)],
    ["not JSON", request("/event", "{nope", token)],
    ["no events", request("/event", '{"events":{}}', token)],
    ["over the size", request("/event", " ".repeat(MAX_BODY_BYTES + 1), token)],
    ["a token in the path", request(`/event/dockerhub/${TOKEN}`, "{}"), TOKEN],
    ["a wrong token in the path", request("/event/dockerhub/nope", "{}"), "nope"],
  ];
  for (const [name, req, pathToken] of cases) {
    const answer = await fast(req);
    assert.ok(answer, `${name}: taken`);
    assert.deepEqual(
      { ...answer, headers: { ...answer.headers } },
      await viaRequest(req, pathToken),
      name,
    );
  }
  const pushed = await fast(request("/event", PUSH, token))!;
  assert.deepEqual([pushed.status, JSON.parse(pushed.body)], [200, { ...SUMMARY, ignored: 0 }]);
});

Deno.test("fast path: what is not a delivery to a mounted route is left to the routes", () => {
  // Targets a URL reads otherwise than as they are: the routes would see another path token,
  // or another path.
  const cases: [string, FastRequest][] = [
    ["a GET", { ...request("/event", PUSH), method: "GET" }],
    ["a query after a path token", request(`/event/dockerhub/${TOKEN}?x=1`, "{}")],
    ["a fragment", request("/event#x", PUSH)],
    ["a dot segment as path token", request("/event/dockerhub/..", "{}")],
    ["an escaped dot segment", request("/event/dockerhub/%2e%2e", "{}")],
    ["a Host with a path", request("/event", PUSH, { host: "h/event/dockerhub" })],
    ["a Host with a space", request("/event", PUSH, { host: "a b" })],
    ["a NUL in a header value", request("/event", PUSH, { "x-argoos-token": "s3\0cret" })],
    ["another route", request("/healthz", "")],
    ["an unknown path", request("/nope", PUSH)],
  ];
  for (const [name, req] of cases) assert.equal(fast(req), undefined, name);
  const none = fastRoutes({ deliveries: new Map(), admit: guardFast({ cap: new InFlightCap() }) });
  assert.equal(none(request("/event", PUSH)), undefined, "poll-only mode: the routes answer 404");
});

Deno.test("fast path and Request path share one cap on deliveries at once", async () => {
  const cap = new InFlightCap(1);
  const cuts: string[] = [];
  const release = Promise.withResolvers<void>();
  const guarded = guardHandler(async () => {
    await release.promise;
    return new Response("done");
  }, { cap, onCut: (why) => cuts.push(why) });
  const admit = guardFast({ cap, onCut: (why) => cuts.push(why) });
  const run = () => Promise.resolve<FastAnswer>({ status: 200, headers: {}, body: "fast" });

  // The Request path holds the only place: a fast delivery is answered 503.
  const slow = guarded(new Request("http://argoos/event", { method: "POST", body: "{}" }));
  const busy = await admit("/event", run, true);
  assert.deepEqual([busy.status, busy.headers["retry-after"]], [503, "1"]);
  assert.match(busy.body, /busy: 1 deliveries in progress/);
  release.resolve();
  assert.equal(await (await slow).text(), "done");

  // Freed: the fast one runs; a failure in it is a 500, and frees its place too.
  assert.equal((await admit("/event", run, true)).body, "fast");
  const failed = await admit("/event", () => Promise.reject(new Error("boom")), true);
  assert.equal(failed.status, 500);
  assert.equal((await admit("/event", run, true)).status, 200);

  // A request without a body is not counted, as the guard does not count one.
  assert.ok(cap.enter(), "the only place, taken");
  assert.equal((await admit("/event", run, false)).body, "fast");
  assert.equal((await admit("/event", run, true)).status, 503);
  cap.leave();
  assert.deepEqual(cuts, ["busy", "busy"]);
});
