/**
 * The registry is the truth, end to end: a real registry's notification for a tag that was
 * pushed and then deleted before the delivery reached Argoos (the registry was retrying it,
 * or it was replayed) rolls nothing out; the next push that the registry still serves does.
 *
 * @module
 */

import assert from "node:assert/strict";
import { deleteManifest } from "../real_registry/manifests.ts";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import {
  E2E_TIMEOUT_MS,
  imageOf,
  launchArgoos,
  patchCount,
  seedWorkloads,
  TOKEN,
} from "./harness.ts";

/** Records the registry's deliveries (raw body and headers) instead of passing them on. */
function startHoldingListener() {
  const held: { body: string; headers: Headers }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    held.push({ body: await req.text(), headers: req.headers });
    return new Response("held");
  });
  const pushOf = (tag: string) =>
    held.find((d) =>
      (JSON.parse(d.body).events as { action: string; target: { tag?: string } }[]).some((e) =>
        e.action === "push" && e.target.tag === tag
      )
    );
  return {
    url: `http://127.0.0.1:${server.addr.port}/event`,
    pushOf,
    stop: () => server.shutdown(),
  };
}

realRegistryTest(
  "truth e2e: a notification for a pushed then deleted tag rolls nothing out",
  async () => {
    const cluster = await startFakeCluster();
    const { argoos } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "0"]);
    const listener = startHoldingListener();
    const registry = await startRealRegistry({
      notifyUrl: listener.url,
      token: TOKEN,
      ignoreBlobsAndPulls: true,
    });
    const host = registry.host;
    const deliver = async (body: string, headers: Headers) => {
      const res = await fetch(`${argoos.url}/event`, {
        method: "POST",
        headers: {
          "content-type": headers.get("content-type") ?? "application/json",
          "x-argoos-token": headers.get("x-argoos-token") ?? "",
        },
        body,
      });
      return { status: res.status, text: await res.text() };
    };
    try {
      await argoos.cache.synced;
      await seedWorkloads(
        cluster.fake,
        argoos,
        deployment({
          name: "web",
          policy: "patch",
          containers: [{ name: "app", image: `${host}/myapp:1.2.3` }],
        }),
      );

      const gone = await pushImage({ registry: host, repository: "myapp", tag: "1.2.4" });
      const goneDelivery = await waitFor(
        () => listener.pushOf("1.2.4"),
        "push of 1.2.4",
        E2E_TIMEOUT_MS,
      );
      await deleteManifest(host, "myapp", gone.digest);

      // The delivery is well formed and carries the token: answered 200 (nothing to retry), but
      // the registry no longer serves 1.2.4, so nothing is written.
      const answer = await deliver(goneDelivery!.body, goneDelivery!.headers);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(imageOf(cluster.fake, "web"), `${host}/myapp:1.2.3`);
      assert.equal(patchCount(cluster.fake, "web"), 0);

      // A push the registry still serves goes through the same path and is rolled out.
      await pushImage({ registry: host, repository: "myapp", tag: "1.2.5" });
      const next = await waitFor(() => listener.pushOf("1.2.5"), "push of 1.2.5", E2E_TIMEOUT_MS);
      assert.equal((await deliver(next!.body, next!.headers)).status, 200);
      await waitFor(
        () => imageOf(cluster.fake, "web")?.startsWith(`${host}/myapp:1.2.5`),
        "web on 1.2.5",
        E2E_TIMEOUT_MS,
      );
      assert.equal(patchCount(cluster.fake, "web"), 1);
    } finally {
      await argoos.stop();
      await registry.stop();
      await listener.stop();
      await cluster.stop();
    }
  },
);
