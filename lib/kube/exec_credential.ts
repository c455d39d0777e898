/**
 * Credentials from kubeconfig `exec` plugins (`client.authentication.k8s.io/v1` and
 * `v1beta1`), e.g. `aws eks get-token` or `gke-gcloud-auth-plugin`: run the command,
 * read the `ExecCredential` it prints, and reuse it until its `expirationTimestamp`.
 *
 * @module
 */

/**
 * The `users[].user.exec` section of a kubeconfig.
 *
 * @example
 * ```ts
 * import type { ExecConfig } from "./exec_credential.ts";
 * const eks: ExecConfig = {
 *   command: "aws",
 *   args: ["eks", "get-token", "--cluster-name", "prod"],
 *   apiVersion: "client.authentication.k8s.io/v1beta1",
 * };
 * ```
 */
export interface ExecConfig {
  /** Program to run; looked up on PATH unless it contains a path separator. */
  command: string;
  args?: string[];
  /**
   * The plugin's environment, with `PATH`, `HOME` and `KUBERNETES_EXEC_INFO`: nothing else of
   * Argoos's own environment (which holds its webhook token) reaches the plugin.
   */
  env?: { name: string; value: string }[];
  /** `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`. */
  apiVersion: string;
  interactiveMode?: "Never" | "IfAvailable" | "Always";
  /** Pass the cluster (server, CA) to the plugin in `KUBERNETES_EXEC_INFO`. */
  provideClusterInfo?: boolean;
  /** Shown when the command is not installed. */
  installHint?: string;
}

/** The cluster as described to a plugin with `provideClusterInfo`. */
export interface ExecClusterInfo {
  server: string;
  /** PEM CA bundle; sent base64-encoded as the API requires. */
  certificateAuthorityData?: string;
}

/** What a plugin returns: a bearer token, or a client certificate and key (PEM). */
export interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** RFC 3339 time after which the credential must be fetched again. */
  expirationTimestamp?: string;
}

/**
 * An exec plugin that could not be run or printed something unusable.
 *
 * @example
 * ```ts
 * import { ExecCredentialError, parseExecCredential } from "./exec_credential.ts";
 * try {
 *   parseExecCredential("login required", "client.authentication.k8s.io/v1", "my-plugin");
 * } catch (err) {
 *   err instanceof ExecCredentialError; // true: "exec plugin my-plugin: output is not JSON: ..."
 * }
 * ```
 */
export class ExecCredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExecCredentialError";
  }
}

const API_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];

/**
 * Runs an exec plugin on demand and caches its credential until it expires (or forever
 * when it gives no expiry, until {@linkcode ExecCredentialProvider.invalidate}).
 * Concurrent callers share one run.
 *
 * @example
 * ```ts ignore
 * import { ExecCredentialProvider } from "./exec_credential.ts";
 * const provider = new ExecCredentialProvider({
 *   command: "aws",
 *   args: ["eks", "get-token", "--cluster-name", "prod"],
 *   apiVersion: "client.authentication.k8s.io/v1beta1",
 * });
 * const { token } = await provider.credential();
 * ```
 */
export class ExecCredentialProvider {
  readonly #config: ExecConfig;
  readonly #cluster?: ExecClusterInfo;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #hostEnv: (name: string) => string | undefined;
  #cached?: Promise<{ status: ExecCredentialStatus; expiresAt: number }>;

  constructor(
    config: ExecConfig,
    opts: {
      cluster?: ExecClusterInfo;
      now?: () => number;
      /** A plugin that has not exited by then is killed and reported; default 30 s. */
      timeoutMs?: number;
      /** Where PATH and HOME are read; default Argoos's environment. */
      env?: (name: string) => string | undefined;
    } = {},
  ) {
    if (!API_VERSIONS.includes(config.apiVersion)) {
      throw new ExecCredentialError(
        `exec plugin ${config.command}: unsupported apiVersion "${config.apiVersion}" (want ${
          API_VERSIONS.join(" or ")
        })`,
      );
    }
    if (config.interactiveMode === "Always") {
      throw new ExecCredentialError(
        `exec plugin ${config.command}: interactiveMode Always needs a terminal; Argoos runs unattended`,
      );
    }
    this.#config = config;
    this.#cluster = config.provideClusterInfo ? opts.cluster : undefined;
    this.#now = opts.now ?? Date.now;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#hostEnv = opts.env ?? ((name) => Deno.env.get(name));
  }

