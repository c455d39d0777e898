/**
 * Reading kubeconfig files (the `kubectl` client configuration): parsing, merging a
 * `KUBECONFIG` list and picking a context. Relative file paths are resolved against the
 * directory of the file that mentions them, as kubectl does.
 *
 * @module
 */

import { parseYamlOrJson } from "../io/yaml.ts";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ExecConfig } from "./exec_credential.ts";
import { isObject, type JsonObject } from "../parse/object.ts";

/**
 * A kubeconfig that cannot be used: bad YAML, missing context, unsupported setting.
 *
 * @example
 * ```ts
 * import { KubeconfigError, parseKubeconfig } from "./kubeconfig.ts";
 * try {
 *   await parseKubeconfig("clusters: [", "/tmp/config");
 * } catch (err) {
 *   err instanceof KubeconfigError; // true: "kubeconfig /tmp/config: invalid YAML: ..."
 * }
 * ```
 */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeconfigError";
  }
}

/** A `clusters[].cluster` entry, with file paths made absolute and `*-data` decoded to PEM. */
export interface KubeconfigCluster {
  server: string;
  /** Absolute path of a PEM CA bundle. */
  certificateAuthority?: string;
  /** PEM CA bundle (decoded from base64 `certificate-authority-data`). */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
}

/** A `users[].user` entry, with file paths made absolute and `*-data` decoded to PEM. */
export interface KubeconfigUser {
  token?: string;
  /** Absolute path of a file holding a bearer token. */
  tokenFile?: string;
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  /** Name of a legacy `auth-provider` (gcp, azure, oidc); kept only to refuse it clearly. */
  authProvider?: string;
}

/** A `contexts[].context` entry. */
export interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace?: string;
}

/** One kubeconfig file, or several merged. */
export interface Kubeconfig {
  currentContext?: string;
  clusters: Record<string, KubeconfigCluster>;
  users: Record<string, KubeconfigUser>;
  contexts: Record<string, KubeconfigContext>;
  /** The files this came from, in precedence order. */
  files: string[];
}

const str = (v: unknown): string | undefined => typeof v === "string" && v !== "" ? v : undefined;

/**
 * Parses one kubeconfig file's text. `path` is where it was read from, used to resolve
 * relative paths and in error messages.
 *
 * @example
 * ```ts
 * import { parseKubeconfig } from "./kubeconfig.ts";
 * const cfg = await parseKubeconfig(
 *   `
 * clusters: [{ name: c, cluster: { server: "https://k:6443", certificate-authority: ca.crt } }]
 * users: [{ name: u, user: { token: abc } }]
 * contexts: [{ name: x, context: { cluster: c, user: u } }]
 * current-context: x
 * `,
 *   "/home/me/.kube/config",
 * );
 * cfg.clusters.c.certificateAuthority; // "/home/me/.kube/ca.crt"
 * ```
 */
export async function parseKubeconfig(text: string, path: string): Promise<Kubeconfig> {
  let doc: unknown;
  try {
    doc = await parseYamlOrJson(text);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path}: invalid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObject(doc)) throw new KubeconfigError(`kubeconfig ${path}: not a YAML mapping`);
  const dir = dirname(resolve(path));
  const abs = (p: unknown) => {
    const s = str(p);
    return s === undefined ? undefined : isAbsolute(s) ? s : resolve(dir, s);
  };
  const pem = (v: unknown, field: string) => {
    const s = str(v);
    if (s === undefined) return undefined;
    try {
      // UTF-8, like a PEM file read from disk (atob would give one char per byte).
      return new TextDecoder().decode(Uint8Array.fromBase64(s.replace(/\s+/g, "")));
    } catch {
      throw new KubeconfigError(`kubeconfig ${path}: ${field} is not valid base64`);
    }
  };

  const cfg: Kubeconfig = {
    currentContext: str(doc["current-context"]),
    clusters: {},
    users: {},
    contexts: {},
    files: [path],
  };
  for (const [name, c] of named(doc, "clusters", "cluster", path)) {
    cfg.clusters[name] = {
      server: str(c.server) ?? "",
      certificateAuthority: abs(c["certificate-authority"]),
      certificateAuthorityData: pem(c["certificate-authority-data"], `cluster ${name} CA data`),
      insecureSkipTlsVerify: c["insecure-skip-tls-verify"] === true,
    };
  }
  for (const [name, u] of named(doc, "users", "user", path)) {
    cfg.users[name] = {
      token: str(u.token),
      tokenFile: abs(u.tokenFile),
      clientCertificate: abs(u["client-certificate"]),
      clientCertificateData: pem(u["client-certificate-data"], `user ${name} certificate data`),
      clientKey: abs(u["client-key"]),
      clientKeyData: pem(u["client-key-data"], `user ${name} key data`),
      username: str(u.username),
      password: str(u.password),
      exec: isObject(u.exec)
        ? execConfig(u.exec, dir, `kubeconfig ${path} user ${name}`)
        : undefined,
      authProvider: isObject(u["auth-provider"])
        ? str(u["auth-provider"].name) ?? "(unnamed)"
        : undefined,
    };
  }
  for (const [name, c] of named(doc, "contexts", "context", path)) {
    cfg.contexts[name] = {
      cluster: str(c.cluster) ?? "",
      user: str(c.user) ?? "",
      namespace: str(c.namespace),
    };
  }
  return cfg;
}

