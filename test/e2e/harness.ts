/**
 * Pieces shared by the end-to-end tests: Argoos started in-process from command-line flags (as
 * `argoos serve …` would be), and readers for what it did to the fake cluster.
 *
 * @module
 */

import type { KubeClient } from "../../lib/kube/client.ts";
import type { Argoos } from "../../lib/service/argoos.ts";
import { launchArgoos as launchService, type LaunchedArgoos } from "../support/argoos_service.ts";
import type { FakeApiServer } from "../fake_apiserver/mod.ts";
import {
  type CapturedLog,
  deployment,
  type FakeCluster,
  imagesOf,
  startFakeCluster,
  waitFor,
} from "../support/fake_cluster.ts";
import type { RolloutSimulator } from "../fake_apiserver/rollout_sim.ts";
import { type RealRegistry, startRealRegistry } from "../real_registry/registry.ts";

/** The shared secret the registries send as `X-Argoos-Token` (unless a test says otherwise). */
export const TOKEN = "e2e-s3cret";

/** How long a registry delivery or a poll may take before a test fails. */
export const E2E_TIMEOUT_MS = 20_000;

/**
 * Start Argoos on a client with the e2e token and the given flags (later flags win).
 *
 * @example
 * ```ts ignore
 * import { launchArgoos } from "./harness.ts";
 * const { argoos } = await launchArgoos(client, ["serve", "--poll-interval", "1h"]);
 * ```
 */
export function launchArgoos(client: KubeClient, args: string[]): Promise<LaunchedArgoos> {
  return launchService(client, ["--token", TOKEN, ...args]);
}

/**
 * Store labelled workloads in the fake API server and wait until Argoos's cache holds them all.
 *
 * @example
 * ```ts ignore
 * import { seedWorkloads } from "./harness.ts";
 * await seedWorkloads(cluster.fake, argoos, deployment({ name: "web", policy: "patch", containers }));
 * ```
 */
export async function seedWorkloads(
  fake: FakeApiServer,
  argoos: Argoos,
  ...objs: Record<string, unknown>[]
): Promise<void> {
  const names = objs.map((o) => {
    fake.put(o);
    return (o.metadata as { name: string }).name;
  });
  await waitFor(
    () => names.every((n) => argoos.cache.all().some((w) => w.name === n)),
    `${names.join(", ")} in the cache`,
  );
}

/**
 * The image of one container of a workload stored in the fake API server.
 *
 * @example
 * ```ts ignore
 * import { imageOf } from "./harness.ts";
 * imageOf(cluster.fake, "web"); // "127.0.0.1:41234/myapp:1.2.4"
 * ```
 */
export function imageOf(
  fake: FakeApiServer,
  name: string,
  container = "app",
  kind: "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob" = "Deployment",
): string | undefined {
  const obj = fake.get(kind === "CronJob" ? "batch/v1" : "apps/v1", kind, "default", name);
  const entry = imagesOf(obj).find((e) => e.startsWith(`${container}=`));
  return entry?.slice(container.length + 1);
}

/**
 * The sources (`webhook`, `poll`) of every rollout Argoos logged for a workload, in order.
 *
 * @example
 * ```ts ignore
 * import { rolloutSources } from "./harness.ts";
 * rolloutSources(log, "Deployment default/web"); // ["webhook"]
 * ```
 */
export function rolloutSources(log: CapturedLog, workload: string): string[] {
  return log.records()
    .filter((r) => r.msg === "rolled out" && r.workload === workload)
    .map((r) => String(r.source));
}

/**
 * Wait until Argoos logged `count` rollouts of a workload (the log line follows the PATCH, so
 * seeing the new image is not enough), and return their sources.
 *
 * @example
 * ```ts ignore
 * import { waitForRollouts } from "./harness.ts";
 * await waitForRollouts(log, "Deployment default/web", 1); // ["webhook"]
 * ```
 */
export function waitForRollouts(
  log: CapturedLog,
  workload: string,
  count: number,
): Promise<string[]> {
  const enough = () => {
    const sources = rolloutSources(log, workload);
    return sources.length >= count ? sources : undefined;
  };
  return waitFor(enough, `${count} rollouts of ${workload}`) as Promise<string[]>;
}

/**
 * The image-patching requests the fake API server received for a Deployment.
 *
 * @example
 * ```ts ignore
 * import { patchCount } from "./harness.ts";
 * patchCount(cluster.fake, "web"); // 1
 * ```
 */
export function patchCount(fake: FakeApiServer, deployment: string): number {
  const path = `/apis/apps/v1/namespaces/default/deployments/${deployment}`;
  return fake.requests.filter((r) =>
    r.method === "PATCH" && r.path === path && r.contentType === "application/json-patch+json"
  ).length;
}

/** What {@linkcode startSimulatedE2E} started. */
export interface SimulatedE2E {
  cluster: FakeCluster;
  sim: RolloutSimulator;
  argoos: Argoos;
  log: CapturedLog;
  registry: RealRegistry;
  /** Events of the fake cluster with this reason. */
  events(reason: string): number;
  /**
   * Seed Deployment `web` (policy patch, 2 replicas, container `app` on `image`) once the cache
   * has synced, and wait for its pods.
   */
  seedWeb(image: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A fake cluster with its rollout simulation, Argoos serving it (`args` after `serve`, health
 * looked at every 100 ms) and a real registry notifying Argoos; `stop()` stops all three.
 *
 * @example
 * ```ts ignore
 * import { startSimulatedE2E } from "./harness.ts";
 * const e2e = await startSimulatedE2E(["--poll-interval", "0"]);
 * await e2e.stop();
 * ```
 */
export async function startSimulatedE2E(args: string[]): Promise<SimulatedE2E> {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts();
  const { argoos, log } = await launchArgoos(cluster.client, [
    "serve",
    "--health-recheck",
    "100ms",
    ...args,
  ]);
  const registry = await startRealRegistry({
    notifyUrl: `${argoos.url}/event`,
    token: TOKEN,
    notifyBackoff: "200ms",
    ignoreBlobsAndPulls: true,
  });
  return {
    cluster,
    sim,
    argoos,
    log,
    registry,
    events: (reason) => cluster.fake.list("v1", "Event").filter((e) => e.reason === reason).length,
    seedWeb: async (image) => {
      await argoos.cache.synced;
      const obj = deployment({
        name: "web",
        policy: "patch",
        containers: [{ name: "app", image }],
      });
      (obj.spec as { replicas: number }).replicas = 2;
      await seedWorkloads(cluster.fake, argoos, obj);
      await sim.idle();
    },
    stop: async () => {
      await argoos.stop();
      await registry.stop();
      await cluster.stop();
    },
  };
}
