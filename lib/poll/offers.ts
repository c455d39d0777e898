/**
 * Asking registries what they offer for a set of repositories: one tags
 * listing per repository, whatever the number of workloads that use it, plus
 * the digest HEADs their decisions need.
 *
 * @module
 */

import type { RegistryClient } from "../registry/client.ts";
import { credentialFor, type CredentialMap } from "../registry/credentials.ts";
import type { Workload } from "../workloads/workload.ts";
import { digestsNeeded, type RepositoryOffer } from "./poll_verdicts.ts";

/** What was learned, and which registry hosts failed (once each, with their count). */
export interface OfferResult {
  offers: Map<string, RepositoryOffer>;
  failures: Map<string, { repositories: number; error: unknown }>;
  /** Tag listings and digest HEADs made. */
  listings: number;
  heads: number;
}

/**
 * Split a normalized repository into host and path.
 *
 * @example
 * ```ts
 * import { splitRepository } from "./offers.ts";
 * splitRepository("docker.io/library/nginx"); // ["docker.io", "library/nginx"]
 * ```
 */
export function splitRepository(repository: string): [string, string] {
  const slash = repository.indexOf("/");
  return [repository.slice(0, slash), repository.slice(slash + 1)];
}

/**
 * Fetch the offers of every repository in `users` (repository → workloads using it).
 * A digest that cannot be read is left out (the decision says `digest-unknown`).
 *
 * @example
 * ```ts ignore
 * import { fetchOffers } from "./offers.ts";
 * const { offers } = await fetchOffers(users, registry, (w) => secrets.forWorkload(w));
 * ```
 */
export async function fetchOffers(
  users: ReadonlyMap<string, readonly Workload[]>,
  registry: RegistryClient,
  credentialsOf: (w: Workload) => Promise<CredentialMap>,
): Promise<OfferResult> {
  const result: OfferResult = { offers: new Map(), failures: new Map(), listings: 0, heads: 0 };
  await Promise.all([...users].map(async ([repo, workloads]) => {
    const [host, path] = splitRepository(repo);
    try {
      const credMaps = await Promise.all(workloads.map(credentialsOf));
      const cred = credMaps.map((m) => credentialFor(m, host)).find((c) => c !== undefined);
      result.listings++;
      const tags = await registry.listTags(host, path, cred);
      const needed = new Set(workloads.flatMap((w) => [...digestsNeeded(w, repo, tags)]));
      const digests = new Map<string, string>();
      await Promise.all([...needed].map(async (tag) => {
        result.heads++;
        try {
          digests.set(tag, await registry.headDigest(host, path, tag, cred));
        } catch {
          // Decided as `digest-unknown`, retried next cycle.
        }
      }));
      result.offers.set(repo, { tags, digests });
    } catch (err) {
      const f = result.failures.get(host) ?? { repositories: 0, error: err };
      f.repositories++;
      result.failures.set(host, f);
    }
  }));
  return result;
}

/**
 * Group workloads with a valid policy by the repositories their containers use.
 *
 * @example
 * ```ts ignore
 * import { usersByRepository } from "./offers.ts";
 * usersByRepository(cache.all()).get("docker.io/library/nginx");
 * ```
 */
export function usersByRepository(
  workloads: Iterable<Workload>,
  include: (w: Workload) => boolean = () => true,
): Map<string, Workload[]> {
  const users = new Map<string, Workload[]>();
  for (const w of workloads) {
    if (!include(w)) continue;
    for (const c of w.containers) {
      if (!c.repository) continue;
      const list = users.get(c.repository);
      if (!list) users.set(c.repository, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  return users;
}
