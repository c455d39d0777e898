/**
 * Runs the real CNCF distribution registry (Debian `docker-registry`, 2.8.x) on loopback for
 * tests, so webhook and registry-client code is checked against real wire behaviour rather than
 * against our own assumptions. No Docker engine is needed; images are pushed with `skopeo`
 * (see `push.ts`).
 *
 * @module
 */

import { stringify } from "yaml";

/**
 * How to configure a real registry started by {@linkcode startRealRegistry}.
 *
 * @example
 * ```ts
 * import type { RealRegistryOptions } from "./registry.ts";
 * const opts: RealRegistryOptions = {
 *   notifyUrl: "http://127.0.0.1:3000/event",
 *   token: "s3cret",
 *   ignoreBlobsAndPulls: true,
 * };
 * ```
 */
export interface RealRegistryOptions {
  /** Notifications endpoint; omitted means no `notifications` section at all. */
  notifyUrl?: string;
  /** Sent with every notification as header `X-Argoos-Token`. */
  token?: string;
  /** Enables htpasswd basic auth with this single user. */
  auth?: { username: string; password: string };
  /** Per-delivery timeout, default `"1s"`. */
  notifyTimeout?: string;
  /** Failures before backing off, default `3`. */
  notifyThreshold?: number;
  /** Pause between retries once backing off, default `"200ms"` (fast retries for tests). */
  notifyBackoff?: string;
  /** Adds `ignore: {mediatypes: [application/octet-stream], actions: [pull]}` to the endpoint. */
  ignoreBlobsAndPulls?: boolean;
}

/**
 * A running registry process; always call {@linkcode RealRegistry.stop}.
 *
 * @example
 * ```ts
 * import { type RealRegistry, startRealRegistry } from "./registry.ts";
 * const registry: RealRegistry = await startRealRegistry();
 * console.log(`docker://${registry.host}/myapp:1.0.0`);
 * await registry.stop();
 * ```
 */
export interface RealRegistry {
  /** `127.0.0.1:<port>`, as used in image references. */
  readonly host: string;
  readonly pid: number;
  /** Temp dir holding config, storage, htpasswd and the log; removed by `stop()`. */
  readonly dataDir: string;
  /** Everything the registry wrote to stdout/stderr so far. */
  logs(): Promise<string>;
  /** Kills the process by pid, waits for it to exit and removes `dataDir`. */
  stop(): Promise<void>;
}

const REQUIRED_TOOLS = ["docker-registry", "skopeo", "htpasswd"];
const STARTUP_TIMEOUT_MS = 10_000;

/** Tools from {@linkcode REQUIRED_TOOLS} not found on PATH. */
function missingTools(): string[] {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  return REQUIRED_TOOLS.filter((tool) =>
    !dirs.some((dir) => {
      try {
        return Deno.statSync(`${dir}/${tool}`).isFile;
      } catch {
        return false;
      }
    })
  );
}

/**
 * Whether `docker-registry` and `skopeo` (and `htpasswd`, for auth) are on PATH.
 *
 * @example
 * ```ts
 * import { realRegistryAvailable } from "./registry.ts";
 * if (!await realRegistryAvailable()) console.log("install docker-registry skopeo apache2-utils");
 * ```
 */
export function realRegistryAvailable(): Promise<boolean> {
  return Promise.resolve(missingTools().length === 0);
}

/**
 * Registers a `Deno.test` that needs the real registry tools. When they are missing the test is
 * ignored locally but fails under `CI=true`, because CI must never silently skip.
 *
 * @example
 * ```ts ignore
 * import { realRegistryTest, startRealRegistry } from "./registry.ts";
 * realRegistryTest("registry answers /v2/", async () => {
 *   const registry = await startRealRegistry();
 *   try {
 *     const res = await fetch(`http://${registry.host}/v2/`);
 *     await res.body?.cancel();
 *   } finally {
 *     await registry.stop();
 *   }
 * });
 * ```
 */
export function realRegistryTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  const missing = missingTools();
  if (missing.length === 0) {
    Deno.test(name, fn);
  } else if (Deno.env.get("CI") === "true") {
    Deno.test(name, () => {
      throw new Error(`docker-registry/skopeo missing under CI: ${missing.join(", ")}`);
    });
  } else {
    Deno.test({ name, ignore: true, fn });
  }
}

