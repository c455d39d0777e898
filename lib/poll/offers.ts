/**
 * Asking registries what they offer for a set of repositories: one tags
 * listing per repository, whatever the number of workloads that use it.
 *
 * @module
 */

import { splitRepository } from "../image/reference.ts";
import { linkSignals } from "../async/linked_signal.ts";
import type { RegistryClient } from "../registry/client.ts";
import {
  type Credentials,
  credentialsFor,
  type RegistryCredential,
} from "../registry/credentials.ts";
import { isCredentialRefusal, LISTING_TOO_LARGE, RegistryError } from "../registry/errors.ts";
import type { Workload } from "../workloads/workload.ts";

/** What a registry lists for one repository in this cycle. */
export interface RepositoryOffer {
  tags: readonly string[];
  /**
   * Workloads the listing does not serve: the repository refused to be read anonymously and
   * their namespace holds no credentials for it, so what other namespaces' credentials read
   * is not theirs to act on.
   */
  withoutAccess: readonly Workload[];
}

/** What was learned, and which registry hosts failed (once each, with their count). */
export interface OfferResult {
  offers: Map<string, RepositoryOffer>;
  failures: Map<string, { repositories: number; error: unknown }>;
  /** Tag listings made. */
  listings: number;
}

/** Options of {@linkcode fetchOffers}. */
export interface FetchOffersOptions {
  /** Cancels every request (the poller stopping). */
  signal?: AbortSignal;
  /**
   * Told as soon as each repository is done: its offer, or undefined when it failed; with the
   * refusal when its listing was over its bounds (not counted among the host's failures).
   */
  onSettled?: (
    repository: string,
    offer: RepositoryOffer | undefined,
    refused?: RegistryError,
  ) => void;
}

/**
 * Fetch the tag listing of every repository in `users` (repository → workloads using it),
 * with the credentials those workloads hold for it. A listing read anonymously (a public
 * repository) serves every workload; one read with credentials serves only the workloads
 * whose namespace holds credentials for the repository too (see
 * {@linkcode RepositoryOffer.withoutAccess}). When some workloads hold none, the anonymous
 * read is tried first, so a public repository costs one listing. A listing only names
 * candidates: each workload's chosen tag is then read by the reconcile with its own
 * namespace's credentials (TagVerifier). When a host
 * that has answered nothing yet this cycle fails without an answer (down, timing out, backing
 * off), its other repositories are given up until the next cycle instead of each waiting out
 * its own timeout; a host that answers others only fails the one repository.
 *
 * @example
 * ```ts ignore
 * import { fetchOffers } from "./offers.ts";
 * const { offers } = await fetchOffers(users, registry, (w) => secrets.forWorkload(w));
 * ```
 */
export async function fetchOffers(
  users: ReadonlyMap<string, readonly Workload[]>,
  registry: Pick<RegistryClient, "listTags">,
  credentialsOf: (w: Workload) => Promise<Credentials>,
  opts: FetchOffersOptions = {},
): Promise<OfferResult> {
  const result: OfferResult = { offers: new Map(), failures: new Map(), listings: 0 };
  const hostDown = new Map<string, AbortController>();
  const answered = new Set<string>();
  await Promise.all([...users].map(async ([repo, workloads]) => {
    const [host, path] = splitRepository(repo);
    let down = hostDown.get(host);
    if (!down) hostDown.set(host, down = new AbortController());
    const link = linkSignals(opts.signal, down.signal);
    const { signal } = link;
    let offer: RepositoryOffer | undefined;
    let refused: RegistryError | undefined;
    try {
      const credMaps = await Promise.all(workloads.map(credentialsOf));
      const without: Workload[] = [];
      const creds = new Set<RegistryCredential>();
      workloads.forEach((w, i) => {
        const own = credentialsFor(credMaps[i], host, path);
        if (own.length === 0) without.push(w);
        for (const c of own) creds.add(c);
      });
      // Each credential in turn and none; none first when a workload has nothing else. Every
      // try is a listing request, so `listings` counts them all.
      const tries = without.length > 0 ? [undefined, ...creds] : [...creds, undefined];
      let tags: readonly string[] | undefined;
      let withoutAccess: readonly Workload[] = [];
      let anonymousRefusal: unknown;
      let credentialRefusal: unknown;
      for (const candidate of tries) {
        signal.throwIfAborted();
        result.listings++;
        try {
          tags = await registry.listTags(host, path, candidate, signal);
          if (candidate !== undefined) withoutAccess = without;
          break;
        } catch (err) {
          // Some registries hide a private repository from anonymous readers behind a 404.
          const hidden = candidate === undefined && creds.size > 0 &&
            err instanceof RegistryError && err.status === 404;
          if (!isCredentialRefusal(err) && !hidden) throw err;
          if (candidate === undefined) anonymousRefusal = err;
          // A credential refused tells more than the anonymous try.
          else credentialRefusal ??= err;
        }
      }
      if (tags === undefined) throw credentialRefusal ?? anonymousRefusal;
      answered.add(host);
      offer = { tags, withoutAccess };
      result.offers.set(repo, offer);
    } catch (err) {
      // A listing over its bounds is this repository's problem, not its host's.
      if (err instanceof RegistryError && err.code === LISTING_TOO_LARGE) refused = err;
      // Stopping is not a registry failure.
      else if (!opts.signal?.aborted) {
        // A host that answered nothing yet is likely down or hung: its other repositories
        // wait for the next cycle. One that answers others only failed this repository.
        if (isUnanswered(err) && !answered.has(host)) down.abort(err);
        const f = result.failures.get(host);
        if (f) f.repositories++;
        // The first failure names the cause; later ones are often just "cancelled".
        else result.failures.set(host, { repositories: 1, error: down.signal.reason ?? err });
      }
    }
    link.unlink();
    opts.onSettled?.(repo, offer, refused);
  }));
  return result;
}

/**
 * No answer at all (down, timeout, backoff, cancelled): the host is likely no better for the
 * next repository. Not a failure before any request (a pull secret the API server could not
 * give now): that says nothing of the host.
 */
function isUnanswered(err: unknown): boolean {
  return err instanceof RegistryError && err.transient && err.status === undefined;
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
