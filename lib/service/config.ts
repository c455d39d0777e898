/**
 * Everything a running Argoos needs to know, whatever it was read from.
 *
 * @module
 */

import type { GateRules } from "../gates/gates.ts";
import type { ConnectionOptions } from "../kube/connection.ts";
import type { WorkloadKind } from "../workloads/kinds.ts";
import type { RegistryAliases } from "../webhook/sources/registry_name.ts";
import type { CredentialProvider } from "../registry/credential_provider.ts";
import type { RegistryMirrors } from "../registry/mirrors.ts";
import type { SinkSpec } from "../notify/sinks.ts";

/** Leader election for the poll loop. */
export interface LeaderConfig {
  /** Whether replicas elect one poller. */
  enabled: boolean;
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** This replica's name in the Lease. */
  identity: string;
  /** How long a Lease holds without renewal. */
  leaseDurationMs: number;
}

/** A complete service configuration. */
export interface ArgoosConfig {
  /** Address to serve on. */
  listen: { hostname: string; port: number };
  /** HTTPS certificate and key (PEM text). */
  serverTls?: { cert: string; key: string };
  /** Expected `X-Argoos-Token`, fixed. */
  token?: string;
  /** File holding the expected token, re-read when it changes; `token` wins over it. */
  tokenFile?: string;
  /** With neither token: accept every delivery (warned at start); else refused at start. */
  insecureNoToken?: boolean;
  /** Serve `POST /event` (false in poll-only mode). */
  webhook: boolean;
  /** `REGISTRY_ALIASES`: the public name of a registry by the host its events name. */
  aliases: RegistryAliases;
  /** How long a delivery waits for its reconciles before answering 503; default 4 s. */
  deliveryDeadlineMs?: number;
  /** How to reach the API server. */
  kube: ConnectionOptions;
  /** Namespaces to watch; empty for all. */
  namespaces: string[];
  /** Workload kinds to watch. */
  kinds: readonly WorkloadKind[];
  /** Poll period; 0 disables polling. */
  pollIntervalMs: number;
  /** How registries are reached: TLS, allowed hosts, credentials, mirrors. */
  registry: {
    insecureHosts: string[];
    /** Host globs registries must match; empty allows every registry. */
    allow?: string[];
    caCert?: string;
    /** Text of a docker config.json with credentials (and `credHelpers` / `credsStore`). */
    dockerConfig?: string;
    /** Registries read through a mirror. */
    mirrors: RegistryMirrors;
    /** Kubelet credential provider plugins and the folder holding them. */
    credentialProviders?: { providers: CredentialProvider[]; binDir: string };
  };
  /** Write nothing; log and report what would be written. */
  dryRun: boolean;
  /** Take back a rollout that fails (false: `--no-revert`, only report). */
  revert: boolean;
  /** How often a rollout in progress is looked at. */
  healthRecheckMs: number;
  /** Gates of every workload (update window, minimum age, observe); annotations win. */
  gates?: GateRules;
  /** Record Kubernetes Events. */
  events: boolean;
  /** Where decisions are sent (none: no notifications), and the CloudEvents `source`. */
  notify?: { sinks: SinkSpec[]; source: string };
  /**
   * The status page (`GET /status`, `/api/v1/workloads`): its token, fixed or in a file; with
   * neither, open (`--insecure-status`). Undefined: not served.
   */
  status?: { token?: string; tokenFile?: string };
  /** Leader election of the poll loop. */
  leader: LeaderConfig;
  /** Log at debug level. */
  verbose: boolean;
}
