/**
 * Start to ready: the time from spawning `argoos serve` (cli/main.ts, with `deno task start`'s
 * V8 flags) to its first `/readyz` answered 200 (the workload cache listed and watching),
 * polled every 5 ms, against the fake cluster in a process of its own seeded with labelled
 * Deployments (each with a ReplicaSet and a Pod). Each size is started once to warm Deno's
 * transpile cache, then RUNS times; the median is held to the target.
 *
 * Targets: <= 150 ms at 100 workloads, <= 400 ms at 10,000 (in 500 namespaces).
 *
 * Run: `deno task bench:startup` (prints the figures and a final JSON line). RUNS=n changes
 * the number of starts per size (default 7).
 *
 * @module
 */

import { startClusterProcess, startServiceProcess } from "./child_processes.ts";

const RUNS = Number(Deno.env.get("RUNS") ?? 7);
/** `ARGOOS_DENO_FLAGS="--inspect=127.0.0.1:9229"`: flags for the service's `deno run`. */
const SERVICE_FLAGS = Deno.env.get("ARGOOS_DENO_FLAGS")?.split(" ").filter(Boolean);
const SIZES = [
  { workloads: 100, namespaces: 10, targetMs: 150 },
  { workloads: 10_000, namespaces: 500, targetMs: 400 },
];

const results = [];
for (const { workloads, namespaces, targetMs } of SIZES) {
  const cluster = await startClusterProcess(workloads, namespaces);
  const ms: number[] = [];
  try {
    for (let run = 0; run <= RUNS; run++) {
      const argoos = await startServiceProcess(cluster.urls, {
        token: "bench-token",
        readyPollMs: 5,
        denoFlags: SERVICE_FLAGS,
      });
      await argoos.stop();
      if (run > 0) ms.push(argoos.readyAfterMs);
    }
  } finally {
    await cluster.stop();
  }
  const sorted = ms.toSorted((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const met = median <= targetMs;
  console.log(
    `${workloads} workloads in ${namespaces} namespaces: start -> ready median ${
      median.toFixed(0)
    } ms (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, ${RUNS} starts); ` +
      `target <= ${targetMs} ms: ${met ? "met" : "MISSED"}`,
  );
  results.push({
    workloads,
    namespaces,
    medianMs: Math.round(median),
    minMs: Math.round(sorted[0]),
    maxMs: Math.round(sorted.at(-1)!),
    targetMs,
    met,
  });
}
console.log(JSON.stringify(results));
