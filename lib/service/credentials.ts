/**
 * A workload's registry credentials as the reconcile and the poll ask for them: its
 * namespace's pull secrets with the operator's docker config first, then what credential
 * provider plugins and docker credential helpers mint for its images, everything looked up for
 * the host the requests really go to (a mirror's, when the registry has one).
 *
 * @module
 */

import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log/logger.ts";
import { splitRepository } from "../image/reference.ts";
import type { CredentialSource } from "../registry/credential_source.ts";
import type { CredentialMap, Credentials } from "../registry/credentials.ts";
import {
  credentialsThroughMirrors,
  type RegistryMirrors,
  requestHost,
} from "../registry/mirrors.ts";
import { PullSecrets } from "../workloads/pull_secrets.ts";
import type { Workload } from "../workloads/workload.ts";

/** How long read pull secrets are reused: rotated secrets are picked up after this. */
const PULL_SECRETS_TTL_MS = 60_000;

/** What {@linkcode workloadCredentials} reads from. */
export interface WorkloadCredentialsOptions {
  client: KubeClient;
  /** The operator's docker config (`--docker-config`), after the pull secrets. */
  dockerCredentials?: CredentialMap;
  /** Plugins and helpers, after both. */
  external?: CredentialSource;
  mirrors: RegistryMirrors;
  logger: Logger;
}

/**
 * `credentialsOf` for the reconciler and the poller: pull secrets read at most once a minute
 * per secret, then one layer per credential an external source mints for each image.
 *
 * @example
 * ```ts ignore
 * import { workloadCredentials } from "./credentials.ts";
 * const credentialsOf = workloadCredentials({ client, mirrors: new Map(), logger });
 * const creds = await credentialsOf(workload);
 * ```
 */
export function workloadCredentials(
  opts: WorkloadCredentialsOptions,
): (w: Workload) => Promise<Credentials> {
  const { client, dockerCredentials, external, mirrors, logger } = opts;
  let secrets = new PullSecrets(client, dockerCredentials, logger);
  let since = Date.now();
  return async (w) => {
    if (Date.now() - since > PULL_SECRETS_TTL_MS) {
      secrets = new PullSecrets(client, dockerCredentials, logger);
      since = Date.now();
    }
    const layers: CredentialMap[] = [
      credentialsThroughMirrors(await secrets.forWorkload(w), mirrors),
    ];
    if (!external) return layers;
    const repositories = new Set(w.containers.flatMap((c) => c.repository ? [c.repository] : []));
    for (const repository of repositories) {
      const [host, path] = splitRepository(repository);
      // A layer each: a map holds one credential per key, and each is tried in turn.
      for (const cred of await external.forImage(requestHost(host, mirrors), path)) {
        layers.push(new Map([[repository, cred]]));
      }
    }
    return layers;
  };
}
