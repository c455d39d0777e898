/**
 * Webhook latency: from a delivery received by Argoos to the PATCH received
 * by the (fake) API server, with 5,000 labelled Deployments in 500
 * namespaces, beside the bare PATCH round trip on the same machine.
 *
 * Run: `deno task bench:webhook` (prints the figures and a final JSON line).
 *
 * @module
 */

import { readInvocation } from "../cli/config.ts";
import { KubeClient } from "../lib/kube/client.ts";
import { DEPLOYMENTS } from "../lib/kube/resource.ts";
import { silentLogger } from "../lib/log/logger.ts";
import { startArgoos } from "../lib/service/argoos.ts";
import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";

const DEPLOYMENTS_N = 5_000;
const NAMESPACES_N = 500;
const WARMUP = 200;
const SAMPLES = 2_000;
const TOKEN = "bench-token";

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const fake = await startFakeApiServer();
for (let i = 0; i < DEPLOYMENTS_N; i++) {
  fake.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `app-${i}`,
      namespace: `ns-${i % NAMESPACES_N}`,
      labels: { "argoos.io/policy": "patch" },
    },
    spec: {
      template: {
        spec: {
          containers: [
            { name: "app", image: `registry.local/app-${i}:1.0.0` },
            { name: "sidecar", image: "registry.local/envoy:1.0.0" },
          ],
        },
      },
    },
  });
}
const client = new KubeClient({
  server: fake.url,
  authHeaders: () => Promise.resolve({ authorization: `Bearer ${fake.token}` }),
  description: "fake API server",
  close() {},
});
const { config } = await readInvocation(
  ["serve", "--listen", "127.0.0.1:0", "--token", TOKEN, "--poll-interval", "0", "--no-events"],
  () => undefined,
);
const argoos = await startArgoos(config, { client, logger: silentLogger });
await argoos.cache.synced;

let patchArrived = Promise.withResolvers<number>();
fake.onRequest = (r) => {
  if (r.method === "PATCH") patchArrived.resolve(r.at);
};

function delivery(i: number, tag: string): string {
  return JSON.stringify({
    events: [{
      id: `bench-${i}-${tag}`,
      timestamp: new Date().toISOString(),
      action: "push",
      target: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        repository: `app-${i}`,
        digest: `sha256:${"0".repeat(63)}${i % 10}`,
        tag,
      },
      request: { host: "registry.local" },
    }],
  });
}

async function oneEvent(n: number): Promise<number> {
  const i = n % DEPLOYMENTS_N;
  const tag = `1.0.${1 + Math.floor(n / DEPLOYMENTS_N)}`;
  patchArrived = Promise.withResolvers<number>();
  const body = delivery(i, tag);
  const sent = performance.now();
  const res = await fetch(`${argoos.url}/event`, {
    method: "POST",
    headers: {
      "content-type": "application/vnd.docker.distribution.events.v1+json",
      "x-argoos-token": TOKEN,
    },
    body,
  });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
  return (await patchArrived.promise) - sent;
}

const eventMs: number[] = [];
for (let n = 0; n < WARMUP + SAMPLES; n++) {
  const ms = await oneEvent(n);
  if (n >= WARMUP) eventMs.push(ms);
}

// Bare PATCH round trip: the same JSON patch sent straight to the fake server.
const bareMs: number[] = [];
for (let n = 0; n < WARMUP + SAMPLES; n++) {
  const i = n % DEPLOYMENTS_N;
  const w = fake.get("apps/v1", "Deployment", `ns-${i % NAMESPACES_N}`, `app-${i}`)!;
  // deno-lint-ignore no-explicit-any
  const image = (w as any).spec.template.spec.containers[0].image as string;
  const start = performance.now();
  await client.patch(DEPLOYMENTS, `ns-${i % NAMESPACES_N}`, `app-${i}`, [
    { op: "test", path: "/spec/template/spec/containers/0/image", value: image },
    { op: "replace", path: "/spec/template/spec/containers/0/image", value: image },
  ], "json");
  if (n >= WARMUP) bareMs.push(performance.now() - start);
}

await argoos.stop();
await fake.stop();

eventMs.sort((a, b) => a - b);
bareMs.sort((a, b) => a - b);
const result = {
  deployments: DEPLOYMENTS_N,
  namespaces: NAMESPACES_N,
  samples: SAMPLES,
  eventToPatchMs: { p50: quantile(eventMs, 0.5), p99: quantile(eventMs, 0.99) },
  barePatchRoundTripMs: { p50: quantile(bareMs, 0.5), p99: quantile(bareMs, 0.99) },
};
const ratio = result.eventToPatchMs.p99 / result.barePatchRoundTripMs.p99;
const fmt = (x: number) => x.toFixed(3);
console.log(`deployments ${DEPLOYMENTS_N} in ${NAMESPACES_N} namespaces, ${SAMPLES} samples`);
console.log(
  `event received -> PATCH received: p50 ${fmt(result.eventToPatchMs.p50)} ms, p99 ${
    fmt(result.eventToPatchMs.p99)
  } ms`,
);
console.log(
  `bare PATCH round trip:            p50 ${fmt(result.barePatchRoundTripMs.p50)} ms, p99 ${
    fmt(result.barePatchRoundTripMs.p99)
  } ms`,
);
console.log(
  `targets: p99 < 5 ms: ${result.eventToPatchMs.p99 < 5 ? "met" : "MISSED"}; within 2x bare: ${
    ratio <= 2 ? "met" : "MISSED"
  } (${ratio.toFixed(2)}x)`,
);
console.log(JSON.stringify(result));
