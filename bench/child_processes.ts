/**
 * Benchmarks run what they measure in processes of their own, so the load client, the fake
 * cluster and Argoos do not share one JavaScript thread: `startClusterProcess` starts the
 * seeded fake API server and stub registry (fake_cluster_process.ts), `startServiceProcess`
 * starts `argoos serve` (cli/main.ts) against it, as an operator would run it: with the V8
 * flags of `deno task start`.
 *
 * @module
 */

import type { ClusterUrls } from "./fake_cluster_process.ts";
import { firstLine } from "./first_line.ts";

/**
 * A started child process.
 *
 * @example
 * ```ts ignore
 * import { cpuMs, startClusterProcess } from "./child_processes.ts";
 * const cluster = await startClusterProcess(100, 10);
 * await cpuMs(cluster.pid);
 * await cluster.stop();
 * ```
 */
export interface ChildProcess {
  readonly pid: number;
  /** SIGTERM, then wait for it to exit; a second call waits for the first. */
  stop(): Promise<void>;
}

/** The fake cluster process and where it listens. */
export interface ClusterProcess extends ChildProcess {
  readonly urls: ClusterUrls;
}

/** `argoos serve` in a child process. */
export interface ServiceProcess extends ChildProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Milliseconds from the spawn to the first `/readyz` answered 200. */
  readonly readyAfterMs: number;
}

const DENO_RUN = ["run", "--allow-net", "--allow-read", "--allow-env", "--allow-run"];

/** The `--v8-flags=…` of deno.json's `start` task: the service is measured as it runs. */
const START_V8_FLAGS: string[] = (JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
).tasks.start as string).split(" ").filter((arg) => arg.startsWith("--v8-flags="));

/**
 * Start the fake cluster seeded with `deployments` labelled Deployments in `namespaces`
 * namespaces, each repository with tags `1.0.0` to `1.0.<patches>` (default 1); resolves
 * once it has printed where it listens.
 *
 * @example
 * ```ts ignore
 * import { startClusterProcess } from "./child_processes.ts";
 * const cluster = await startClusterProcess(5_000, 500);
 * cluster.urls.apiServer; // "http://127.0.0.1:…"
 * await cluster.stop();
 * ```
 */
export async function startClusterProcess(
  deployments: number,
  namespaces: number,
  patches = 1,
): Promise<ClusterProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      new URL("./fake_cluster_process.ts", import.meta.url).pathname,
      String(deployments),
      String(namespaces),
      String(patches),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const urls = JSON.parse(await firstLine(child, "the fake cluster process")) as ClusterUrls;
  let stopped: Promise<void> | undefined;
  return { pid: child.pid, urls, stop: () => stopped ??= stopChild(child) };
}

/**
 * Start `argoos serve` against the cluster with the webhook on `token`, polling off, no
 * Events, no leader election, plus `args`; resolves once `/readyz` answers 200 (cache
 * synced), polled every `readyPollMs` (default 100). `denoFlags` go before the script (e.g. `--inspect=127.0.0.1:9229`); `entry` is
 * the program (default `cli/main.ts`; a `deno task bundle` output runs as the compiled binary
 * does, without transpiling TypeScript).
 *
 * @example
 * ```ts ignore
 * import { startClusterProcess, startServiceProcess } from "./child_processes.ts";
 * const cluster = await startClusterProcess(100, 10);
 * const argoos = await startServiceProcess(cluster.urls, { token: "t" });
 * await argoos.stop();
 * await cluster.stop();
 * ```
 */
export async function startServiceProcess(
  cluster: Pick<ClusterUrls, "apiServer" | "token">,
  opts: {
    token: string;
    args?: string[];
    denoFlags?: string[];
    readyWithinMs?: number;
    readyPollMs?: number;
    entry?: string;
  },
): Promise<ServiceProcess> {
  const dir = await Deno.makeTempDir({ prefix: "argoos-bench-" });
  const kubeconfig = `${dir}/kubeconfig`;
  await Deno.writeTextFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: cluster.apiServer } }],
      users: [{ name: "bench", user: { token: cluster.token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "bench" } }],
      "current-context": "fake",
    }),
  );
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawned = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      "--allow-sys=hostname",
      ...START_V8_FLAGS,
      ...opts.denoFlags ?? [],
      opts.entry ?? new URL("../cli/main.ts", import.meta.url).pathname,
      "serve",
      "--kubeconfig",
      kubeconfig,
      "--listen",
      `127.0.0.1:${port}`,
      "--token",
      opts.token,
      "--poll-interval",
      "0",
      "--no-leader-elect",
      "--no-events",
      // The stub registry listens on loopback over plain http, which must be listed.
      "--registry-insecure",
      "127.0.0.1:*",
      ...opts.args ?? [],
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await stopChild(child);
      await Deno.remove(dir, { recursive: true });
    })();
  const deadline = Date.now() + (opts.readyWithinMs ?? 120_000);
  while (true) {
    const ready = await getOnce(`${url}/readyz`, AbortSignal.timeout(5_000)).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return { pid: child.pid, url, stop, readyAfterMs: performance.now() - spawned };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`argoos did not become ready within ${opts.readyWithinMs ?? 120_000} ms`);
    }
    await new Promise((r) => setTimeout(r, opts.readyPollMs ?? 100));
  }
}

/**
 * GET `url` on a connection of its own, closed once answered: one kept open would count
 * against the service's limit of connections from one address (32, the deliveries in flight).
 *
 * @example
 * ```ts ignore
 * import { getOnce } from "./child_processes.ts";
 * const { status, text } = await getOnce("http://127.0.0.1:3000/metrics");
 * ```
 */
export async function getOnce(
  url: string,
  signal?: AbortSignal,
): Promise<{ status: number; text: string }> {
  const client = Deno.createHttpClient({});
  try {
    const res = await fetch(url, { client, signal });
    return { status: res.status, text: await res.text() };
  } finally {
    client.close();
  }
}

/**
 * CPU milliseconds (user + system, all threads) process `pid` used so far, from
 * `/proc/<pid>/stat` read with `cat` (Deno reads /proc only with --allow-all); 10 ms steps.
 *
 * @example
 * ```ts ignore
 * import { cpuMs } from "./child_processes.ts";
 * await cpuMs(Deno.pid); // e.g. 420
 * ```
 */
export async function cpuMs(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  if (!out.success) throw new Error(`cannot read /proc/${pid}/stat`);
  const stat = new TextDecoder().decode(out.stdout);
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** A port free right now, for the service to listen on. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already exited
  }
  await child.status;
}
