/**
 * The whole Argoos service started in-process against a fake API server, as `argoos serve`
 * would start it, with helpers to post deliveries and read back what happened.
 *
 * @module
 */

import { readInvocation } from "../../cli/config.ts";
import type { KubeClient } from "../../lib/kube/client.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { startStubRegistry, type StubRegistry } from "../../bench/stub_registry.ts";
import { type Argoos, type ArgoosDeps, startArgoos } from "../../lib/service/argoos.ts";
import { capture, type CapturedLog } from "./capture_log.ts";
import { LOOPBACK_INSECURE } from "./loopback.ts";
import { type FakeCluster, startFakeCluster } from "./fake_cluster.ts";

/**
 * The webhook token the service is started with.
 *
 * @example
 * ```ts
 * import { SERVICE_TOKEN } from "./argoos_service.ts";
 * const headers = { "x-argoos-token": SERVICE_TOKEN };
 * ```
 */
export const SERVICE_TOKEN = "t";

/** Options of {@linkcode startService}. */
export interface ServiceOptions {
  /** Extra command-line arguments after the defaults. */
  args?: string[];
  /** Environment variables the configuration reads (REGISTRY_ALIASES, …). */
  env?: Record<string, string>;
  /**
   * Called with the fake cluster and the stub registry before the service starts (seed
   * objects, queue faults, push tags).
   */
  seed?: (cluster: FakeCluster, registry: StubRegistry) => void;
  /** Answers the requests it returns a Response for (a hostile registry); see `clientFor`. */
  answer?: RegistryAnswer;
  /** The service's clock (gates, rollout records); default `Date.now`. */
  now?: () => number;
  /** The work queue's back-off, scaled down to keep a test short (default 1 s to 5 min). */
  backoff?: ArgoosDeps["backoff"];
}

/**
 * Answers a registry request itself, or returns undefined to leave it to the stub registry.
 *
 * @example
 * ```ts
 * import type { RegistryAnswer } from "./argoos_service.ts";
 * const hostile: RegistryAnswer = (url) =>
 *   url.hostname === "bad.example.com" ? new Response("not json") : undefined;
 * ```
 */
export type RegistryAnswer = (url: URL, init?: RequestInit) => Response | undefined;

/** A running service and its fake cluster. */
export interface Service extends FakeCluster {
  argoos: Argoos;
  log: CapturedLog;
  /**
   * The registry every host answers from (whatever host a workload or push names, the
   * service's registry client reaches this stub): push tags here for them to exist.
   */
  registry: StubRegistry;
  /** POST a body to /event with the right token unless `headers` sets another; body read. */
  post(body: BodyInit, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  /** GET a path; returns status and body. */
  get(path: string): Promise<{ status: number; text: string }>;
}

/**
 * Start `serve` with webhook token "t", no polling and no leader election, on 127.0.0.1:0,
 * talking to a fresh fake API server. `stop()` stops both.
 *
 * @example
 * ```ts
 * import { startService } from "./argoos_service.ts";
 * const svc = await startService();
 * await svc.argoos.cache.synced;
 * await svc.stop();
 * ```
 */
/** A started service and the log it writes. */
export interface LaunchedArgoos {
  argoos: Argoos;
  log: CapturedLog;
}

/**
 * Start Argoos in-process on a client, configured as `argoos` would be from
 * `args` (after `--listen 127.0.0.1:0 --no-leader-elect --insecure-no-token` and loopback
 * registries over plain http; later flags win) and `env`.
 *
 * @example
 * ```ts ignore
 * import { launchArgoos } from "./argoos_service.ts";
 * const { argoos, log } = await launchArgoos(client, ["serve", "--poll-interval", "1h"]);
 * await argoos.stop();
 * ```
 */
export async function launchArgoos(
  client: KubeClient,
  args: string[],
  env: Record<string, string> = {},
  registry?: RegistryClient,
  now?: () => number,
  backoff?: ArgoosDeps["backoff"],
): Promise<LaunchedArgoos> {
  const defaults = [
    "--listen",
    "127.0.0.1:0",
    "--no-leader-elect",
    "--insecure-no-token",
    "--registry-insecure",
    LOOPBACK_INSECURE.join(","),
  ];
  const { config } = await readInvocation([...defaults, ...args], (name) => env[name]);
  const log = capture();
  const argoos = await startArgoos(config, {
    client,
    logger: log.logger,
    registry,
    now,
    backoff,
  });
  return { argoos, log };
}

/**
 * A registry client whose every request, to any host, goes to `stub` instead, but those
 * `answer` answers itself.
 *
 * @example
 * ```ts ignore
 * import { clientFor } from "./argoos_service.ts";
 * const registry = clientFor(startStubRegistry());
 * ```
 */
export function clientFor(stub: StubRegistry, answer?: RegistryAnswer): RegistryClient {
  return new RegistryClient({
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const own = answer?.(url, init);
      return own
        ? Promise.resolve(own)
        : fetch(`http://${stub.host}${url.pathname}${url.search}`, init);
    },
  });
}

export async function startService(opts: ServiceOptions = {}): Promise<Service> {
  const cluster = await startFakeCluster();
  const registry = startStubRegistry();
  opts.seed?.(cluster, registry);
  const { argoos, log } = await launchArgoos(
    cluster.client,
    ["serve", "--poll-interval", "0", "--token", SERVICE_TOKEN, ...(opts.args ?? [])],
    opts.env,
    clientFor(registry, opts.answer),
    opts.now,
    opts.backoff,
  );
  const read = async (res: Response) => ({ status: res.status, text: await res.text() });
  return {
    ...cluster,
    argoos,
    log,
    registry,
    post: async (body, headers = {}) =>
      read(
        await fetch(`${argoos.url}/event`, {
          method: "POST",
          headers: {
            "content-type": "application/vnd.docker.distribution.events.v1+json",
            "x-argoos-token": SERVICE_TOKEN,
            ...headers,
          },
          body,
        }),
      ),
    get: async (path) => read(await fetch(`${argoos.url}${path}`)),
    stop: async () => {
      await argoos.stop();
      await cluster.stop();
      await registry.close();
    },
  };
}