  /** The cached credential, running the plugin when there is none or it has expired. */
  async credential(): Promise<ExecCredentialStatus> {
    const pending = this.#cached ??= this.#run();
    const entry = await this.#settle(pending);
    if (this.#now() < entry.expiresAt) return entry.status;
    // Expired: run again unless another caller already did.
    if (this.#cached === pending || !this.#cached) this.#cached = this.#run();
    return (await this.#settle(this.#cached)).status;
  }

  /** Forgets the cached credential, e.g. after the API server answered 401. */
  invalidate(): void {
    this.#cached = undefined;
  }

  /** Awaits a run; a failed one is not cached, so the next call tries again. */
  async #settle(
    run: Promise<{ status: ExecCredentialStatus; expiresAt: number }>,
  ): Promise<{ status: ExecCredentialStatus; expiresAt: number }> {
    try {
      return await run;
    } catch (err) {
      if (this.#cached === run) this.#cached = undefined;
      throw err;
    }
  }

  async #run(): Promise<{ status: ExecCredentialStatus; expiresAt: number }> {
    const { command, apiVersion } = this.#config;
    const spec: Record<string, unknown> = { interactive: false };
    if (this.#cluster) {
      spec.cluster = {
        server: this.#cluster.server,
        // Base64 of the PEM's UTF-8 bytes: btoa refuses text beyond Latin-1 (CA comments).
        "certificate-authority-data": this.#cluster.certificateAuthorityData
          ? new TextEncoder().encode(this.#cluster.certificateAuthorityData).toBase64()
          : undefined,
      };
    }
    const env: Record<string, string> = {};
    for (const name of ["PATH", "HOME"]) {
      const value = this.#hostEnv(name);
      if (value !== undefined) env[name] = value;
    }
    for (const e of this.#config.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: "ExecCredential", spec });
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: this.#config.args ?? [],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      const hint = err instanceof Deno.errors.NotFound && this.#config.installHint
        ? ` (${this.#config.installHint.trim()})`
        : "";
      throw new ExecCredentialError(
        `exec plugin ${command}: cannot run: ${(err as Error).message}${hint}`,
      );
    }
    // A hung plugin is killed; its output is not waited for, as a child of its own may
    // still hold the pipes open.
    const stdout = capped(child.stdout);
    const stderr = capped(child.stderr);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      stdout.cancel();
      stderr.cancel();
    }, this.#timeoutMs);
    const [code, outText, errText] = await Promise.all([
      child.status.then((s) => s.code),
      stdout.text,
      stderr.text,
    ]).finally(() => clearTimeout(timer));
    if (timedOut) {
      throw new ExecCredentialError(
        `exec plugin ${command}: killed after ${this.#timeoutMs} ms without an answer`,
      );
    }
    if (code !== 0) {
      throw new ExecCredentialError(
        `exec plugin ${command}: exit code ${code}: ${errText.trim().slice(0, 500)}`,
      );
    }
    const status = parseExecCredential(outText, apiVersion, command);
    const expiresAt = status.expirationTimestamp
      ? Date.parse(status.expirationTimestamp)
      : Infinity;
    if (Number.isNaN(expiresAt)) {
      throw new ExecCredentialError(
        `exec plugin ${command}: bad expirationTimestamp "${status.expirationTimestamp}"`,
      );
    }
    return { status, expiresAt };
  }
}

/** Largest plugin output kept: an ExecCredential is a few KiB. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** A stream's text, up to MAX_OUTPUT_BYTES, and a way to stop reading it. */
function capped(stream: ReadableStream<Uint8Array>): { text: Promise<string>; cancel(): void } {
  const reader = stream.getReader();
  const text = (async () => {
    const decoder = new TextDecoder();
    let out = "";
    try {
      while (out.length < MAX_OUTPUT_BYTES) {
        const { done, value } = await reader.read();
        if (done) break;
        out += decoder.decode(value, { stream: true });
      }
      if (out.length >= MAX_OUTPUT_BYTES) await reader.cancel();
    } catch { /* cancelled */ }
    return out.slice(0, MAX_OUTPUT_BYTES);
  })();
  return { text, cancel: () => reader.cancel().catch(() => {}) };
}

/**
 * Validates a plugin's stdout: an `ExecCredential` of the requested apiVersion whose status
 * holds a token or a certificate with its key.
 *
 * @example
 * ```ts
 * import { parseExecCredential } from "./exec_credential.ts";
 * const v = "client.authentication.k8s.io/v1";
 * parseExecCredential(
 *   JSON.stringify({ apiVersion: v, kind: "ExecCredential", status: { token: "t" } }),
 *   v,
 *   "plugin",
 * ).token; // "t"
 * ```
 */
export function parseExecCredential(
  stdout: string,
  apiVersion: string,
  command: string,
): ExecCredentialStatus {
  const fail = (why: string) => new ExecCredentialError(`exec plugin ${command}: ${why}`);
  let cred;
  try {
    cred = JSON.parse(stdout);
  } catch {
    throw fail(`output is not JSON: ${stdout.trim().slice(0, 200)}`);
  }
  if (cred?.kind !== "ExecCredential") {
    throw fail(`output kind is "${cred?.kind}", not ExecCredential`);
  }
  if (cred.apiVersion !== apiVersion) {
    throw fail(`output apiVersion "${cred.apiVersion}" does not match requested "${apiVersion}"`);
  }
  const status: ExecCredentialStatus = cred.status ?? {};
  const hasCert = Boolean(status.clientCertificateData);
  if (hasCert !== Boolean(status.clientKeyData)) {
    throw fail("clientCertificateData and clientKeyData must be given together");
  }
  if (!status.token && !hasCert) throw fail("status has neither token nor client certificate");
  return status;
}
