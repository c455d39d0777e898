/**
 * A fake API server with a KubeClient already pointed at it, plus the other shared test
 * helpers (workload builder, log capture, bounded waiting) re-exported for one import.
 *
 * @module
 */

import { pooledFetch } from "../../lib/io/pooled_fetch.ts";
import { type FakeApiServer, startFakeApiServer } from "../fake_apiserver/mod.ts";
import { KubeClient } from "../../lib/kube/client.ts";

export { deployment, imagesOf } from "./workload_object.ts";
export type { ContainerSpec, WorkloadSpec } from "./workload_object.ts";
export { capture } from "./capture_log.ts";
export type { CapturedLog } from "./capture_log.ts";
export { waitFor } from "./wait_for.ts";

/** A running fake cluster. */
export interface FakeCluster {
  fake: FakeApiServer;
  client: KubeClient;
  /** Stops the fake server. */
  stop(): Promise<void>;
}

/**
 * Start a fake API server on 127.0.0.1 and a KubeClient authenticated to it.
 *
 * @example
 * ```ts
 * import { deployment, startFakeCluster } from "./fake_cluster.ts";
 * const cluster = await startFakeCluster();
 * cluster.fake.put(deployment({ name: "web", policy: "patch", containers: [{ name: "app", image: "myapp:1.2.3" }] }));
 * await cluster.stop();
 * ```
 */
export async function startFakeCluster(): Promise<FakeCluster> {
  const fake = await startFakeApiServer();
  // Requests go as the service sends them, over pooled connections.
  const requests = pooledFetch();
  const client = new KubeClient({
    server: fake.url,
    authHeaders: () => Promise.resolve({ authorization: `Bearer ${fake.token}` }),
    description: "fake apiserver",
    fetch: requests,
    close: () => requests.close(),
  });
  return {
    fake,
    client,
    stop: async () => {
      requests.close();
      await fake.stop();
    },
  };
}