/** A port that was free a moment ago; the registry binds it right after. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** The distribution 2.8 config (see `/etc/docker/registry/config.yml` for the key names). */
function registryConfig(dataDir: string, host: string, opts: RealRegistryOptions): unknown {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: "info", formatter: "text" },
    storage: {
      cache: { blobdescriptor: "inmemory" },
      filesystem: { rootdirectory: `${dataDir}/storage` },
      delete: { enabled: true },
    },
    http: { addr: host },
  };
  if (opts.auth) {
    config.auth = { htpasswd: { realm: "argoos-test", path: `${dataDir}/htpasswd` } };
  }
  if (opts.notifyUrl) {
    config.notifications = {
      endpoints: [{
        name: "argoos",
        url: opts.notifyUrl,
        ...(opts.token === undefined ? {} : { headers: { "X-Argoos-Token": [opts.token] } }),
        timeout: opts.notifyTimeout ?? "1s",
        threshold: opts.notifyThreshold ?? 3,
        backoff: opts.notifyBackoff ?? "200ms",
        ...(opts.ignoreBlobsAndPulls
          ? { ignore: { mediatypes: ["application/octet-stream"], actions: ["pull"] } }
          : {}),
      }],
    };
  }
  return config;
}

/** Writes a bcrypt htpasswd file; distribution's htpasswd backend accepts only bcrypt. */
async function writeHtpasswd(path: string, username: string, password: string): Promise<void> {
  const out = await new Deno.Command("htpasswd", {
    args: ["-Bbn", username, password],
    stdin: "null",
  }).output();
  if (!out.success) throw new Error(`htpasswd failed: ${new TextDecoder().decode(out.stderr)}`);
  await Deno.writeFile(path, out.stdout);
}

/** GET /v2/ status, or 0 while nothing listens yet. */
async function probe(host: string): Promise<number> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Starts a registry on 127.0.0.1 on a free port with storage in a temp dir, and waits (up to
 * 10 s) until `GET /v2/` answers 200 or 401; otherwise throws with the tail of its log.
 *
 * @example
 * ```ts
 * import { startRealRegistry } from "./registry.ts";
 * const registry = await startRealRegistry({ notifyUrl: "http://127.0.0.1:3000/event", token: "t" });
 * try {
 *   console.log(registry.host); // "127.0.0.1:41234"
 * } finally {
 *   await registry.stop();
 * }
 * ```
 */
export async function startRealRegistry(opts: RealRegistryOptions = {}): Promise<RealRegistry> {
  const dataDir = await Deno.makeTempDir({ prefix: "argoos-registry-" });
  const host = `127.0.0.1:${freePort()}`;
  const configPath = `${dataDir}/config.yml`;
  const logPath = `${dataDir}/registry.log`;
  try {
    if (opts.auth) {
      await writeHtpasswd(`${dataDir}/htpasswd`, opts.auth.username, opts.auth.password);
    }
    await Deno.writeTextFile(configPath, stringify(registryConfig(dataDir, host, opts)));
  } catch (err) {
    await Deno.remove(dataDir, { recursive: true });
    throw err;
  }

  // `exec` keeps the registry's pid equal to the child's, so killing by pid stops the registry.
  // A clean env: distribution lets REGISTRY_* variables override the config file.
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec docker-registry serve "$1" >"$2" 2>&1', "sh", configPath, logPath],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);

  const registry: RealRegistry = {
    host,
    pid: child.pid,
    dataDir,
    logs: () => Deno.readTextFile(logPath).catch(() => ""),
    async stop() {
      if (!exited) {
        try {
          Deno.kill(child.pid, "SIGTERM");
        } catch {
          // Already gone between the check and the kill.
        }
      }
      await status;
      await Deno.remove(dataDir, { recursive: true });
    },
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let code = 0;
  while (!exited && Date.now() < deadline) {
    code = await probe(host);
    if (code === 200 || code === 401) return registry;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const tail = (await registry.logs()).split("\n").slice(-20).join("\n");
  await registry.stop();
  throw new Error(`registry on ${host} did not come up (GET /v2/ -> ${code}):\n${tail}`);
}
