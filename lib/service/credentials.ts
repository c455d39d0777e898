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
import { RegistryClient } from "../registry/client.ts";
import { CredentialHelpers, readDockerConfig } from "../registry/credential_helper.ts";
import { CredentialProviders } from "../registry/credential_provider.ts";
import { type CredentialSource, ExternalCredentials } from "../registry/credential_source.ts";
import type { CredentialMap, Credentials } from "../registry/credentials.ts";
import { dnsResolver } from "../registry/host_policy.ts";
import type { ArgoosConfig } from "./config.ts";
import {
  credentialsThroughMirrors,
  type RegistryMirrors,
  requestHost,
} from "../registry/mirrors.ts";
import { PullSecrets } from "../workloads/pull_secrets.ts";
import type { Workload } from "../workloads/workload.ts";

type RegistryConfig = ArgoosConfig["registry"];

/** How long read pull secrets are reused: rotated secrets are picked up after this. */
const PULL_SECRETS_TTL_MS = 60_000;

/** What {@linkcode workloadCredentials} reads from. */
export interface WorkloadCredentialsOptions {
  /** Reads pull secrets; without one (`argoos plan -f`), only the operator's and minted ones. */
  client?: KubeClient;
  /** The operator's docker config (`--docker-config`), after the pull secrets. */
  dockerCredentials?: CredentialMap;
  /** Plugins and helpers, after both. */
  external?: CredentialSource;
  mirrors: RegistryMirrors;
  logger: Logger;
}

/**
 * `credentialsOf` for the reconciler, the poller and `argoos plan`: pull secrets read at most
 * once a minute per secret, then one layer per credential an external source mints for each
 * image.
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
  const read = () => client && new PullSecrets(client, dockerCredentials, logger);
  let secrets = read();
  let since = Date.now();
  return async (w) => {
    if (Date.now() - since > PULL_SECRETS_TTL_MS) {
      secrets = read();
      since = Date.now();
    }
    const own = secrets ? await secrets.forWorkload(w) : dockerCredentials ?? new Map();
    const layers: CredentialMap[] = [credentialsThroughMirrors(own, mirrors)];
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

/** What {@linkcode registryAccess} builds. */
export interface RegistryAccess {
  registry: RegistryClient;
  /** A workload's registry credentials, see {@linkcode workloadCredentials}. */
  credentialsOf: (w: Workload) => Promise<Credentials>;
  /** The plugins and helpers, when any is configured (told of each poll cycle). */
  external?: ExternalCredentials;
}

/**
 * The registry client and the credentials of workloads, as `serve` and `argoos plan` both
 * reach registries: host policy, mirrors, CA, the operator's docker config, pull secrets (with
 * a client), credential provider plugins and docker credential helpers.
 *
 * @example
 * ```ts ignore
 * import { registryAccess } from "./credentials.ts";
 * const { registry, credentialsOf } = registryAccess(config.registry, { client, logger });
 * ```
 */
export function registryAccess(
  config: RegistryConfig,
  opts: { client?: KubeClient; logger: Logger; registry?: RegistryClient },
): RegistryAccess {
  const { logger } = opts;
  const registry = opts.registry ?? new RegistryClient({
    insecureHosts: config.insecureHosts,
    allow: config.allow,
    resolve: dnsResolver,
    mirrors: config.mirrors,
    caCert: config.caCert,
    logger,
  });
  const { dockerConfig, credentialProviders, mirrors } = config;
  const docker = dockerConfig ? readDockerConfig(dockerConfig) : undefined;
  const helpers = docker?.helpers;
  const external = credentialProviders || helpers?.credsStore || helpers?.credHelpers.size
    ? new ExternalCredentials({
      providers: credentialProviders &&
        new CredentialProviders(credentialProviders.providers, {
          binDir: credentialProviders.binDir,
        }),
      helpers: helpers && new CredentialHelpers(helpers),
      logger,
    })
    : undefined;
  const credentialsOf = workloadCredentials({
    client: opts.client,
    dockerCredentials: docker?.credentials,
    external,
    mirrors,
    logger,
  });
  return { registry, credentialsOf, ...(external ? { external } : {}) };
}
