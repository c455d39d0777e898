/**
 * A complete in-process service configuration for tests: loopback on an ephemeral
 * port, every workload kind, no polling, no leader election, events on.
 *
 * @module
 */

import type { ArgoosConfig } from "../../lib/service/config.ts";
import { WORKLOAD_KINDS } from "../../lib/workloads/kinds.ts";

/**
 * The test defaults, with `overrides` on top.
 *
 * @example
 * ```ts
 * import { serviceConfig } from "./service_config.ts";
 * serviceConfig({ dryRun: true }).listen; // { hostname: "127.0.0.1", port: 0 }
 * ```
 */
export function serviceConfig(overrides: Partial<ArgoosConfig> = {}): ArgoosConfig {
  return {
    listen: { hostname: "127.0.0.1", port: 0 },
    webhook: true,
    aliases: new Map(),
    kube: {},
    namespaces: [],
    kinds: WORKLOAD_KINDS,
    pollIntervalMs: 0,
    registry: { insecureHosts: [] },
    dryRun: false,
    events: true,
    leader: {
      enabled: false,
      namespace: "default",
      name: "argoos-poller",
      identity: "test",
      leaseDurationMs: 15_000,
    },
    verbose: true,
    ...overrides,
  };
}
