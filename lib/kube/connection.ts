/**
 * Finding the cluster: an explicit server URL, the in-cluster service account, or a
 * kubeconfig, turned into a {@linkcode Connection} for `KubeClient`.
 *
 * TLS uses `Deno.createHttpClient` for watches and `pooledFetch` for other requests (`caCerts`,
 * `cert`, `key`). Neither can skip certificate verification, so `insecure-skip-tls-verify` is
 * refused with an explanation.
 *
 * @module
 */

import { pooledFetch, tlsHttpClient } from "../io/pooled_fetch.ts";
import type { Connection } from "./client.ts";
import { ExecCredentialError, ExecCredentialProvider } from "./exec_credential.ts";
import { RetiredClients } from "./retired_clients.ts";
import {
  KubeconfigError,
  type KubeconfigUser,
  loadKubeconfig,
  selectContext,
  type SelectedContext,
} from "./kubeconfig.ts";

/**
 * Where and how to look for a cluster; the fields mirror Argoos' flags and env vars.
 *
 * @example
 * ```ts
 * import type { ConnectionOptions } from "./connection.ts";
 * const opts: ConnectionOptions = { masterUrl: "http://127.0.0.1:8001" }; // kubectl proxy
 * ```
 */
export interface ConnectionOptions {
  /** Path, or a ':'-separated KUBECONFIG list. */
  kubeconfig?: string;
  /** Default: current-context. */
  context?: string;
  /** Force in-cluster. */
  inCluster?: boolean;
  /** KUBE_MASTER_URL: explicit server (plain http allowed, e.g. kubectl proxy); sends no credentials. */
  masterUrl?: string;
  /** CA_FILE: PEM CA bundle that replaces the one found. */
  caFile?: string;
  /** CERT_FILE: PEM client certificate (with `keyFile`) that replaces the one found. */
  certFile?: string;
  /** KEY_FILE: PEM client key for `certFile`. */
  keyFile?: string;
  /** Default Deno.env.get (KUBERNETES_SERVICE_HOST/PORT, KUBECONFIG, HOME). */
  env?: (name: string) => string | undefined;
  /** Default /var/run/secrets/kubernetes.io/serviceaccount (tests point it elsewhere). */
  serviceAccountDir?: string;
}

/**
 * No way to reach a cluster was found; the message names everything that was tried.
 *
 * @example
 * ```ts
 * import { NoClusterError, resolveConnection } from "./connection.ts";
 * try {
 *   await resolveConnection({ env: () => undefined });
 * } catch (err) {
 *   err instanceof NoClusterError; // true
 *   // "no Kubernetes cluster found: no KUBE_MASTER_URL; not in-cluster (KUBERNETES_SERVICE_HOST unset); ..."
 * }
 * ```
 */
export class NoClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoClusterError";
  }
}

/**
 * Where Kubernetes mounts a pod's service account credentials.
 *
 * @example
 * ```ts
 * import { SERVICE_ACCOUNT_DIR } from "./connection.ts";
 * const caPath = `${SERVICE_ACCOUNT_DIR}/ca.crt`;
 * ```
 */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Service account tokens rotate; re-read the file at least this often even if mtime looks unchanged. */
const TOKEN_REREAD_MS = 60_000;

/**
 * Resolve how to reach the cluster, in client-go's order: explicit masterUrl; in-cluster
 * when forced; an explicit kubeconfig (`kubeconfig` or $KUBECONFIG) that exists; in-cluster
 * when KUBERNETES_SERVICE_HOST and the token file exist; ~/.kube/config. Throws a
 * NoClusterError whose one-line message names everything that was tried; a kubeconfig that
 * exists but cannot be used throws a KubeconfigError.
 *
 * @example
 * ```ts ignore
 * import { resolveConnection } from "./connection.ts";
 * import { KubeClient } from "./client.ts";
 * const conn = await resolveConnection({ context: "kind-dev" });
 * const kube = new KubeClient(conn);
 * // ... use kube, then:
 * conn.close();
 * ```
 */
