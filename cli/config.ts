/**
 * From command-line flags and environment variables to an {@linkcode ArgoosConfig}:
 * a flag wins over its variable, which wins over the default.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { inClusterNamespace, SERVICE_ACCOUNT_DIR } from "../lib/kube/connection.ts";
import {
  MIN_AGE,
  MODE,
  readGateRules,
  UPDATE_WINDOW,
  UPDATE_WINDOW_TIMEZONE,
} from "../lib/gates/gates.ts";
import { parseDuration } from "../lib/parse/duration.ts";
import { loadParsers } from "../lib/parse/on_demand.ts";
import { POLICIES } from "../lib/policy/policy.ts";
import type { ArgoosConfig } from "../lib/service/config.ts";
import { kindNamed, WORKLOAD_KINDS, type WorkloadKind } from "../lib/workloads/kinds.ts";
import { parseRegistryAliases } from "../lib/webhook/sources/registry_name.ts";
import { parseCredentialProviderConfig } from "../lib/registry/credential_provider.ts";
import { parseRegistryMirrors } from "../lib/registry/mirrors.ts";
import { checkedToken, TokenError } from "../lib/webhook/token.ts";
import { parseSinks, secretVariable, type SinkSpec, SinkSpecError } from "../lib/notify/sinks.ts";
import { secretKey } from "../lib/notify/signature.ts";
import { OPTIONS } from "./options.ts";

/** The subcommands. */
export type Command = "serve" | "poll" | "plan" | "hold" | "release" | "approve" | "reject";

/** The workload `hold`, `release`, `approve` and `reject` act on: kubectl's `kind/name` and `-n`. */
export interface HoldTarget {
  kind: WorkloadKind;
  name: string;
  /** `-n`; absent: the kubeconfig context's namespace, else `default`, as kubectl does. */
  namespace?: string;
  /** ms, `--for`; undefined: until released. */
  forMs?: number;
  /** `--reason`. */
  reason?: string;
}

/** A bad flag or value: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What the command line asked for. */
export interface Invocation {
  command: Command;
  help: boolean;
  config: ArgoosConfig;
  /** `plan -f` manifest files. */
  files: string[];
  /** What `hold`, `release`, `approve` and `reject` act on. */
  target?: HoldTarget;
}

/** The commands that act on one workload, named as kubectl names it. */
const TARGETED: ReadonlySet<string> = new Set(["hold", "release", "approve", "reject"]);

/** kubectl's names of the kinds Argoos manages (resource, singular, short). */
const KIND_NAMES: Record<string, string> = {
  deployment: "Deployment",
  deployments: "Deployment",
  deploy: "Deployment",
  statefulset: "StatefulSet",
  statefulsets: "StatefulSet",
  sts: "StatefulSet",
  daemonset: "DaemonSet",
  daemonsets: "DaemonSet",
  ds: "DaemonSet",
  cronjob: "CronJob",
  cronjobs: "CronJob",
  cj: "CronJob",
};

/**
 * The workload a `kind/name` argument names, as kubectl reads it (`deployment/web`,
 * `deploy/web`, `statefulset.apps/db`); a {@linkcode UsageError} otherwise.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./config.ts";
 * parseTarget("deploy/web").kind.type.kind; // "Deployment"
 * ```
 */
export function parseTarget(arg: string): { kind: WorkloadKind; name: string } {
  const m = /^([a-z]+)(?:\.(?:apps|batch))?\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(arg);
  const kind = m && KIND_NAMES[m[1]] ? kindNamed(KIND_NAMES[m[1]]) : undefined;
  if (!m || !kind) {
    throw new UsageError(
      `"${arg}" is not kind/name (deployment, statefulset, daemonset or cronjob, e.g. deployment/web)`,
    );
  }
  return { kind, name: m[2] };
}

/** Reads a file's text; injectable for tests. */
export type ReadFile = (path: string) => Promise<string>;

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);

