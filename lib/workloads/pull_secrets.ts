/**
 * Registry credentials of a workload: its `imagePullSecrets`, its service
 * account's, then the operator's docker config, earlier ones winning.
 *
 * @module
 */

import type { KubeClient } from "../kube/client.ts";
import { isTransient, KubeApiError } from "../kube/errors.ts";
import { SECRETS, SERVICEACCOUNTS } from "../kube/resource.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import {
  type CredentialMap,
  mergeCredentials,
  parseDockerConfig,
} from "../registry/credentials.ts";
import type { Workload } from "./workload.ts";

interface SecretObject {
  type?: string;
  data?: Record<string, string>;
}
interface ServiceAccountObject {
  imagePullSecrets?: { name?: string }[];
}

const EMPTY: CredentialMap = new Map();

/**
 * Reads pull secrets, each Secret and ServiceAccount at most once per instance;
 * make one per poll cycle so rotated secrets are picked up. A read that fails for a reason
 * that passes (`isTransient`: 5xx, 429, timeouts, network) rejects and is not kept; an absent
 * (404) or forbidden one counts as no credentials.
 *
 * @example
 * ```ts ignore
 * import { PullSecrets } from "./pull_secrets.ts";
 * const secrets = new PullSecrets(client, dockerConfigCredentials);
 * const creds = await secrets.forWorkload(workload);
 * ```
 */
export class PullSecrets {
  #client: KubeClient;
  #base: CredentialMap;
  #log: Logger;
  /** By namespace/name: Secrets the workloads name; the instance is replaced each refresh. */
  #secrets = new Map<string, Promise<CredentialMap>>();
  /** By namespace/name: service accounts the workloads run as; replaced with the instance. */
  #accounts = new Map<string, Promise<string[]>>();

  constructor(client: KubeClient, base: CredentialMap = EMPTY, logger?: Logger) {
    this.#client = client;
    this.#base = base;
    this.#log = (logger ?? silentLogger).with({ component: "pull-secrets" });
  }

  /** Credentials for the registries a workload pulls from. */
  async forWorkload(w: Workload): Promise<CredentialMap> {
    const names = [...w.imagePullSecrets, ...(await this.#accountSecrets(w))];
    const maps = await Promise.all(names.map((n) => this.#secret(w.namespace, n)));
    return mergeCredentials(...maps, this.#base);
  }

  #accountSecrets(w: Workload): Promise<string[]> {
    const key = `${w.namespace}/${w.serviceAccountName}`;
    let names = this.#accounts.get(key);
    if (!names) {
      names = this.#client.get<ServiceAccountObject>(
        SERVICEACCOUNTS,
        w.namespace,
        w.serviceAccountName,
      ).then(
        (sa) => (sa.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : [])),
        (err) => {
          if (isTransient(err)) return this.#unread(this.#accounts, key, names!, err);
          if (!(err instanceof KubeApiError && err.status === 404)) {
            this.#log.warn("cannot read service account", { serviceAccount: key, error: err });
          }
          return [];
        },
      );
      this.#accounts.set(key, names);
    }
    return names;
  }

  #secret(namespace: string, name: string): Promise<CredentialMap> {
    const key = `${namespace}/${name}`;
    let creds = this.#secrets.get(key);
    if (!creds) {
      creds = this.#client.get<SecretObject>(SECRETS, namespace, name).then((s) => {
        const data = s.data?.[".dockerconfigjson"] ?? s.data?.[".dockercfg"];
        if (!data) {
          this.#log.warn("pull secret has no docker config", { secret: key, type: s.type });
          return EMPTY;
        }
        return parseDockerConfig(new TextDecoder().decode(decodeBase64(data)));
      }).catch((err) => {
        if (isTransient(err)) return this.#unread(this.#secrets, key, creds!, err);
        // Absent (404), forbidden or unreadable: no retry changes it, the anonymous read follows.
        this.#log.warn("cannot use pull secret", { secret: key, error: err });
        return EMPTY;
      });
      this.#secrets.set(key, creds);
    }
    return creds;
  }

  /**
   * A read that failed for a reason that passes (API server unavailable, a timeout): never
   * kept as "no credentials", which would let the registry refuse the workload for a minute;
   * forgotten so the next reconcile reads again, and passed on so this one fails transiently.
   */
  #unread<T>(cache: Map<string, Promise<T>>, key: string, read: Promise<T>, err: unknown): never {
    if (cache.get(key) === read) cache.delete(key);
    this.#log.warn("cannot read from the API server now, retried", { object: key, error: err });
    throw err;
  }
}

function decodeBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}
