/**
 * Credentials from kubeconfig `exec` plugins (`client.authentication.k8s.io/v1` and
 * `v1beta1`), e.g. `aws eks get-token` or `gke-gcloud-auth-plugin`: run the command,
 * read the `ExecCredential` it prints, and reuse it until its `expirationTimestamp`.
 *
 * @module
 */

import { HelperError, runHelper, type RunResult } from "../io/run_plugin.ts";
import { isObject, parseJson } from "../parse/object.ts";

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
  #cached?: Promise<{ status: ExecCredentialStatus; expiresAt: number }>;

  constructor(
    config: ExecConfig,
    opts: {
      cluster?: ExecClusterInfo;
      now?: () => number;
      /** A plugin that has not exited by then is killed and reported; default 30 s. */
      timeoutMs?: number;
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
    for (const e of this.#config.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: "ExecCredential", spec });
    let answer: RunResult;
    try {
      answer = await runHelper(command, this.#config.args ?? [], "", {
        timeoutMs: this.#timeoutMs,
        env,
      });
    } catch (err) {
      const missing = err instanceof HelperError && err.cause instanceof Deno.errors.NotFound;
      const hint = missing && this.#config.installHint
        ? ` (${this.#config.installHint.trim()})`
        : "";
      throw new ExecCredentialError(
        `exec plugin ${command}: ${(err as Error).message}${hint}`,
      );
    }
    if (answer.code !== 0) {
      throw new ExecCredentialError(
        `exec plugin ${command}: exit code ${answer.code}: ${answer.stderr.trim().slice(0, 500)}`,
      );
    }
    const status = parseExecCredential(answer.stdout, apiVersion, command);
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
  const cred = parseJson(stdout);
  if (cred === undefined) throw fail(`output is not JSON: ${stdout.trim().slice(0, 200)}`);
  if (!isObject(cred) || cred.kind !== "ExecCredential") {
    throw fail(`output kind is "${isObject(cred) ? cred.kind : undefined}", not ExecCredential`);
  }
  if (cred.apiVersion !== apiVersion) {
    throw fail(`output apiVersion "${cred.apiVersion}" does not match requested "${apiVersion}"`);
  }
  const status = (cred.status ?? {}) as ExecCredentialStatus;
  const hasCert = Boolean(status.clientCertificateData);
  if (hasCert !== Boolean(status.clientKeyData)) {
    throw fail("clientCertificateData and clientKeyData must be given together");
  }
  if (!status.token && !hasCert) throw fail("status has neither token nor client certificate");
  return status;
}
