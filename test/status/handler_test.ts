/**
 * `GET /status` and `GET /api/v1/workloads`: off unless configured, the token as a Basic
 * password (any user) or a Bearer token, 401 with a Basic challenge otherwise, a CSP that allows
 * exactly the page's inline script and style; and in the running service, what a rollout left.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { routes } from "../../lib/server/routes.ts";
import { statusHandler } from "../../lib/status/handler.ts";
import { fixedToken } from "../../lib/webhook/token.ts";
import { startService } from "../support/argoos_service.ts";
import { deployment, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";
import { NOW, seedStatus } from "./seed.ts";

const { workloads, decisions } = seedStatus();
const handle = routes({
  ready: () => true,
  metrics: () => "",
  status: statusHandler({
    cache: { all: () => workloads },
    decisions,
    token: fixedToken("s3cret"),
    now: () => NOW,
  }),
});
const get = (path: string, headers: Record<string, string> = {}) =>
  handle(new Request(`http://argoos${path}`, { headers }));
const basic = (user: string, password: string) => ({
  authorization: `Basic ${btoa(`${user}:${password}`)}`,
});

Deno.test("the token as a Basic password (any user) or a Bearer token; 401 with a challenge otherwise", async () => {
  for (
    const headers of [basic("anyone", "s3cret"), basic("", "s3cret"), {
      authorization: "Bearer s3cret",
    }]
  ) {
    const res = await get("/status", headers);
    assert.equal(res.status, 200, JSON.stringify(headers));
    await res.body?.cancel();
  }
  for (
    const headers of [{}, basic("s3cret", "wrong"), basic("s3cret", ""), {
      authorization: "Bearer s3cre",
    }, {
      authorization: "Token s3cret",
    }]
  ) {
    const res = await get("/api/v1/workloads", headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.headers.get("www-authenticate"), 'Basic realm="argoos", charset="UTF-8"');
    await res.body?.cancel();
  }
  const post = await handle(
    new Request("http://argoos/status", { method: "POST", headers: basic("u", "s3cret") }),
  );
  assert.equal(post.status, 405);
});

Deno.test("off unless configured; --insecure-status serves without a token", async () => {
  const off = await routes({ ready: () => true, metrics: () => "" })(
    new Request("http://argoos/status"),
  );
  assert.equal(off.status, 404);
  await off.body?.cancel();
  const open = statusHandler({ cache: { all: () => workloads }, decisions });
  assert.equal((await open(new Request("http://argoos/api/v1/workloads"))).status, 200);
});

Deno.test("JSON: every workload, filtered by namespace and state; a bad state is 400", async () => {
  const auth = { authorization: "Bearer s3cret" };
  const body = await (await get("/api/v1/workloads", auth)).json();
  assert.equal(body.generatedAt, new Date(NOW).toISOString());
  assert.equal(body.workloads.length, 5);
  const pending = await (await get("/api/v1/workloads?namespace=shop&state=pending", auth)).json();
  assert.deepEqual(pending.workloads.map((w: { name: string }) => w.name), ["checkout"]);
  assert.equal((await get("/api/v1/workloads?state=broken", auth)).status, 400);
});

Deno.test("HTML: a real table, labelled filters, and a CSP allowing exactly its inline script and style", async () => {
  const res = await get("/status?state=failed", basic("u", "s3cret"));
  const html = await res.text();
  assert.match(res.headers.get("content-type")!, /^text\/html/);
  assert.match(html, /<th scope="col">Workload<\/th>/);
  assert.match(html, /<th scope="row" data-label="Workload">Deployment finance\/billing<\/th>/);
  assert.doesNotMatch(html, /checkout/);
  assert.match(html, /<label for="f-state">/);
  assert.match(html, /<option value="failed" selected>Failed or reverted<\/option>/);
  const csp = res.headers.get("content-security-policy")!;
  const sha = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;
  const script = /<script>([^]*?)<\/script>/.exec(html)![1];
  const style = /<style>([^]*?)<\/style>/.exec(html)![1];
  assert.match(csp, /^default-src 'none'; /);
  assert.ok(csp.includes(`script-src ${sha(script)};`), csp);
  assert.ok(csp.includes(`style-src ${sha(style)};`), csp);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "no external asset");
});

Deno.test("in the service: served from what the reconcile and the recorder saw", async () => {
  const registry = "127.0.0.1:5000";
  const svc = await startService({
    args: ["--status-token", "s3cret"],
    seed: ({ fake }, stub) => {
      stub.push("myapp", "1.2.4");
      fake.put(
        deployment({
          name: "web",
          policy: "patch",
          containers: [{ name: "app", image: `${registry}/myapp:1.2.3` }],
        }),
      );
    },
  });
  try {
    await svc.argoos.cache.synced;
    await waitFor(() => svc.argoos.cache.all().length === 1, "web cached");
    assert.equal(
      (await svc.post(pushEnvelope({ host: registry, repository: "myapp", tag: "1.2.4" }))).status,
      200,
    );
    const view = async () => {
      const res = await fetch(`${svc.argoos.url}/api/v1/workloads`, {
        headers: { authorization: "Bearer s3cret" },
      });
      return (await res.json()).workloads[0];
    };
    // The recorder tells of the rollout's Event after the delivery is answered: wait for it
    // (page views ask nothing, so waiting through them changes nothing).
    await waitFor(async () => (await view()).lastOutcome?.reason === "ImageUpdated", "told");
    const before = svc.fake.requests.length;
    const web = await view();
    assert.equal(svc.fake.requests.length, before, "a page view asks the API server nothing");
    assert.equal(web.lastOutcome.reason, "ImageUpdated");
    assert.equal(web.containers[0].image, `${registry}/myapp:1.2.4`);
    assert.equal(web.state, "in-progress");
    assert.ok(web.plannedAt);
    const denied = await fetch(`${svc.argoos.url}/status`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
  } finally {
    await svc.stop();
  }
});
