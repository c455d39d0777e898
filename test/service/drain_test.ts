/**
 * Stopping drains: a delivery in flight when stop() is called (its PATCH held up
 * in the API server) is answered 200 before stop() resolves; then the port is closed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { KubeClient, type PatchType } from "../../lib/kube/client.ts";
import type { ResourceType } from "../../lib/kube/resource.ts";
import { readInvocation } from "../../cli/config.ts";
import { startArgoos } from "../../lib/service/argoos.ts";
import { capture, deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "./push_envelope.ts";
import { startStubRegistry } from "../../bench/stub_registry.ts";
import { clientFor } from "../support/argoos_service.ts";

/** A client whose PATCHes wait until the test releases them: a slow API server. */
class HeldPatchClient extends KubeClient {
  readonly started = Promise.withResolvers<void>();
  readonly release = Promise.withResolvers<void>();

  override async patch<T>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    patchType: PatchType,
  ): Promise<T> {
    this.started.resolve();
    await this.release.promise;
    return await super.patch<T>(type, namespace, name, patch, patchType);
  }
}

async function portRefuses(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return false;
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test("stop() waits for the delivery in flight, then the port refuses", async () => {
  const cluster = await startFakeCluster();
  const client = new HeldPatchClient(cluster.client.connection);
  cluster.fake.put(deployment({
    name: "web",
    policy: "patch",
    containers: [{ name: "app", image: "127.0.0.1:5000/myapp:1.2.3" }],
  }));
  const log = capture();
  const { config } = await readInvocation(
    [
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--poll-interval",
      "0",
      "--no-leader-elect",
      "--insecure-no-token",
    ],
    () => undefined,
  );
  const stub = startStubRegistry();
  stub.push("myapp", "1.2.4");
  const argoos = await startArgoos(config, {
    client,
    logger: log.logger,
    registry: clientFor(stub),
  });
  const { hostname, port } = new URL(argoos.url);
  try {
    await argoos.cache.synced;
    const order: string[] = [];
    const delivery = fetch(`${argoos.url}/event`, {
      method: "POST",
      body: pushEnvelope({ host: "127.0.0.1:5000", repository: "myapp", tag: "1.2.4" }),
    }).then(async (res) => {
      order.push("answered");
      return { status: res.status, body: await res.json() };
    });
    await client.started.promise;

    const stopped = argoos.stop().then(() => order.push("stopped"));
    // The listener closes at once; the held request keeps the service from stopping.
    await waitFor(() => portRefuses(hostname, Number(port)), "listener closed");
    assert.deepEqual(order, []);

    client.release.resolve();
    const { status, body } = await delivery;
    await stopped;
    assert.equal(status, 200);
    assert.equal(body.applied, 1);
    assert.deepEqual(order, ["answered", "stopped"]);
    assert.ok(cluster.fake.requests.some((r) => r.method === "PATCH"));
    await assert.rejects(fetch(`${argoos.url}/healthz`), TypeError);
    assert.ok(log.records().some((r) => r.msg === "stopped"));
  } finally {
    client.release.resolve();
    await argoos.stop();
    await cluster.stop();
    await stub.close();
  }
});
