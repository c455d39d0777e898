/**
 * The benchmarks' cluster in a process of its own: the fake API server and the stub registry
 * on 127.0.0.1 (dynamic ports), seeded with labelled Deployments (each with a ReplicaSet and a
 * Pod reporting what it runs) and their repositories, so the service measured and the load
 * client do not share a thread with them.
 *
 * Run as `deno run --allow-net --allow-read fake_cluster_process.ts <deployments> <namespaces>
 * [patches]` (the registry serves `1.0.0` to `1.0.<patches>`, default 1); once seeded it
 * prints one JSON line, {@linkcode ClusterUrls}, and serves a control API:
 *
 * - `GET /patched?name=<deployment>&count=<n>`: waits for the n-th PATCH of that Deployment
 *   (at most 10 s) and answers its arrival time (`performance.timeOrigin + now()`, comparable
 *   across processes on this machine), or 504.
 * - `GET /report?patches=<n>&timeoutMs=<ms>`: waits until n Deployment PATCHes arrived (or the
 *   timeout), then answers a {@linkcode ClusterReport}: counted here, where the PATCHes land.
 *
 * Stop it with SIGTERM (its pid).
 *
 * @module
 */

import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";
import { seedPods } from "../test/support/pods.ts";
import { fakeDigest, startStubRegistry } from "./stub_registry.ts";

/**
 * Where the seeded cluster listens, as the process prints it.
 *
 * @example
 * ```ts
 * import type { ClusterUrls } from "./fake_cluster_process.ts";
 * const urls: ClusterUrls = {
 *   apiServer: "http://127.0.0.1:40001",
 *   token: "test-token",
 *   registry: "127.0.0.1:40002",
 *   control: "http://127.0.0.1:40003",
 * };
 * ```
 */
export interface ClusterUrls {
  apiServer: string;
  /** Bearer token of the API server. */
  token: string;
  /** `127.0.0.1:<port>` of the stub registry (plain http). */
  registry: string;
  control: string;
}

/**
 * What the cluster saw, for the exactly-once check.
 *
 * @example
 * ```ts
 * import type { ClusterReport } from "./fake_cluster_process.ts";
 * const clean: ClusterReport = {
 *   patches: 10_000, lastPatchAt: 0, notOnce: 0, wrongImage: 0, podLists: 10_000,
 *   manifestGets: 10_000, requestsByKind: { "PATCH deployments/name": 10_000 },
 * };
 * ```
 */
export interface ClusterReport {
  /** Deployment PATCHes received. */
  patches: number;
  /** Arrival time of the last one (`performance.timeOrigin + now()`). */
  lastPatchAt: number;
  /** Deployments that did not get exactly one PATCH. */
  notOnce: number;
  /** Deployments not on `1.0.1` of their repository (by tag) with an untouched sidecar. */
  wrongImage: number;
  /** Pod LISTs answered (one per reconcile that reads what runs). */
  podLists: number;
  /** Manifest GETs the registry answered (the reconciles' truth checks). */
  manifestGets: number;
  /** API requests by `METHOD resource` (`/name` when one object is named, `?watch` for watches). */
  requestsByKind: Record<string, number>;
}

/**
 * Name (and repository) of the i-th seeded Deployment.
 *
 * @example
 * ```ts
 * import { seededName } from "./fake_cluster_process.ts";
 * seededName(7); // "app-7"
 * ```
 */
export const seededName = (i: number): string => `app-${i}`;

/**
 * Namespace of the i-th seeded Deployment.
 *
 * @example
 * ```ts
 * import { seededNamespace } from "./fake_cluster_process.ts";
 * seededNamespace(507, 500); // "ns-7"
 * ```
 */
export const seededNamespace = (i: number, namespaces: number): string => `ns-${i % namespaces}`;

/**
 * Digest of the seeded tag `1.0.<patch>` (0 to 99) of the i-th repository: the registry
 * serves `1.0.0` to `1.0.<patches>` from the start, so a delivery names a tag that exists.
 *
 * @example
 * ```ts
 * import { seededDigest } from "./fake_cluster_process.ts";
 * seededDigest(0, 1) !== seededDigest(0, 0); // true
 * ```
 */
export const seededDigest = (i: number, patch: number): string => fakeDigest(2 + 100 * i + patch);

/** Waits a control request may hold, at most. */
const WAIT_MS = 10_000;

