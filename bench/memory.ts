/**
 * Memory of a running Argoos: its resident set size (RSS) with 10,000 labelled workloads,
 * idle, and again after 100,000 webhook deliveries (each with its own event id, most of them
 * tags no policy takes, as CI pushes them). Argoos runs as `argoos serve` in a process of its
 * own, so the figures are its own and not the fake API server's, which serves the workloads
 * from this process.
 *
 * Targets: idle <= 80 MB; after the deliveries, within 32 MB of idle.
 *
 * Run: `deno task bench:memory` (RSS read with `ps`; prints a final JSON line).
 *
 * @module
 */

import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";
import { startServiceProcess } from "./child_processes.ts";

const WORKLOADS = Number(Deno.env.get("WORKLOADS") ?? 10_000);
const NAMESPACES = 100;
const DELIVERIES = Number(Deno.env.get("DELIVERIES") ?? 100_000);
const CONCURRENCY = 16;
const TOKEN = "bench-token";
const REGISTRY = "registry.local";
const MB = 1024 * 1024;

const fake = await startFakeApiServer();
for (let i = 0; i < WORKLOADS; i++) {
  fake.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `app-${i}`,
      namespace: `ns-${i % NAMESPACES}`,
      labels: { "argoos.io/policy": "patch" },
    },
    spec: {
      template: {
        spec: { containers: [{ name: "app", image: `${REGISTRY}/app-${i}:1.0.0` }] },
      },
    },
  });
}

// V8 flags for the service, e.g. V8_FLAGS=--max-old-space-size=64 to see what is held rather
// than what is merely not collected yet.
const v8Flags = Deno.env.get("V8_FLAGS");
const service = await startServiceProcess({ apiServer: fake.url, token: fake.token }, {
  token: TOKEN,
  denoFlags: v8Flags ? [`--v8-flags=${v8Flags}`] : [],
  readyWithinMs: 60_000,
}).catch(async (err) => {
  await fake.stop();
  throw err;
});
const url = service.url;

/** The service's RSS in bytes, as `ps` reports it (reading /proc needs --allow-all). */
async function rss(): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(service.pid)] })
    .output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !kb) throw new Error(`ps could not read the RSS of ${service.pid}`);
  return kb * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS once it stops moving: the lowest of a few samples a second apart. */
async function settledRss(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1_000);
    samples.push(await rss());
  }
  return Math.min(...samples);
}

function delivery(n: number): string {
  const i = n % WORKLOADS;
  // Most pushes are tags the `patch` policy does not take (new majors, CI builds); one in ten
  // goes to a repository no workload uses.
  const repository = n % 10 === 9 ? `unused-${n % 1000}` : `app-${i}`;
  const tag = n % 2 ? `${2 + Math.floor(n / WORKLOADS)}.0.0` : `ci-${n}-${n.toString(36)}`;
  return JSON.stringify({
    events: [{
      id: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      action: "push",
      target: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        repository,
        digest: `sha256:${n.toString(16).padStart(64, "0")}`,
        tag,
      },
      request: { host: REGISTRY },
    }],
  });
}

try {
  const idle = await settledRss();
  console.log(`idle, ${WORKLOADS} labelled workloads: RSS ${(idle / MB).toFixed(1)} MB`);

  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < DELIVERIES) {
      const res = await fetch(`${url}/event`, {
        method: "POST",
        headers: {
          "content-type": "application/vnd.docker.distribution.events.v1+json",
          "x-argoos-token": TOKEN,
        },
        body: delivery(next++),
      });
      await res.body?.cancel();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const after = await settledRss();
  const grew = after - idle;
  console.log(
    `after ${DELIVERIES} deliveries (${seconds.toFixed(0)} s, answers ${
      [...statuses].map(([s, n]) => `${s}: ${n}`).join(", ")
    }): RSS ${(after / MB).toFixed(1)} MB, ${grew >= 0 ? "+" : ""}${(grew / MB).toFixed(1)} MB`,
  );
  const idleMet = idle <= 80 * MB;
  const growthMet = grew <= 32 * MB;
  console.log(
    `targets: idle <= 80 MB: ${idleMet ? "met" : "MISSED"}; within 32 MB of idle: ${
      growthMet ? "met" : "MISSED"
    }`,
  );
  console.log(JSON.stringify({
    workloads: WORKLOADS,
    deliveries: DELIVERIES,
    idleRssMB: +(idle / MB).toFixed(1),
    afterRssMB: +(after / MB).toFixed(1),
    growthMB: +(grew / MB).toFixed(1),
    statuses: Object.fromEntries(statuses),
  }));
} finally {
  await service.stop();
  await fake.stop();
}