export async function resolveConnection(opts: ConnectionOptions = {}): Promise<Connection> {
  const env = opts.env ?? ((name: string) => Deno.env.get(name));
  const tls = await overrideTls(opts);
  if (opts.masterUrl) {
    // The flag wins over the variable, so an equal variable means the flag was not given.
    const origin = env("KUBE_MASTER_URL") === opts.masterUrl ? "KUBE_MASTER_URL" : "--master";
    const description = `explicit server ${opts.masterUrl}`;
    return makeConnection(opts.masterUrl, description, tls, NO_CREDENTIALS, { origin });
  }

  const tried = ["no KUBE_MASTER_URL"];
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env("KUBERNETES_SERVICE_HOST");
  const tokenPath = `${saDir}/token`;
  const hasToken = await isFile(tokenPath);
  const port = env("KUBERNETES_SERVICE_PORT") || "443";
  if (opts.inCluster) {
    if (!host) throw new NoClusterError("in-cluster forced but KUBERNETES_SERVICE_HOST is not set");
    if (!hasToken) throw new NoClusterError(`in-cluster forced but ${tokenPath} does not exist`);
    return await inCluster(host, port, saDir, tls);
  }

  // An explicit kubeconfig beats the pod environment (as in client-go): a pod may run
  // Argoos against another cluster. A missing one falls through, as an empty config does.
  const explicit = opts.kubeconfig || env("KUBECONFIG");
  if (explicit) {
    const conn = await kubeconfigConnection(explicit, opts.context, tls);
    if (conn) return conn;
    tried.push(`no kubeconfig at ${paths(explicit).join(":")}`);
  }

  if (host && hasToken) return await inCluster(host, port, saDir, tls);
  tried.push(
    host
      ? `not in-cluster (no token at ${tokenPath})`
      : "not in-cluster (KUBERNETES_SERVICE_HOST unset)",
  );

  if (!explicit) {
    const home = env("HOME");
    if (!home) {
      tried.push("no kubeconfig (KUBECONFIG and HOME unset)");
    } else {
      const conn = await kubeconfigConnection(`${home}/.kube/config`, opts.context, tls);
      if (conn) return conn;
      tried.push(`no kubeconfig at ${home}/.kube/config`);
    }
  }
  throw new NoClusterError(`no Kubernetes cluster found: ${tried.join("; ")}`);
}

const paths = (list: string) => list.split(":").filter((p) => p !== "");

/** The connection of a ':'-separated kubeconfig list; undefined when none of its files exist. */
async function kubeconfigConnection(
  list: string,
  context: string | undefined,
  tls: Tls,
): Promise<Connection | undefined> {
  if (paths(list).length === 0) return undefined;
  const cfg = await loadKubeconfig(paths(list));
  if (!cfg) return undefined;
  const selected = selectContext(cfg, context);
  const description = `kubeconfig ${cfg.files.join(":")} context ${selected.name}`;
  return await fromKubeconfig(selected, description, tls);
}

/**
 * The namespace Argoos runs in, from the service account mount; `undefined` outside a pod
 * (the file cannot be read, or is empty). `readFile` lets callers and tests supply the file.
 *
 * @example
 * ```ts
 * import { inClusterNamespace } from "./connection.ts";
 * const ns = (await inClusterNamespace()) ?? "default";
 * ```
 */