/** Entries of a `[{name, <field>: {...}}]` list as [name, value] pairs. */
function named(doc: JsonObject, list: string, field: string, path: string): [string, JsonObject][] {
  const items = doc[list] ?? [];
  if (!Array.isArray(items)) throw new KubeconfigError(`kubeconfig ${path}: ${list} is not a list`);
  return items.flatMap((item): [string, JsonObject][] => {
    const name = isObject(item) ? str(item.name) : undefined;
    if (name === undefined) {
      throw new KubeconfigError(`kubeconfig ${path}: ${list} entry without name`);
    }
    const value = item[field] ?? {};
    if (!isObject(value)) {
      throw new KubeconfigError(`kubeconfig ${path}: ${list} ${name} is not a mapping`);
    }
    return [[name, value]];
  });
}

function execConfig(e: JsonObject, dir: string, where: string): ExecConfig {
  const command = str(e.command);
  const apiVersion = str(e.apiVersion);
  if (!command || !apiVersion) {
    throw new KubeconfigError(`${where}: exec needs command and apiVersion`);
  }
  const env = Array.isArray(e.env) ? e.env.filter(isObject) : [];
  return {
    // kubectl resolves a command with a path separator against the kubeconfig's directory.
    command: command.includes("/") && !isAbsolute(command) ? resolve(dir, command) : command,
    args: Array.isArray(e.args) ? e.args.map(String) : [],
    env: env.map((v) => ({ name: String(v.name), value: String(v.value ?? "") })),
    apiVersion,
    interactiveMode: str(e.interactiveMode) as ExecConfig["interactiveMode"],
    provideClusterInfo: e.provideClusterInfo === true,
    installHint: str(e.installHint),
  };
}

/**
 * Merges kubeconfigs as kubectl merges a `KUBECONFIG` list: the first file to define a
 * name (or `current-context`) wins.
 *
 * @example
 * ```ts
 * import { mergeKubeconfigs, parseKubeconfig } from "./kubeconfig.ts";
 * const a = await parseKubeconfig("current-context: a", "/a");
 * const b = await parseKubeconfig("current-context: b", "/b");
 * mergeKubeconfigs([a, b]).currentContext; // "a"
 * ```
 */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const out: Kubeconfig = { clusters: {}, users: {}, contexts: {}, files: [] };
  for (const cfg of configs) {
    out.currentContext ??= cfg.currentContext;
    out.clusters = { ...cfg.clusters, ...out.clusters };
    out.users = { ...cfg.users, ...out.users };
    out.contexts = { ...cfg.contexts, ...out.contexts };
    out.files.push(...cfg.files);
  }
  return out;
}

/**
 * Reads and merges the kubeconfig files that exist among `paths`; missing files are
 * skipped like kubectl does. Resolves to `undefined` when none exists.
 *
 * @example
 * ```ts
 * import { loadKubeconfig } from "./kubeconfig.ts";
 * const cfg = await loadKubeconfig(["/nonexistent/config"]); // undefined
 * ```
 */
export async function loadKubeconfig(paths: string[]): Promise<Kubeconfig | undefined> {
  const found: Kubeconfig[] = [];
  for (const path of paths.filter((p) => p !== "")) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw new KubeconfigError(`kubeconfig ${path}: ${(err as Error).message}`);
    }
    found.push(await parseKubeconfig(text, path));
  }
  return found.length ? mergeKubeconfigs(found) : undefined;
}

/** The cluster and user a context points at. */
export interface SelectedContext {
  name: string;
  cluster: KubeconfigCluster;
  user: KubeconfigUser;
  namespace?: string;
}

/**
 * Picks `name` (default: `current-context`) and resolves its cluster and user.
 * Throws a {@linkcode KubeconfigError} naming what is missing.
 *
 * @example
 * ```ts
 * import { parseKubeconfig, selectContext } from "./kubeconfig.ts";
 * const cfg = await parseKubeconfig(
 *   `
 * clusters: [{ name: c, cluster: { server: "http://127.0.0.1:8001" } }]
 * users: [{ name: u, user: {} }]
 * contexts: [{ name: x, context: { cluster: c, user: u } }]
 * `,
 *   "/tmp/config",
 * );
 * selectContext(cfg, "x").cluster.server; // "http://127.0.0.1:8001"
 * ```
 */
export function selectContext(cfg: Kubeconfig, name?: string): SelectedContext {
  const where = `kubeconfig ${cfg.files.join(":")}`;
  const ctxName = name || cfg.currentContext;
  if (!ctxName) throw new KubeconfigError(`${where}: no current-context set and no context given`);
  const ctx = cfg.contexts[ctxName];
  if (!ctx) {
    const known = Object.keys(cfg.contexts).join(", ") || "none";
    throw new KubeconfigError(`${where}: context "${ctxName}" not found (known: ${known})`);
  }
  const cluster = cfg.clusters[ctx.cluster];
  if (!cluster) {
    throw new KubeconfigError(
      `${where}: context "${ctxName}" uses unknown cluster "${ctx.cluster}"`,
    );
  }
  if (!cluster.server) {
    throw new KubeconfigError(`${where}: cluster "${ctx.cluster}" has no server`);
  }
  // kubectl allows a context without a user (anonymous access, e.g. behind a proxy).
  const user = ctx.user ? cfg.users[ctx.user] : {};
  if (!user) {
    throw new KubeconfigError(`${where}: context "${ctxName}" uses unknown user "${ctx.user}"`);
  }
  return { name: ctxName, cluster, user, namespace: ctx.namespace };
}
