/**
 * From command-line flags and environment variables to an {@linkcode ArgoosConfig}:
 * a flag wins over its variable, which wins over the default.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { inClusterNamespace, SERVICE_ACCOUNT_DIR } from "../lib/kube/connection.ts";
import { parseDuration } from "../lib/poll/duration.ts";
import type { ArgoosConfig } from "../lib/service/config.ts";
import { WORKLOAD_KINDS } from "../lib/workloads/kinds.ts";
import { parseRegistryAliases } from "../lib/webhook/registry_name.ts";
import { parseCredentialProviderConfig } from "../lib/registry/credential_provider.ts";
import { parseRegistryMirrors } from "../lib/registry/mirrors.ts";
import { checkedToken, TokenError } from "../lib/webhook/token.ts";
import { OPTIONS } from "./options.ts";

/** The subcommands. */
export type Command = "serve" | "poll" | "plan";

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
 * The token from `--token`/`TOKEN` (which win) or `--token-file`/`TOKEN_FILE`, each refused
 * when blank: an empty `TOKEN=""` or a whitespace-only file would otherwise turn the check off.
 * The file is read here once to refuse a bad one at start; the service re-reads it on change.
 */
async function readToken(
  flag: unknown,
  env: (name: string) => string | undefined,
  tokenFile: string | undefined,
  readFile: ReadFile,
): Promise<{ token?: string; tokenFile?: string }> {
  const [value, source] = typeof flag === "string" ? [flag, "--token"] : [env("TOKEN"), "TOKEN"];
  try {
    if (value !== undefined) return { token: checkedToken(value, source) };
    if (tokenFile === undefined) return {};
    const text = await readFile(tokenFile).catch((err) => {
      throw new TokenError(`--token-file ${tokenFile}: ${err.message}`);
    });
    checkedToken(text, `--token-file ${tokenFile}`);
    return { tokenFile };
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
  if (!["serve", "poll", "plan"].includes(command) || rest.length > 0) {
    throw new UsageError(`unknown command "${parsed.positionals.join(" ")}"`);
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

  const webhook = !(command === "poll" || bool("poll-only"));
  const { token, tokenFile } = await readToken(flags.token, env, str("token-file"), readFile);
  const insecureNoToken = bool("insecure-no-token");
  if (
    command === "serve" && webhook && token === undefined && tokenFile === undefined &&
    !insecureNoToken
  ) {
    throw new UsageError(
      "no token: POST /event would accept anyone; set TOKEN, --token or --token-file " +
        "(or --insecure-no-token if that is really meant)",
    );
  }
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
    events: bool("events"),
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
  return { command: command as Command, help: bool("help"), config, files: many("file") };
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
    "  serve   webhook (POST /event) and periodic poll (default)",
    "  poll    poll only: no webhook routes, health still served",
    "  plan    show what each labelled container runs, what the registry offers and",
    "          what its policy would choose; changes nothing",
    "",
    "Workloads opt in with the label argoos.io/policy: patch | minor | major | all.",
    "Flags may also be written with one dash (-token), as the original Argoos took them.",
    "",
    "options:",
    ...rows,
    "",
  ].join("\n");
}