export async function inClusterNamespace(
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
  readFile: (path: string) => Promise<string> = (p) => Deno.readTextFile(p),
): Promise<string | undefined> {
  try {
    return (await readFile(`${serviceAccountDir}/namespace`)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** PEM material for the TLS client. */
interface Tls {
  ca?: string;
  cert?: string;
  key?: string;
}

/** What to authenticate one request with. */
interface Credentials {
  headers: Record<string, string>;
  /** A client certificate that arrived with the credentials (exec plugins). */
  clientCert?: { cert: string; key: string };
}

interface CredentialSource {
  get(): Promise<Credentials>;
  invalidate?(): void;
}

const NO_CREDENTIALS: CredentialSource = { get: () => Promise.resolve({ headers: {} }) };

async function overrideTls(opts: ConnectionOptions): Promise<Tls> {
  if (Boolean(opts.certFile) !== Boolean(opts.keyFile)) {
    throw new NoClusterError("CERT_FILE and KEY_FILE must be given together");
  }
  return {
    ca: opts.caFile ? await readPem(opts.caFile, "CA_FILE") : undefined,
    cert: opts.certFile ? await readPem(opts.certFile, "CERT_FILE") : undefined,
    key: opts.keyFile ? await readPem(opts.keyFile, "KEY_FILE") : undefined,
  };
}

async function inCluster(host: string, port: string, dir: string, tls: Tls): Promise<Connection> {
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const ca = tls.ca ?? await readPem(`${dir}/ca.crt`, "service account CA");
  const token = new TokenFile(`${dir}/token`);
  return makeConnection(server, `in-cluster service account (${server})`, { ...tls, ca }, {
    get: async () => ({ headers: { Authorization: `Bearer ${await token.read()}` } }),
    invalidate: () => token.invalidate(),
  }, { origin: "in-cluster service account" });
}

async function fromKubeconfig(
  selected: SelectedContext,
  description: string,
  overrides: Tls,
): Promise<Connection> {
  const { cluster, user } = selected;
  const where = `${description}:`;
  if (user.authProvider) {
    throw new KubeconfigError(
      `${where} auth-provider "${user.authProvider}" is not supported; use an exec plugin instead (e.g. gke-gcloud-auth-plugin, kubelogin)`,
    );
  }
  if (cluster.insecureSkipTlsVerify && cluster.server.startsWith("https:")) {
    throw new KubeconfigError(
      `${where} insecure-skip-tls-verify is not supported (Deno cannot skip certificate checks per client); set certificate-authority or CA_FILE`,
    );
  }
  const ca = overrides.ca ?? cluster.certificateAuthorityData ??
    (cluster.certificateAuthority &&
      await readPem(cluster.certificateAuthority, `${where} certificate-authority`));
  const cert = overrides.cert ?? user.clientCertificateData ??
    (user.clientCertificate &&
      await readPem(user.clientCertificate, `${where} client-certificate`));
  const key = overrides.key ?? user.clientKeyData ??
    (user.clientKey && await readPem(user.clientKey, `${where} client-key`));
  if (Boolean(cert) !== Boolean(key)) {
    throw new KubeconfigError(`${where} client certificate and key must be given together`);
  }
  const source = credentialSource(user, cluster.server, where, ca || undefined);
  return makeConnection(
    cluster.server,
    description,
    {
      ca: ca || undefined,
      cert: cert || undefined,
      key: key || undefined,
    },
    source,
    { namespace: selected.namespace },
  );
}

/**
 * Bearer token beats exec beats basic auth, as in client-go; a token file beats a token
 * (re-read as it rotates, the token serving only while the file cannot be read).
 */
function credentialSource(
  user: KubeconfigUser,
  server: string,
  where: string,
  ca?: string,
): CredentialSource {
  if (user.tokenFile) {
    const file = new TokenFile(user.tokenFile, user.token);
    return {
      get: async () => ({ headers: { Authorization: `Bearer ${await file.read()}` } }),
      invalidate: () => file.invalidate(),
    };
  }
  if (user.token) {
    const headers = { Authorization: `Bearer ${user.token}` };
    return { get: () => Promise.resolve({ headers }) };
  }
  if (user.exec) {
    let plugin: ExecCredentialProvider;
    try {
      plugin = new ExecCredentialProvider(user.exec, {
        cluster: { server, certificateAuthorityData: ca },
      });
    } catch (err) {
      // A refused exec section is a kubeconfig problem, reported like the others.
      if (err instanceof ExecCredentialError) throw new KubeconfigError(`${where} ${err.message}`);
      throw err;
    }
    return {
      get: async (): Promise<Credentials> => {
        const c = await plugin.credential();
        return {
          headers: c.token ? { Authorization: `Bearer ${c.token}` } : {},
          clientCert: c.clientCertificateData && c.clientKeyData
            ? { cert: c.clientCertificateData, key: c.clientKeyData }
            : undefined,
        };
      },
      invalidate: () => plugin.invalidate(),
    };
  }
  if (user.username && user.password !== undefined) {
    const headers = { Authorization: `Basic ${btoa(`${user.username}:${user.password}`)}` };
    return { get: () => Promise.resolve({ headers }) };
  }
  return NO_CREDENTIALS;
}

function makeConnection(
  server: string,
  description: string,
  tls: Tls,
  source: CredentialSource,
  { origin = description, namespace }: { origin?: string; namespace?: string } = {},
): Connection {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(`${description}: server "${server}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeconfigError(`${description}: server "${server}" is not http(s)`);
  }
  const caCerts = tls.ca ? [tls.ca] : undefined;
  // Watches go through Deno's `fetch` (long-lived streams), other requests through a pool.
  const build = (cert?: string, key?: string) => tlsHttpClient({ caCerts, cert, key });
  const pool = (cert?: string, key?: string) => pooledFetch({ caCerts, cert, key });
  let client = build(tls.cert, tls.key);
  let requests = pool(tls.cert, tls.key);
  let clientCert = tls.cert;
  const retired = new RetiredClients();
  return {
    server,
    description,
    origin,
    ...(namespace ? { namespace } : {}),
    get httpClient() {
      return client;
    },
    fetch: (input, init) => requests(input, init),
    async authHeaders() {
      const creds = await source.get();
      if (creds.clientCert && creds.clientCert.cert !== clientCert) {
        if (client) retired.add(client);
        retired.add(requests);
        client = build(creds.clientCert.cert, creds.clientCert.key);
        requests = pool(creds.clientCert.cert, creds.clientCert.key);
        clientCert = creds.clientCert.cert;
      }
      return creds.headers;
    },
    invalidateAuth: source.invalidate,
    close() {
      client?.close();
      client = undefined;
      requests.close();
      retired.closeAll();
    },
  };
}

/**
 * A bearer token file that rotates: re-read when its mtime changes or every minute. While
 * it cannot be read, the last token read serves, else `fallback` (a kubeconfig `token`).
 */
class TokenFile {
  readonly #path: string;
  readonly #fallback?: string;
  #token?: string;
  #mtime?: number;
  #readAt = 0;

  constructor(path: string, fallback?: string) {
    this.#path = path;
    this.#fallback = fallback;
  }

  async read(): Promise<string> {
    try {
      const mtime = (await Deno.stat(this.#path)).mtime?.getTime();
      const stale = Date.now() - this.#readAt >= TOKEN_REREAD_MS;
      if (this.#token === undefined || mtime !== this.#mtime || stale) {
        this.#token = (await Deno.readTextFile(this.#path)).trim();
        this.#mtime = mtime;
        this.#readAt = Date.now();
      }
    } catch (err) {
      // Keep the last good token while the kubelet swaps the file.
      if (this.#token === undefined) {
        if (this.#fallback !== undefined) return this.#fallback;
        throw new KubeconfigError(`token file ${this.#path}: ${(err as Error).message}`);
      }
    }
    return this.#token;
  }

  invalidate(): void {
    this.#token = undefined;
  }
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new KubeconfigError(`${what} ${path}: ${(err as Error).message}`);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