async function serve(deployments: number, namespaces: number, tags: number): Promise<void> {
  const registry = startStubRegistry();
  const host = registry.host;
  const fake = await startFakeApiServer();
  const envoy = registry.push("envoy", "1.0.0", fakeDigest(1));
  for (let i = 0; i < deployments; i++) {
    const name = seededName(i);
    const digest = registry.push(name, "1.0.0", seededDigest(i, 0));
    for (let patch = 1; patch <= tags; patch++) {
      registry.push(name, `1.0.${patch}`, seededDigest(i, patch));
    }
    const stored = fake.put({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name,
        namespace: seededNamespace(i, namespaces),
        labels: { "argoos.io/policy": "patch" },
      },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              { name: "app", image: `${host}/${name}:1.0.0` },
              { name: "sidecar", image: `${host}/envoy:1.0.0` },
            ],
          },
        },
      },
    });
    seedPods(fake, stored, {
      imageID: { app: `${host}/${name}@${digest}`, sidecar: `${host}/envoy@${envoy}` },
    });
  }

  /** PATCH arrival times by Deployment name: one entry per seeded Deployment at most. */
  const patched = new Map<string, number[]>();
  let patches = 0;
  let lastPatchAt = 0;
  let podLists = 0;
  /** Control requests waiting for a PATCH count; a handful at a time (the load client's). */
  const waiters = new Set<() => void>();
  const requestsByKind: Record<string, number> = {};
  fake.onRequest = (r) => {
    const kind = `${r.method} ${requestKind(r.path)}${r.query.has("watch") ? "?watch" : ""}`;
    requestsByKind[kind] = (requestsByKind[kind] ?? 0) + 1;
    if (r.method === "GET" && r.path.endsWith("/pods")) podLists++;
    if (r.method !== "PATCH" || !r.path.includes("/deployments/")) return;
    const name = r.path.slice(r.path.lastIndexOf("/") + 1);
    const at = performance.timeOrigin + r.at;
    patched.set(name, [...patched.get(name) ?? [], at]);
    patches++;
    lastPatchAt = at;
    for (const wake of waiters) wake();
  };
  // The fake keeps every request; the counts above are all the benchmark needs.
  const forget = setInterval(() => fake.requests.length = 0, 1_000);

  /** Resolve once `done()` holds, or with false after WAIT_MS. */
  const until = (done: () => boolean, ms = WAIT_MS) =>
    new Promise<boolean>((resolve) => {
      if (done()) return resolve(true);
      const wake = () => {
        if (!done()) return;
        finish(true);
      };
      const finish = (ok: boolean) => {
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(done()), ms);
      waiters.add(wake);
    });

  function report(): ClusterReport {
    let notOnce = 0;
    let wrongImage = 0;
    for (let i = 0; i < deployments; i++) {
      const name = seededName(i);
      if (patched.get(name)?.length !== 1) notOnce++;
      const w = fake.get("apps/v1", "Deployment", seededNamespace(i, namespaces), name);
      // deno-lint-ignore no-explicit-any
      const [app, sidecar] = (w as any).spec.template.spec.containers as { image: string }[];
      const wanted = `${host}/${name}:1.0.1`;
      const onTag = app.image === wanted || app.image.startsWith(`${wanted}@`);
      if (!onTag || sidecar.image !== `${host}/envoy:1.0.0`) wrongImage++;
    }
    return {
      patches,
      lastPatchAt,
      notOnce,
      wrongImage,
      podLists,
      manifestGets: registry.manifestGets(),
      requestsByKind,
    };
  }

  const control = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const q = (k: string) => Number(url.searchParams.get(k));
      if (url.pathname === "/patched") {
        const name = url.searchParams.get("name") ?? "";
        const count = q("count");
        const ok = await until(() => (patched.get(name)?.length ?? 0) >= count);
        return ok
          ? Response.json(patched.get(name)![count - 1])
          : new Response(null, { status: 504 });
      }
      if (url.pathname === "/report") {
        await until(() => patches >= q("patches"), Math.min(q("timeoutMs") || 0, 60_000));
        return Response.json(report());
      }
      return new Response(null, { status: 404 });
    },
  );

  const stop = async () => {
    clearInterval(forget);
    await control.shutdown();
    await fake.stop();
    await registry.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  const urls: ClusterUrls = {
    apiServer: fake.url,
    token: fake.token,
    registry: host,
    control: `http://127.0.0.1:${control.addr.port}`,
  };
  console.log(JSON.stringify(urls));
}

if (import.meta.main) {
  await serve(Number(Deno.args[0]), Number(Deno.args[1]), Number(Deno.args[2] ?? 1));
}

/** `deployments/name` for `/apis/apps/v1/namespaces/ns/deployments/app-1`, `pods` for a list. */
function requestKind(path: string): string {
  const parts = path.split("/").filter(Boolean);
  const at = parts.indexOf("namespaces");
  const rest = at >= 0 ? parts.slice(at + 2) : parts.slice(parts[0] === "api" ? 2 : 3);
  return rest.length === 0
    ? path
    : rest.length === 1
    ? rest[0]
    : `${rest[0]}/name${rest.length > 2 ? "/" + rest.slice(2).join("/") : ""}`;
}
