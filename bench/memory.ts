/**
 * Memory of a running Argoos: its resident set size (RSS) with 10,000 labelled workloads,
 * idle, and again after 100,000 webhook deliveries (each with its own event id, most of them
 * tags no policy takes, as CI pushes them), and the highest RSS while delivering. Argoos runs
 * as `argoos serve` in a process of its own, with `deno task start`'s V8 flags, so the
 * figures are its own and not the fake API server's, which serves the workloads from this
 * process.
 *
 * Targets: idle <= 80 MB; after the deliveries, within 32 MB of idle.
 *
 * Run: `deno task bench:memory` (RSS read with `ps`; prints a final JSON line). SOURCE=1
 * measures `cli/main.ts` instead of the bundle.
 *
 * @module
 */

import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";
import { startServiceProcess } from "./child_processes.ts";

const WORKLOADS = Number(Deno.env.get("WORKLOADS") ?? 10_000);
const NAMESPACES = 100;
const DELIVERIES = Number(Deno.env.get("DELIVERIES") ?? 100_000);
const CONCURRENCY = 16;
const QUIET_MS = Number(Deno.env.get("QUIET_MS") ?? 45_000);
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

// The program measured: the one-file bundle by default, what `deno compile` ships without its
// runtime (this network cannot download that); SOURCE=1 runs cli/main.ts as `deno task start`
// does, transpiling TypeScript and caching it in memory too.
const fromSource = Deno.env.get("SOURCE") === "1";
const entry = fromSource ? undefined : await bundle();
// More V8 flags for the service (it already has `deno task start`'s), e.g.
// V8_FLAGS=--max-old-space-size=64 to see what is held rather than what is merely not collected.
const v8Flags = Deno.env.get("V8_FLAGS");
const service = await startServiceProcess({ apiServer: fake.url, token: fake.token }, {
  token: TOKEN,
  denoFlags: v8Flags ? [`--v8-flags=${v8Flags}`] : [],
  readyWithinMs: 60_000,
  entry,
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

/** What the service's JavaScript heap holds (its `/metrics`): the rest of RSS is not data. */
async function heapUsed(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("argoos_heap_used_bytes "));
  if (!line) throw new Error("argoos_heap_used_bytes missing from /metrics");
  return Number(line.split(" ")[1]);
}

/** Build `dist/argoos.js` with `deno task bundle`; its path. */
async function bundle(): Promise<string> {
  const root = new URL("..", import.meta.url).pathname;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["task", "bundle"],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!built.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(built.stderr)}`);
  }
  return `${root}dist/argoos.js`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RSS at rest: the lowest of samples a second apart over QUIET_MS without traffic. V8 gives
 * back the heap a burst grew only once allocation has stayed low for a while (its memory
 * reducer, seen here after 10 to 30 s), so a shorter window measures garbage, not the service.
 */
async function settledRss(): Promise<number> {
  let lowest = Infinity;
  for (let waited = 0; waited < QUIET_MS; waited += 1_000) {
    await sleep(1_000);
    lowest = Math.min(lowest, await rss());
  }
  return lowest;
}

/** The highest RSS sampled every 250 ms until `done` settles: what a memory limit must allow. */
async function peakRss(done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let over = false;
  done.finally(() => over = true);
  while (!over) {
    peak = Math.max(peak, await rss());
    await sleep(250);
  }
  return peak;
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
  const idleHeap = await heapUsed();
  console.log(
    `idle, ${WORKLOADS} labelled workloads: RSS ${(idle / MB).toFixed(1)} MB (heap in use ${
      (idleHeap / MB).toFixed(1)
    } MB)`,
  );

  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  const load = Promise.all(Array.from({ length: CONCURRENCY }, async () => {
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
  const peak = await peakRss(load);
  await load;
  const seconds = (performance.now() - started) / 1000;
  const after = await settledRss();
  const afterHeap = await heapUsed();
  const grew = after - idle;
  console.log(
    `after ${DELIVERIES} deliveries (${seconds.toFixed(0)} s, answers ${
      [...statuses].map(([s, n]) => `${s}: ${n}`).join(", ")
    }): RSS ${(after / MB).toFixed(1)} MB, ${grew >= 0 ? "+" : ""}${(grew / MB).toFixed(1)} MB ` +
      `(heap in use ${(afterHeap / MB).toFixed(1)} MB); peak while delivering ${
        (peak / MB).toFixed(1)
      } MB`,
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
    program: fromSource ? "cli/main.ts" : "bundle",
    idleRssMB: +(idle / MB).toFixed(1),
    afterRssMB: +(after / MB).toFixed(1),
    growthMB: +(grew / MB).toFixed(1),
    peakRssMB: +(peak / MB).toFixed(1),
    deliveriesPerSecond: Math.round(DELIVERIES / seconds),
    idleHeapMB: +(idleHeap / MB).toFixed(1),
    afterHeapMB: +(afterHeap / MB).toFixed(1),
    statuses: Object.fromEntries(statuses),
  }));
} finally {
  await service.stop();
  await fake.stop();
}
