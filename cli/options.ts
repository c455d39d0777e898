/**
 * Every command-line option, its environment variable and its help text, in
 * one table that both the parser and `--help` read.
 *
 * @module
 */

import { RECHECK_MS } from "../lib/health/tracker.ts";

/** One option. */
export interface OptionSpec {
  name: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  default?: string;
  help: string;
}

/** The options of `argoos serve`, `poll`, `plan`, `hold` and `release`. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "listen",
    env: "LISTEN",
    type: "string",
    default: ":3000",
    help: "address to serve on, host:port or :port (all IPv4 and IPv6 addresses)",
  },
  {
    name: "token",
    env: "TOKEN",
    type: "string",
    help: "shared secret expected in the X-Argoos-Token header",
  },
  {
    name: "token-file",
    env: "TOKEN_FILE",
    type: "string",
    help: "read the token from this file (a mounted Secret); re-read when it changes",
  },
  {
    name: "insecure-no-token",
    env: "INSECURE_NO_TOKEN",
    type: "boolean",
    help: "serve POST /event without a token: anyone who reaches it triggers rollouts",
  },
  {
    name: "server-cert",
    env: "SERVER_CERT",
    type: "string",
    help: "PEM certificate file: serve HTTPS",
  },
  { name: "server-key", env: "SERVER_KEY", type: "string", help: "PEM key file for --server-cert" },
  {
    name: "kubeconfig",
    env: "KUBECONFIG",
    type: "string",
    help: "kubeconfig file(s), ':'-separated (default ~/.kube/config)",
  },
  {
    name: "context",
    env: "KUBE_CONTEXT",
    type: "string",
    help: "kubeconfig context (default: current-context)",
  },
  {
    name: "master",
    env: "KUBE_MASTER_URL",
    type: "string",
    help: "API server URL, e.g. http://127.0.0.1:8001 for kubectl proxy",
  },
  { name: "in-cluster", env: "INCLUSTER", type: "boolean", help: "use the pod's service account" },
  { name: "ca-file", env: "CA_FILE", type: "string", help: "CA certificate of the API server" },
  {
    name: "cert-file",
    env: "CERT_FILE",
    type: "string",
    help: "client certificate for the API server",
  },
  { name: "key-file", env: "KEY_FILE", type: "string", help: "client key for --cert-file" },
  {
    name: "namespace",
    short: "n",
    env: "NAMESPACES",
    type: "string",
    multiple: true,
    help: "watch only this namespace (repeatable; env: comma-separated); default all. " +
      "hold/release: the workload's namespace (default: the kubeconfig context's, else default)",
  },
  {
    name: "registry-aliases",
    env: "REGISTRY_ALIASES",
    type: "string",
    help: "from=to,...: the public name of a registry known by its request.host",
  },
  {
    name: "delivery-timeout",
    env: "DELIVERY_TIMEOUT",
    type: "string",
    default: "4s",
    help: "wait this long for a delivery's reconciles, then 503 (< registry's timeout)",
  },
  {
    name: "poll-interval",
    env: "POLL_INTERVAL",
    type: "string",
    default: "5m",
    help: "poll registries this often (30s, 5m, 1h); 0 turns polling off",
  },
  {
    name: "poll-only",
    env: "POLL_ONLY",
    type: "boolean",
    help: "no webhook routes, poll only (same as `argoos poll`)",
  },
  {
    name: "docker-config",
    env: "DOCKER_CONFIG",
    type: "string",
    help: "docker config.json (or its folder) with registry credentials",
  },
  {
    name: "registry-insecure",
    env: "REGISTRY_INSECURE",
    type: "string",
    help: "comma-separated registry hosts (or globs, 127.0.0.1:*) reached over plain HTTP",
  },
  {
    name: "registry-allow",
    env: "REGISTRY_ALLOW",
    type: "string",
    help: "comma-separated registry host globs (*.example.com); others are never contacted",
  },
  {
    name: "registry-mirror",
    env: "REGISTRY_MIRRORS",
    type: "string",
    multiple: true,
    help: "registry=mirror[:port]: read that registry's tags and digests from its mirror",
  },
  {
    name: "image-credential-provider-config",
    env: "IMAGE_CREDENTIAL_PROVIDER_CONFIG",
    type: "string",
    help: "kubelet CredentialProviderConfig file: credential provider plugins to run",
  },
  {
    name: "image-credential-provider-bin-dir",
    env: "IMAGE_CREDENTIAL_PROVIDER_BIN_DIR",
    type: "string",
    help: "folder of the credential provider plugins named in that config",
  },
  {
    name: "registry-ca-file",
    env: "REGISTRY_CA_FILE",
    type: "string",
    help: "CA certificate bundle for registries",
  },
  { name: "dry-run", env: "DRY_RUN", type: "boolean", help: "decide and log, patch nothing" },
  {
    name: "revert",
    env: "REVERT",
    type: "boolean",
    default: "true",
    help: "take back a rollout that fails (--no-revert: only report it)",
  },
  {
    name: "update-window",
    env: "UPDATE_WINDOW",
    type: "string",
    help: "write updates only in these windows: cron and duration, ';'-separated (0 2 * * 6 4h)",
  },
  {
    name: "update-window-timezone",
    env: "UPDATE_WINDOW_TIMEZONE",
    type: "string",
    help: "IANA time zone the update windows are read in (default UTC)",
  },
  {
    name: "min-age",
    env: "MIN_AGE",
    type: "string",
    help: "write an image only once it is this old (72h), from its push or first sighting",
  },
  {
    name: "observe",
    env: "OBSERVE",
    type: "boolean",
    help: "decide and tell (argoos.io/pending, Events), write no image",
  },
  {
    name: "health-recheck",
    env: "HEALTH_RECHECK",
    type: "string",
    default: `${RECHECK_MS / 60_000}m`,
    help: "look at a rollout in progress at least this often (its workload's status changes " +
      "bring the other looks): how late an early sign only its pods show is seen",
  },
  {
    name: "events",
    env: "EVENTS",
    type: "boolean",
    default: "true",
    help: "record Kubernetes Events on workloads (--no-events to turn off)",
  },
  {
    name: "notify",
    env: "NOTIFY",
    type: "string",
    multiple: true,
    help: "NAME=URL: send decisions there (https://: CloudEvents; slack+https://, teams+https://)",
  },
  {
    name: "notify-secret",
    type: "string",
    multiple: true,
    help: "NAME=FILE: sign sink NAME's CloudEvents with this secret [env NOTIFY_SECRET_<NAME>]",
  },
  {
    name: "cluster-name",
    env: "CLUSTER_NAME",
    type: "string",
    help: "name of this cluster in notifications (source argoos/NAME; default: hostname)",
  },
  {
    name: "status-token",
    env: "STATUS_TOKEN",
    type: "string",
    help: "serve GET /status and /api/v1/workloads to who presents this token",
  },
  {
    name: "status-token-file",
    env: "STATUS_TOKEN_FILE",
    type: "string",
    help: "read the status page token from this file; re-read when it changes",
  },
  {
    name: "insecure-status",
    env: "INSECURE_STATUS",
    type: "boolean",
    help: "serve the status page without a token: anyone who reaches it sees every workload",
  },
  {
    name: "leader-elect",
    env: "LEADER_ELECT",
    type: "boolean",
    default: "true",
    help: "only the Lease holder polls (--no-leader-elect to turn off)",
  },
  {
    name: "lease-namespace",
    env: "POD_NAMESPACE",
    type: "string",
    help: "namespace of the leader Lease (default: the pod's, else default)",
  },
  {
    name: "lease-name",
    env: "LEASE_NAME",
    type: "string",
    default: "argoos-poller",
    help: "name of the leader Lease",
  },
  {
    name: "lease-duration",
    env: "LEASE_DURATION",
    type: "string",
    default: "15s",
    help: "how long the leader Lease holds without renewal",
  },
  {
    name: "identity",
    env: "POD_NAME",
    type: "string",
    help: "this replica's name in the Lease (default: hostname-pid)",
  },
  {
    name: "file",
    short: "f",
    type: "string",
    multiple: true,
    help: "plan: read workloads from these manifest files instead of the cluster",
  },
  {
    name: "for",
    type: "string",
    help: "hold: how long (24h, 90m); default until `argoos release`",
  },
  {
    name: "reason",
    type: "string",
    help: "hold: why, one line (kept in argoos.io/hold-reason)",
  },
  { name: "verbose", short: "v", env: "VERBOSE", type: "boolean", help: "debug logging" },
  { name: "help", short: "h", type: "boolean", help: "show this help" },
];
