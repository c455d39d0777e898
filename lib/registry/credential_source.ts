/**
 * Credentials minted by something outside Argoos (kubelet credential provider plugins, docker
 * credential helpers), behind one small interface the reconciler calls per image. A failing
 * plugin or helper is reported once per host and cycle and never stops other registries.
 *
 * @module
 */

import { type Logger, silentLogger } from "../log/logger.ts";
import type { CredentialHelpers } from "./credential_helper.ts";
import type { CredentialProviders } from "./credential_provider.ts";
import type { RegistryCredential } from "./credentials.ts";

/**
 * Where credentials for an image come from, best first.
 *
 * @example
 * ```ts
 * import type { CredentialSource } from "./credential_source.ts";
 * const none: CredentialSource = { forImage: () => Promise.resolve([]) };
 * ```
 */
export interface CredentialSource {
  forImage(host: string, path: string): Promise<RegistryCredential[]>;
}

/** Hosts whose failure was reported this cycle; more are reported but not remembered. */
const MAX_REPORTED_HOSTS = 1_000;

/**
 * Plugins first (they serve the images they match), then the docker config's helper for the
 * host. A failure yields no credential from that one, is logged once per host until
 * {@linkcode ExternalCredentials.newCycle}, and the lookup goes on.
 *
 * @example
 * ```ts
 * import { ExternalCredentials } from "./credential_source.ts";
 * const source = new ExternalCredentials({});
 * await source.forImage("ghcr.io", "team/app"); // []
 * ```
 */
export class ExternalCredentials implements CredentialSource {
  #providers?: CredentialProviders;
  #helpers?: CredentialHelpers;
  #log: Logger;
  /** Hosts whose failure was logged this cycle; at most MAX_REPORTED_HOSTS. */
  #reported = new Set<string>();

  constructor(
    opts: { providers?: CredentialProviders; helpers?: CredentialHelpers; logger?: Logger },
  ) {
    this.#providers = opts.providers;
    this.#helpers = opts.helpers;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Start a new cycle: failures are reported again. */
  newCycle(): void {
    this.#reported.clear();
  }

  async forImage(host: string, path: string): Promise<RegistryCredential[]> {
    const out: RegistryCredential[] = [];
    if (this.#providers) {
      out.push(...await this.#guard(host, () => this.#providers!.forImage(host, path)));
    }
    if (this.#helpers) out.push(...await this.#guard(host, () => this.#helpers!.forHost(host)));
    return out;
  }

  async #guard(host: string, lookup: () => Promise<RegistryCredential[]>) {
    try {
      return await lookup();
    } catch (err) {
      if (!this.#reported.has(host)) {
        if (this.#reported.size < MAX_REPORTED_HOSTS) this.#reported.add(host);
        this.#log.warn("registry credentials unavailable", { host, error: (err as Error).message });
      }
      return [];
    }
  }
}
