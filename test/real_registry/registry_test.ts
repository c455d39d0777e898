/**
 * Checks the real-registry harness itself: notifications arrive with our token, auth is
 * enforced, multi-arch pushes store an index, digests are deterministic and `stop()` kills.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushImage } from "./push.ts";
import { realRegistryTest, startRealRegistry } from "./registry.ts";

interface Delivery {
  token: string | null;
  contentType: string | null;
  // deno-lint-ignore no-explicit-any
  events: any[];
}

/** A webhook receiver on 127.0.0.1:0 recording every POST. */
function startListener() {
  const deliveries: Delivery[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    deliveries.push({
      token: req.headers.get("X-Argoos-Token"),
      contentType: req.headers.get("Content-Type"),
      events: body.events,
    });
    return new Response("ok");
  });
  return { url: `http://127.0.0.1:${server.addr.port}/event`, deliveries, server };
}

async function waitFor<T>(what: string, find: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

realRegistryTest("real registry: a push notifies with the token header", async () => {
  const listener = startListener();
  const registry = await startRealRegistry({ notifyUrl: listener.url, token: "s3cret" });
  try {
    const { digest } = await pushImage({
      registry: registry.host,
      repository: "myapp",
      tag: "1.0.0",
    });
    const delivery = await waitFor(
      "manifest push of 1.0.0",
      () =>
        listener.deliveries.find((d) =>
          d.events.some((e) => e.action === "push" && e.target.tag === "1.0.0")
        ),
    );
    assert.equal(delivery.token, "s3cret");
    assert.equal(delivery.contentType, "application/vnd.docker.distribution.events.v1+json");
    const event = delivery.events.find((e) => e.target.tag === "1.0.0");
    assert.equal(event.target.repository, "myapp");
    assert.equal(event.target.digest, digest);
    assert.equal(event.target.mediaType, "application/vnd.oci.image.manifest.v1+json");
  } finally {
    await registry.stop();
    await listener.server.shutdown();
  }
});

realRegistryTest("real registry: ignoreBlobsAndPulls leaves only manifest events", async () => {
  const listener = startListener();
  const registry = await startRealRegistry({
    notifyUrl: listener.url,
    ignoreBlobsAndPulls: true,
  });
  try {
    await pushImage({ registry: registry.host, repository: "team/app", tag: "2.0.0" });
    await waitFor("manifest push", () => listener.deliveries[0]);
    const events = listener.deliveries.flatMap((d) => d.events);
    assert.deepEqual(events.map((e) => [e.action, e.target.mediaType, e.target.tag]), [
      ["push", "application/vnd.oci.image.manifest.v1+json", "2.0.0"],
    ]);
    assert.equal(listener.deliveries[0].token, null);
  } finally {
    await registry.stop();
    await listener.server.shutdown();
  }
});

realRegistryTest("real registry: same content same digest, new content new digest", async () => {
  const registry = await startRealRegistry();
  try {
    const push = (tag: string, content: string) =>
      pushImage({ registry: registry.host, repository: "myapp", tag, content });
    const a = await push("1.0.0", "a");
    const again = await push("1.0.1", "a");
    const b = await push("1.0.2", "b");
    assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(again.digest, a.digest);
    assert.notEqual(b.digest, a.digest);
  } finally {
    await registry.stop();
  }
});

realRegistryTest(
  "real registry: formats and multi-arch give the expected media types",
  async () => {
    const registry = await startRealRegistry();
    try {
      const cases: [Partial<Parameters<typeof pushImage>[0]>, string][] = [
        [{}, "application/vnd.oci.image.manifest.v1+json"],
        [{ multiarch: true }, "application/vnd.oci.image.index.v1+json"],
        [{ format: "v2s2" }, "application/vnd.docker.distribution.manifest.v2+json"],
        [
          { format: "v2s2", multiarch: true },
          "application/vnd.docker.distribution.manifest.list.v2+json",
        ],
      ];
      for (const [i, [opts, mediaType]] of cases.entries()) {
        const pushed = await pushImage({
          registry: registry.host,
          repository: "myapp",
          tag: `1.${i}.0`,
          ...opts,
        });
        assert.equal(pushed.mediaType, mediaType, JSON.stringify(opts));
        assert.match(pushed.digest, /^sha256:[0-9a-f]{64}$/);
      }
    } finally {
      await registry.stop();
    }
  },
);

realRegistryTest("real registry: htpasswd auth needs credentials", async () => {
  const creds = { username: "argoos", password: "pa55word" };
  const registry = await startRealRegistry({ auth: creds });
  try {
    const res = await fetch(`http://${registry.host}/v2/`);
    await res.body?.cancel();
    assert.equal(res.status, 401);
    const pushed = await pushImage({
      registry: registry.host,
      repository: "myapp",
      tag: "1.0.0",
      creds,
    });
    assert.match(pushed.digest, /^sha256:/);
    await assert.rejects(
      pushImage({ registry: registry.host, repository: "myapp", tag: "1.0.1" }),
      /skopeo/,
    );
  } finally {
    await registry.stop();
  }
});

realRegistryTest("real registry: stop() kills the process and removes its data", async () => {
  const registry = await startRealRegistry();
  await registry.stop();
  const probe = await new Deno.Command("kill", { args: ["-0", String(registry.pid)] }).output();
  assert.equal(probe.success, false);
  await assert.rejects(Deno.stat(registry.dataDir), Deno.errors.NotFound);
});
