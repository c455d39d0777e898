import assert from "node:assert/strict";
import { readInvocation } from "../../cli/config.ts";
import { silentLogger } from "../../lib/log/logger.ts";
import { startArgoos } from "../../lib/service/argoos.ts";
import { startFakeCluster, waitFor } from "../support/fake_cluster.ts";

Deno.test({
  name: "releaseFreeMemory gives the allocator's free memory back to the system",
  // Deno trims glibc's arenas when a worker ends on Linux only; elsewhere it does nothing.
  ignore: Deno.build.os !== "linux",
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--expose-gc",
        new URL("./free_memory_child.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stderr, "");
    const { freed, released } = JSON.parse(new TextDecoder().decode(out.stdout));
    // 36 MB were freed into the arenas; a worker that ends makes Deno trim them.
    assert.ok(freed - released > 10, `resident ${freed} MB before, ${released} MB after`);
  },
});

Deno.test("the service gives free memory back once after its start and once after a run of deliveries", async () => {
  const cluster = await startFakeCluster();
  const { config } = await readInvocation(
    [
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--no-leader-elect",
      "--insecure-no-token",
      "--poll-interval",
      "0",
    ],
    () => undefined,
  );
  let released = 0;
  const argoos = await startArgoos(config, {
    client: cluster.client,
    logger: silentLogger,
    freeMemory: { release: () => released++, afterQuietMs: 300 },
  });
  try {
    await argoos.cache.synced;
    await waitFor(() => released === 1, "the release after the start-up listing");
    // A run of deliveries (nothing to roll out: each is answered all the same) is one burst.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${argoos.url}/event`, {
        method: "POST",
        headers: { "content-type": "application/vnd.docker.distribution.events.v1+json" },
        body: JSON.stringify({ events: [] }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    await waitFor(() => released >= 2, "the release after the deliveries");
    // One per burst: nothing more comes once the work has paused (a wait that can only miss
    // a failure, never make one).
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(released, 2);
  } finally {
    await argoos.stop();
    await cluster.stop();
  }
});
