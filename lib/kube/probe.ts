/**
 * The start-up check that the API server found by `resolveConnection` answers, so a
 * wrong URL or bad credentials end Argoos with one clear line instead of endless retries.
 *
 * @module
 */

import { type Connection, KubeClient, type ServerVersion } from "./client.ts";
import { NoClusterError } from "./connection.ts";
import { KubeApiError } from "./errors.ts";
import { ExecCredentialError } from "./exec_credential.ts";
import { KubeconfigError } from "./kubeconfig.ts";

/** Options of {@linkcode probeApiServer}. */
export interface ProbeOptions {
  /** Give up when `/version` has not answered in this long. Default 10 s. */
  timeoutMs?: number;
}

/**
 * `GET /version` once. No answer (network error, timeout) or a 401/403 rejects with a
 * one-line NoClusterError naming the URL and what chose it; any other answer shows a
 * server is there, so it resolves (with the version when the body is one) and later
 * calls report their own errors.
 *
 * @example
 * ```ts ignore
 * import { resolveConnection } from "./connection.ts";
 * import { probeApiServer } from "./probe.ts";
 * const conn = await resolveConnection({ masterUrl: "http://127.0.0.1:8001" });
 * await probeApiServer(conn);
 * // NoClusterError: cannot reach the Kubernetes API at http://127.0.0.1:8001
 * //   (from KUBE_MASTER_URL): connection refused
 * ```
 */
export async function probeApiServer(
  conn: Connection,
  opts: ProbeOptions = {},
): Promise<ServerVersion | undefined> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const api = `the Kubernetes API at ${conn.server} (from ${conn.origin ?? conn.description})`;
  try {
    return await new KubeClient(conn, { timeoutMs }).version();
  } catch (err) {
    if (err instanceof ExecCredentialError || err instanceof KubeconfigError) {
      throw new NoClusterError(`cannot get credentials for ${api}: ${err.message}`);
    }
    if (err instanceof SyntaxError) return undefined; // not JSON, but a server answered
    if (!(err instanceof KubeApiError)) throw err;
    if (err.status === 0) {
      // A network failure's detail is already its short reason (see `networkReason`).
      const why = err.reason === "Timeout" ? `no answer within ${timeoutMs / 1000} s` : err.detail;
      throw new NoClusterError(`cannot reach ${api}: ${why}`);
    }
    if (err.status === 401 || err.status === 403) {
      throw new NoClusterError(
        `${api} refused the credentials: ${err.status} ${err.reason}: ${err.detail}`,
      );
    }
    return undefined;
  }
}