/**
 * The original Argoos was a Go program whose flags took one dash (`-token x`);
 * accept that spelling for every long option.
 */
function goStyleToLong(args: string[]): string[] {
  const long = new Set(OPTIONS.flatMap((o) => [o.name, `no-${o.name}`]));
  return args.map((a) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    return m && long.has(m[1]) ? `-${a}` : a;
  });
}

function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new UsageError(`--listen "${listen}" must be host:port or :port`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`--listen "${listen}": port ${port} is above 65535`);
  const host = m[1].replace(/^\[(.*)\]$/, "$1");
  // Like Go's ":3000": "::" takes IPv6 and, through mapped addresses, IPv4 too.
  return { hostname: host || "::", port };
}

/**
 * The original Argoos could turn off API server certificate checks; that is gone, and saying
 * so beats an "unknown option" or a variable silently ignored.
 */
function refuseSkipSslVerification(argv: string[], env: (name: string) => string | undefined) {
  const hint = "give the API server's CA with --ca-file (CA_FILE) instead";
  const flag = argv.find((a) => /^--?skip-ssl-verification(=.*)?$/.test(a));
  if (flag) throw new UsageError(`${flag.split("=")[0]} is gone: ${hint}`);
  if (TRUE.has(env("SKIP_SSL_VERIFICATION")?.toLowerCase() ?? "")) {
    throw new UsageError(`SKIP_SSL_VERIFICATION is gone: ${hint}`);
  }
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * A token from its flag or variable (`[value, where]`, which win) or its file, each refused
 * when blank: an empty `TOKEN=""` or a whitespace-only file would otherwise turn the check off.
 * The file is read here once to refuse a bad one at start; the service re-reads it on change.
 */
async function readToken(
  [value, source]: [string | undefined, string],
  file: { flag: string; path: string | undefined },
  readFile: ReadFile,
): Promise<{ token?: string; tokenFile?: string }> {
  try {
    if (value !== undefined) return { token: checkedToken(value, source) };
    if (file.path === undefined) return {};
    const text = await readFile(file.path).catch((err) => {
      throw new TokenError(`--${file.flag} ${file.path}: ${err.message}`);
    });
    checkedToken(text, `--${file.flag} ${file.path}`);
    return { tokenFile: file.path };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The notification sinks with their secrets: `--notify-secret NAME=FILE` (wins) or
 * `NOTIFY_SECRET_<NAME>`. Only CloudEvents sinks are signed; Slack and Teams URLs carry their
 * own secret.
 */
async function readSinks(
  specs: string[],
  secretFiles: string[] | undefined,
  env: (name: string) => string | undefined,
  readFile: ReadFile,
): Promise<SinkSpec[]> {
  try {
    const sinks = parseSinks(specs);
    const files = new Map((secretFiles ?? []).map((s) => {
      const eq = s.indexOf("=");
      if (eq < 1) throw new SinkSpecError(`--notify-secret "${s}": expected NAME=FILE`);
      return [s.slice(0, eq), s.slice(eq + 1)];
    }));
    for (const name of files.keys()) {
      if (!sinks.some((s) => s.name === name)) {
        throw new SinkSpecError(`--notify-secret ${name}: no --notify ${name}=URL`);
      }
    }
    for (const sink of sinks) {
      const path = files.get(sink.name);
      const text = path === undefined ? env(secretVariable(sink.name)) : await readFile(path)
        .catch((err) => {
          throw new SinkSpecError(`--notify-secret ${sink.name}: ${path}: ${err.message}`);
        });
      if (text === undefined) continue;
      const where = path === undefined ? secretVariable(sink.name) : `--notify-secret ${sink.name}`;
      if (sink.format !== "cloudevents") {
        throw new SinkSpecError(
          `${where}: only CloudEvents sinks are signed, ${sink.name} is ${sink.format}`,
        );
      }
      sink.secret = checkedToken(text, where);
      try {
        secretKey(sink.secret);
      } catch (err) {
        throw new SinkSpecError(`${where}: ${(err as Error).message}`);
      }
    }
    return sinks;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Parse `argv` (without the program name) and the environment.
 *
 * @example
 * ```ts
 * import { readInvocation } from "./config.ts";
 * const inv = await readInvocation(
 *   ["serve", "--listen", "127.0.0.1:8080", "--token", "s3cret"],
 *   () => undefined,
 * );
 * inv.config.listen; // { hostname: "127.0.0.1", port: 8080 }
 * ```
 */
export async function readInvocation(
  argv: string[],
  env: (name: string) => string | undefined,
  readFile: ReadFile = (p) => Deno.readTextFile(p),
): Promise<Invocation> {
  refuseSkipSslVerification(argv, env);
  let parsed;
  try {
    parsed = parseArgs({
      args: goStyleToLong(argv),
      allowPositionals: true,
      allowNegative: true,
      options: Object.fromEntries(OPTIONS.map((o) => [o.name, {
        type: o.type,
        ...(o.multiple ? { multiple: true } : {}),
        ...(o.short ? { short: o.short } : {}),
      }])),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command = "serve", ...rest] = parsed.positionals;
  const holds = TARGETED.has(command);
  if (!["serve", "poll", "plan", ...TARGETED].includes(command) || rest.length > 1) {
    throw new UsageError(`unknown command "${parsed.positionals.join(" ")}"`);
  }
  if (holds !== (rest.length === 1)) {
    throw new UsageError(
      holds
        ? `${command} needs the workload, as kind/name (e.g. deployment/web)`
        : `unknown command "${parsed.positionals.join(" ")}"`,
    );
  }
  const flags = parsed.values as Record<string, string | boolean | string[] | undefined>;

  const str = (name: string): string | undefined => {
    const spec = OPTIONS.find((o) => o.name === name)!;
    const flag = flags[name];
    if (typeof flag === "string") return flag;
    const fromEnv = spec.env ? env(spec.env) : undefined;
    return fromEnv !== undefined && fromEnv !== "" ? fromEnv : spec.default;
  };
  const bool = (name: string): boolean => {
    const flag = flags[name];
    if (typeof flag === "boolean") return flag;
    const value = str(name)?.toLowerCase() ?? "false";
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
    throw new UsageError(`--${name}: "${value}" is not true or false`);
  };
  const many = (name: string): string[] => {
    const flag = flags[name];
    return Array.isArray(flag) ? flag.flatMap(list) : list(str(name));
  };
  const file = async (name: string): Promise<string | undefined> => {
    const path = str(name);
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (err) {
      throw new UsageError(`--${name} ${path}: ${(err as Error).message}`);
    }
  };

  // `--help` prints the help whatever else is missing (a token, say).
  const help = bool("help");
  const webhook = !(command === "poll" || bool("poll-only"));
  /** A token option as given (an empty variable too, to be refused), and where it came from. */
  const given = (name: string): [string | undefined, string] => {
    const flag = flags[name];
    const variable = OPTIONS.find((o) => o.name === name)!.env!;
    return typeof flag === "string" ? [flag, `--${name}`] : [env(variable), variable];
  };
  const { token, tokenFile } = await readToken(
    given("token"),
    { flag: "token-file", path: str("token-file") },
    readFile,
  );
  const insecureNoToken = bool("insecure-no-token");
  if (
    !help && command === "serve" && webhook && token === undefined && tokenFile === undefined &&
    !insecureNoToken
  ) {
    throw new UsageError(
      "no token: POST /event would accept anyone; set TOKEN, --token or --token-file " +
        "(or --insecure-no-token if that is really meant)",
    );
  }
  const status = await readToken(
    given("status-token"),
    { flag: "status-token-file", path: str("status-token-file") },
    readFile,
  );
  const insecureStatus = bool("insecure-status");
  const sinks = await readSinks(
    many("notify"),
    flags["notify-secret"] as string[] | undefined,
    env,
    readFile,
  );
  const [cert, key] = [await file("server-cert"), await file("server-key")];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--server-cert and --server-key go together");
  }
  let dockerConfig: string | undefined;
  const dockerPath = str("docker-config");
  if (dockerPath !== undefined) {
    const isDir = await Deno.stat(dockerPath).then((s) => s.isDirectory, () => false);
    const path = isDir ? `${dockerPath}/config.json` : dockerPath;
    dockerConfig = await readFile(path).catch((err) => {
      throw new UsageError(`--docker-config ${path}: ${err.message}`);
    });
  }

  let pollIntervalMs: number,
    leaseDurationMs: number,
    deliveryDeadlineMs: number,
    healthRecheckMs: number,
    aliases,
    mirrors;
  try {
    pollIntervalMs = parseDuration(str("poll-interval")!);
    deliveryDeadlineMs = parseDuration(str("delivery-timeout")!);
    healthRecheckMs = parseDuration(str("health-recheck")!);
    leaseDurationMs = parseDuration(str("lease-duration")!);
    aliases = parseRegistryAliases(str("registry-aliases") ?? "");
    mirrors = parseRegistryMirrors(many("registry-mirror").join(","));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (healthRecheckMs <= 0) throw new UsageError("--health-recheck must be more than 0");
  // Read as the annotations they are defaults of, so both take the same values.
  const gateFlags: Record<string, string | undefined> = {
    [UPDATE_WINDOW]: "update-window",
    [UPDATE_WINDOW_TIMEZONE]: "update-window-timezone",
    [MIN_AGE]: "min-age",
  };
  if (str("update-window") !== undefined) await loadParsers({ cron: true });
  const gates = readGateRules((key) => {
    if (key === MODE) return { key: "observe", value: bool("observe") ? "observe" : undefined };
    const flag = gateFlags[key];
    return { key: flag ?? key, value: flag && str(flag) };
  });
  if ("reason" in gates) throw new UsageError(`--${gates.key} "${gates.value}": ${gates.reason}`);
  const providerConfig = await file("image-credential-provider-config");
  const binDir = str("image-credential-provider-bin-dir");
  if ((providerConfig === undefined) !== (binDir === undefined)) {
    throw new UsageError(
      "--image-credential-provider-config and --image-credential-provider-bin-dir go together",
    );
  }
  let credentialProviders;
  if (providerConfig !== undefined && binDir !== undefined) {
    try {
      credentialProviders = {
        providers: await parseCredentialProviderConfig(providerConfig),
        binDir,
      };
    } catch (err) {
      throw new UsageError(`--image-credential-provider-config: ${(err as Error).message}`);
    }
  }
  // The Lease stores whole seconds; a shorter duration would never hold.
  if (leaseDurationMs < 1_000) {
    throw new UsageError("--lease-duration must be at least 1s");
  }
  if (deliveryDeadlineMs <= 0) throw new UsageError("--delivery-timeout must be above 0");
  const pollOnly = !webhook;
  if (pollOnly && pollIntervalMs === 0) {
    throw new UsageError("poll-only mode needs a --poll-interval above 0");
  }
  const hostname = env("HOSTNAME") ?? (() => {
    try {
      return Deno.hostname();
    } catch {
      return "argoos"; // without --allow-sys the pid still tells replicas apart
    }
  })();
  const config: ArgoosConfig = {
    listen: parseListen(str("listen")!),
    serverTls: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    token,
    tokenFile,
    insecureNoToken,
    webhook: !pollOnly,
    aliases,
    deliveryDeadlineMs,
    kube: {
      kubeconfig: str("kubeconfig"),
      context: str("context"),
      inCluster: bool("in-cluster"),
      masterUrl: str("master"),
      caFile: str("ca-file"),
      certFile: str("cert-file"),
      keyFile: str("key-file"),
      env,
    },
    namespaces: many("namespace"),
    kinds: WORKLOAD_KINDS,
    pollIntervalMs,
    registry: {
      insecureHosts: list(str("registry-insecure")),
      allow: list(str("registry-allow")),
      caCert: await file("registry-ca-file"),
      dockerConfig,
      mirrors,
      credentialProviders,
    },
    dryRun: bool("dry-run") || command === "plan",
    revert: bool("revert"),
    healthRecheckMs,
    gates,
    events: bool("events"),
    notify: { sinks, source: `argoos/${str("cluster-name") ?? hostname}` },
    status: status.token !== undefined || status.tokenFile !== undefined || insecureStatus
      ? status
      : undefined,
    leader: {
      enabled: bool("leader-elect"),
      namespace: str("lease-namespace") ??
        await inClusterNamespace(SERVICE_ACCOUNT_DIR, readFile) ?? "default",
      name: str("lease-name")!,
      identity: str("identity") ?? `${hostname}-${Deno.pid}`,
      leaseDurationMs,
    },
    verbose: bool("verbose"),
  };
  let target: HoldTarget | undefined;
  if (holds) {
    const forText = str("for");
    let forMs: number | undefined;
    try {
      forMs = forText === undefined ? undefined : parseDuration(forText);
    } catch (err) {
      throw new UsageError(`--for: ${(err as Error).message}`);
    }
    if (forMs !== undefined && forMs <= 0) throw new UsageError("--for must be more than 0");
    if (command !== "hold" && (forText !== undefined || str("reason") !== undefined)) {
      throw new UsageError(`--for and --reason go with hold, not ${command}`);
    }
    target = {
      ...parseTarget(rest[0]),
      ...(config.namespaces[0] ? { namespace: config.namespaces[0] } : {}),
      ...(forMs === undefined ? {} : { forMs }),
      ...(str("reason") === undefined ? {} : { reason: str("reason") }),
    };
  }
  return {
    command: command as Command,
    help,
    config,
    files: many("file"),
    ...(target ? { target } : {}),
  };
}

/**
 * The `--help` text, generated from the option table.
 *
 * @example
 * ```ts
 * import { helpText } from "./config.ts";
 * helpText().includes("--poll-interval"); // true
 * ```
 */
export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${o.name}${
      o.type === "string" ? " VALUE" : ""
    }`;
    const env = o.env ? ` [env ${o.env}]` : "";
    const def = o.default ? ` (default ${o.default})` : "";
    return `  ${flag.padEnd(32)} ${o.help}${env}${def}`;
  });
  return [
    "argoos: roll out Kubernetes workloads when their registry has a newer allowed image",
    "",
    "usage: argoos [serve|poll|plan] [options]",
    "       argoos hold KIND/NAME [-n NAMESPACE] [--for 24h] [--reason TEXT]",
    "       argoos release KIND/NAME [-n NAMESPACE]",
    "  serve   webhook (POST /event) and periodic poll (default)",
    "  poll    poll only: no webhook routes, health still served",
    "  plan    show what each labelled container runs, what the registry offers and",
    "          what its policy would choose; changes nothing",
    "  hold    Argoos writes nothing to the workload (argoos.io/hold) until released or",
    "          --for has passed; with your kubeconfig, so your RBAC decides",
    "  release end a hold: the workload is reconciled at once",
    "  approve KIND/NAME [-n NAMESPACE]   approve the update a gate holds (argoos.io/pending)",
    "  reject KIND/NAME [-n NAMESPACE]    reject it: Argoos never writes that digest",
    "",
    `Workloads opt in with the label argoos.io/policy: ${[...POLICIES].join(" | ")}.`,
    "Flags may also be written with one dash (-token), as the original Argoos took them.",
    "",
    "options:",
    ...rows,
    "",
  ].join("\n");
}
