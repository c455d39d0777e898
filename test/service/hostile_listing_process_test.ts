/**
 * A hostile registry answering its tag listing with one 3.9 MB "tag" per page, without end,
 * polled by `argoos serve` run as `deno task start` runs it (its V8 flags, the heap bound
 * among them) in a process of its own: the listing is refused each cycle within its bounds,
 * the process stays alive and well inside its heap, and still rolls out the other workloads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServiceProcess } from "../../bench/child_processes.ts";
import { startStubRegistry } from "../../bench/stub_registry.ts";
import { deployment, imagesOf, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "./push_envelope.ts";

/** What the hostile registry answers on page `n`: `{"tags":["<n>xxx…"]}`, 3.9 MB, each its own. */
const FILL = "x".repeat(3_900_000);
const page = (n: number) => new TextEncoder().encode(JSON.stringify({ tags: [`${n}${FILL}`] }));

Deno.test("a registry listing one 3.9 MB tag per page neither crashes the service under its heap bound nor stops the others", async () => {
  let pages = 0;
  const hostile = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname !== "/v2/evil/tags/list") return new Response(null, { status: 404 });
    pages++;
    const n = Number(url.searchParams.get("page") ?? 0);
    return new Response(page(n), {
      headers: {
        "content-type": "application/json",
        link: `</v2/evil/tags/list?page=${n + 1}>; rel="next"`,
      },
    });
  });
  const evil = `127.0.0.1:${hostile.addr.port}`;
  const cluster = await startFakeCluster();
  const stub = startStubRegistry();
  stub.push("app", "1.0.0");
  const image = () => imagesOf(cluster.fake.get("apps/v1", "Deployment", "default", "good"))[0];
  cluster.fake.put(deployment({
    name: "good",
    policy: "patch",
    containers: [{ name: "app", image: `${stub.host}/app:1.0.0` }],
  }));
  cluster.fake.put(deployment({
    name: "bad",
    policy: "patch",
    containers: [{ name: "app", image: `${evil}/evil:1.0.0` }],
  }));
  const argoos = await startServiceProcess(
    { apiServer: cluster.fake.url, token: cluster.fake.token },
    { token: "t", args: ["--poll-interval", "1s"] },
  );
  try {
    // Eight cycles of the hostile listing (five pages each: 16 MiB reached on the fifth):
    // 156 MB of "tags" in all, more than the heap holds were they kept.
    await waitFor(() => pages >= 40, "the hostile listing polled eight times", 60_000);
    const ready = await fetch(`${argoos.url}/readyz`);
    await ready.body?.cancel();
    assert.equal(ready.status, 200, "alive and ready");
    const metrics = await (await fetch(`${argoos.url}/metrics`)).text();
    const heap = Number(/^argoos_heap_used_bytes (\S+)$/m.exec(metrics)?.[1]);
    // Well inside: the pages streamed through, none held (about 22 MB is the idle heap).
    assert.ok(heap < 64 * 1024 * 1024, `heap in use ${heap} bytes, bound 128 MiB`);
    // The other workloads are still served: by the webhook…
    const digest = stub.push("app", "1.0.1");
    const res = await fetch(`${argoos.url}/event`, {
      method: "POST",
      headers: { "x-argoos-token": "t" },
      body: pushEnvelope({ host: stub.host, repository: "app", tag: "1.0.1", digest }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(image(), `app=${stub.host}/app:1.0.1`);
    // …and by the poll.
    stub.push("app", "1.0.2");
    await waitFor(() => image() === `app=${stub.host}/app:1.0.2`, "polled", 30_000);
  } finally {
    await argoos.stop();
    await hostile.shutdown();
    await stub.close();
    await cluster.stop();
  }
});
