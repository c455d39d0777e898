/**
 * The poll bench's registry in a process of its own (as the webhook bench runs its cluster):
 * the stub registry on 127.0.0.1, seeded with `bench/app-0` … `bench/app-<repos - 1>` of
 * `tags` tags each and `bench/envoy`, so serving a million listed tags a cycle is not counted
 * in the poll it measures, as a real registry's work is not. A control server answers the
 * requests counted since the last reset.
 *
 * Run as `deno run --allow-net registry_process.ts <repos> <tags>`; once seeded it prints one
 * JSON line, `{"registry": "127.0.0.1:<port>", "control": "http://127.0.0.1:<port>"}`:
 *
 * - `GET /counts`: {@linkcode RegistryRequests} since the last reset;
 * - `POST /reset`: forget the requests counted.
 *
 * Stop it with SIGTERM (its pid).
 *
 * @module
 */

import { startStubRegistry } from "./stub_registry.ts";
import { firstLine } from "./first_line.ts";

/**
 * Requests the registry answered since the last reset.
 *
 * @example
 * ```ts
 * import type { RegistryRequests } from "./registry_process.ts";
 * const steady: RegistryRequests = { listings: 1_001, manifests: 2_001, manifestGets: 0 };
 * ```
 */
export interface RegistryRequests {
  listings: number;
  /** HEADs and GETs of manifests. */
  manifests: number;
  /** Of those, GETs (what Docker Hub counts as pulls). */
  manifestGets: number;
}

/** The registry process, started by {@linkcode startRegistryProcess}. */
export interface RegistryProcess {
  readonly pid: number;
  /** `127.0.0.1:<port>` of the stub registry (plain http). */
  readonly host: string;
  counts(): Promise<RegistryRequests>;
  reset(): Promise<void>;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<void>;
}

/** Word tags listed besides the versions. */
const NON_VERSIONS = ["latest", "stable", "edge", "nightly", "main"];

/**
 * The tags of each `bench/app-*` repository: the word tags and versions `1.<minor>.<patch>`
 * (100 patches per minor) up to `n` in all, in the storage order registries list (sorted as
 * text, not as versions).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { benchTags } from "./registry_process.ts";
 * assert.deepEqual(benchTags(7), ["1.0.0", "1.0.1", "edge", "latest", "main", "nightly", "stable"]);
 * ```
 */
export function benchTags(n: number): string[] {
  const tags = [...NON_VERSIONS];
  for (let minor = 0; tags.length < n; minor++) {
    for (let patch = 0; patch < 100 && tags.length < n; patch++) tags.push(`1.${minor}.${patch}`);
  }
  return tags.sort();
}

/** Tags of `bench/envoy`, the sidecar repository every workload shares. */
export const ENVOY_TAGS: readonly string[] = ["v1.30.0", "v1.31.0", "latest"];

/**
 * Start the registry process; resolves once it is seeded and listening.
 *
 * @example
 * ```ts ignore
 * import { startRegistryProcess } from "./registry_process.ts";
 * const registry = await startRegistryProcess(1_000, 1_000);
 * await registry.reset();
 * await registry.stop();
 * ```
 */
export async function startRegistryProcess(repos: number, tags: number): Promise<RegistryProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL(import.meta.url).pathname, String(repos), String(tags)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { registry, control } = JSON.parse(await firstLine(child, "the registry process"));
  return {
    pid: child.pid,
    host: registry,
    counts: async () => await (await fetch(`${control}/counts`)).json(),
    reset: async () =>
      void await (await fetch(`${control}/reset`, { method: "POST" })).body?.cancel(),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
    },
  };
}

function serve(repos: number, tagCount: number): void {
  const registry = startStubRegistry();
  const tags = benchTags(tagCount);
  for (const tag of ENVOY_TAGS) registry.push("bench/envoy", tag);
  for (let r = 0; r < repos; r++) for (const tag of tags) registry.push(`bench/app-${r}`, tag);
  const control = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === "/counts") {
      const manifests = registry.requests.filter((r) => r.url.pathname.includes("/manifests/"));
      const counts: RegistryRequests = {
        listings: registry.counts().listings,
        manifests: manifests.length,
        manifestGets: registry.manifestGets(),
      };
      return Response.json(counts);
    }
    if (pathname === "/reset" && req.method === "POST") {
      registry.resetCounts();
      return new Response(null, { status: 204 });
    }
    return new Response("not found", { status: 404 });
  });
  Deno.addSignalListener("SIGTERM", async () => {
    await control.shutdown();
    await registry.close();
    Deno.exit(0);
  });
  console.log(
    JSON.stringify({ registry: registry.host, control: `http://127.0.0.1:${control.addr.port}` }),
  );
}

if (import.meta.main) serve(Number(Deno.args[0]), Number(Deno.args[1]));
