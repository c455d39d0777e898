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

const dir = await Deno.makeTempDir();
const kubeconfig = `${dir}/kubeconfig`;
await Deno.writeTextFile(
  kubeconfig,
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "fake", cluster: { server: fake.url } }],
    users: [{ name: "bench", user: { token: fake.token } }],
    contexts: [{ name: "fake", context: { cluster: "fake", user: "bench" } }],
    "current-context": "fake",
  }),
);

/** A port free right now, for the service to listen on. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

const port = freePort();
const url = `http://127.0.0.1:${port}`;
const service = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-run",
    "--allow-sys=hostname",
    // V8 flags for the service, e.g. V8_FLAGS=--max-old-space-size=64 to see what is held
    // rather than what is merely not collected yet.
    ...(Deno.env.get("V8_FLAGS") ? [`--v8-flags=${Deno.env.get("V8_FLAGS")}`] : []),
    new URL("../cli/main.ts", import.meta.url).pathname,
    "serve",
    "--kubeconfig",
    kubeconfig,
    "--listen",
    `127.0.0.1:${port}`,
    "--token",
    TOKEN,
    "--poll-interval",
    "0",
    "--no-leader-elect",
    "--no-events",
  ],
  stdout: "null",
  stderr: "null",
}).spawn();

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
  const deadline = Date.now() + 60_000;
  while (true) {
    const ready = await fetch(`${url}/readyz`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error("argoos did not become ready within 60 s");
    await sleep(200);
  }
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
  service.kill("SIGTERM");
  await service.status;
  await fake.stop();
  await Deno.remove(dir, { recursive: true });
}
