/**
 * Which URLs the registry client may contact. A registry's host comes from an image
 * reference anyone allowed to label a workload wrote, and its realm and redirects from the
 * registry itself, so neither is trusted:
 *
 * - only `https`, or plain `http` to a registry the operator listed as insecure, and then
 *   only that same host; never `file:` or another scheme;
 * - never a link-local address (169.254.0.0/16, fe80::/10: cloud metadata services) nor an
 *   unspecified one (0.0.0.0, ::), whether written in the URL or what the name resolves to,
 *   an IPv6 address carrying an IPv4 one (`::ffff:169.254.169.254`) judged as that address;
 * - with an allow list (`--registry-allow`), only registries whose host matches one of it.
 *
 * @module
 */

import { hostGlobMatches, isInsecureHost } from "./endpoint.ts";

/** Why a URL is not contacted. */
export class HostRefused extends Error {
  override name = "HostRefused";
}

/** The IPv4 address `host` names, as four numbers, or undefined. */
function ipv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m ? m.slice(1).map(Number) : undefined;
}

/**
 * The eight 16-bit groups of an IPv6 address (`::` and a trailing dotted IPv4 part
 * expanded), or undefined when `a` is not one.
 */
function ipv6Groups(a: string): number[] | undefined {
  if (!/^[0-9a-f:.]+$/.test(a)) return undefined;
  let text = a;
  const dotted = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const v4 = ipv4(dotted[1]);
    if (!v4 || v4.some((n) => n > 255)) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    text = `${text.slice(0, dotted.index)}:${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const part = (p: string) => (p === "" ? [] : p.split(":"));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array(missing).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:a.b.c.d`, also written
 * `::ffff:a9fe:a9fe`) or IPv4-compatible (`::a.b.c.d`), which reach the IPv4 host.
 */
function carriedIpv4(groups: number[]): number[] | undefined {
  if (groups.slice(0, 5).some((g) => g !== 0)) return undefined;
  if (groups[5] !== 0xffff && groups[5] !== 0) return undefined;
  return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff];
}

/**
 * Whether an address (or a hostname literal) is link-local or unspecified. An IPv6 address
 * that carries an IPv4 one (mapped or compatible) is judged as that IPv4 address.
 *
 * @example
 * ```ts
 * import { isForbiddenAddress } from "./host_policy.ts";
 * isForbiddenAddress("169.254.169.254"); // true
 * isForbiddenAddress("[fe80::1]"); // true
 * isForbiddenAddress("[::ffff:a9fe:a9fe]"); // true (169.254.169.254)
 * isForbiddenAddress("10.0.0.1"); // false
 * ```
 */
export function isForbiddenAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const groups = a.includes(":") ? ipv6Groups(a) : undefined;
  const v4 = ipv4(a) ?? (groups && carriedIpv4(groups));
  if (v4) return (v4[0] === 169 && v4[1] === 254) || v4.every((n) => n === 0);
  if (!groups) return false;
  // fe80::/10: the first 10 bits are 1111111010.
  return (groups[0] & 0xffc0) === 0xfe80;
}

/**
 * Whether `host` (a registry host, perhaps with a port) matches a glob of the allow list:
 * `*` stands for any run of characters within one DNS label, and a glob without a port
 * matches every port.
 *
 * @example
 * ```ts
 * import { hostAllowed } from "./host_policy.ts";
 * hostAllowed("registry.example.com", ["*.example.com"]); // true
 * hostAllowed("evil.com", ["*.example.com"]); // false
 * hostAllowed("anything", []); // true (no list: every host)
 * ```
 */
export function hostAllowed(host: string, globs: readonly string[]): boolean {
  if (globs.length === 0) return true;
  const bare = host.replace(/:\d+$/, "");
  return globs.some((g) =>
    hostGlobMatches(g, host) || (!/:\d+$/.test(g) && hostGlobMatches(g, bare))
  );
}

/** Resolves a hostname to its addresses; injectable for tests. */
export type Resolver = (hostname: string) => Promise<string[]>;

/** A, then AAAA, with Deno's resolver; a name that does not resolve yields no address. */
export const dnsResolver: Resolver = async (hostname) => {
  const lookups = await Promise.allSettled([
    Deno.resolveDns(hostname, "A"),
    Deno.resolveDns(hostname, "AAAA"),
  ]);
  return lookups.flatMap((r) => r.status === "fulfilled" ? r.value : []);
};

/** Options of {@linkcode HostPolicy}. */
export interface HostPolicyOptions {
  /** Registries reached over plain http (REGISTRY_INSECURE). */
  insecureHosts?: readonly string[];
  /** Host globs registries must match (REGISTRY_ALLOW); empty allows every registry. */
  allow?: readonly string[];
  /** Name resolution for the address check; undefined checks literal addresses only. */
  resolve?: Resolver;
  /** Clock (ms) for the resolution cache. */
  now?: () => number;
}

/** How long a name's addresses are trusted, and how many names are remembered. */
const RESOLVED_TTL_MS = 60_000;
const RESOLVED_MAX = 1024;

/**
 * The checks, with a small cache of resolved names. Fetch resolves names again itself, so a
 * name whose answer changes within the minute (DNS rebinding) is not caught: the check
 * stops the plain case, an image that names a host that resolves to the metadata address.
 *
 * @example
 * ```ts
 * import { HostPolicy } from "./host_policy.ts";
 * const policy = new HostPolicy({ allow: ["ghcr.io"] });
 * await policy.checkUrl(new URL("https://ghcr.io/v2/"), "ghcr.io");
 * ```
 */
export class HostPolicy {
  readonly #insecure: readonly string[];
  readonly #allow: readonly string[];
  readonly #resolve?: Resolver;
  readonly #now: () => number;
  /** Name -> forbidden?, for at most RESOLVED_TTL_MS; at most RESOLVED_MAX names. */
  readonly #resolved = new Map<string, { forbidden: boolean; at: number }>();

  constructor(opts: HostPolicyOptions = {}) {
    this.#insecure = (opts.insecureHosts ?? []).map((h) => h.toLowerCase());
    this.#allow = opts.allow ?? [];
    this.#resolve = opts.resolve;
    this.#now = opts.now ?? Date.now;
  }

  /** Whether the operator lets `host` be reached over plain http. */
  isPlain(host: string): boolean {
    return isInsecureHost(host, this.#insecure);
  }

  /** Throws {@linkcode HostRefused} unless the allow list names `registry`. */
  checkRegistry(registry: string): void {
    if (!hostAllowed(registry, this.#allow)) {
      throw new HostRefused(`registry ${registry} is not in the allow list (REGISTRY_ALLOW)`);
    }
  }

  /**
   * Throws {@linkcode HostRefused} unless `url` may be contacted for `registry`: its scheme,
   * plain http only to the registry's own host when that host may be, and its address.
   */
  async checkUrl(url: URL, registry: string, registryUrl?: URL): Promise<void> {
    if (url.protocol === "http:") {
      // Plain http only where the operator chose it: to the registry's own endpoint when that
      // is http (a host listed insecure, or a mirror written `http://…`), never elsewhere.
      const plain = registryUrl
        ? registryUrl.protocol === "http:" && url.host === registryUrl.host
        : this.isPlain(registry);
      if (!plain) {
        throw new HostRefused(`${url.origin}: plain http is only for a registry listed insecure`);
      }
    } else if (url.protocol !== "https:") {
      throw new HostRefused(`${url.protocol} URLs are never contacted`);
    }
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (isForbiddenAddress(hostname)) {
      throw new HostRefused(`${url.host} is a link-local or unspecified address`);
    }
    if (this.#resolve && !ipv4(hostname) && !hostname.includes(":")) {
      if (await this.#resolvesForbidden(hostname)) {
        throw new HostRefused(`${url.host} resolves to a link-local or unspecified address`);
      }
    }
  }

  async #resolvesForbidden(hostname: string): Promise<boolean> {
    const now = this.#now();
    const known = this.#resolved.get(hostname);
    if (known && now - known.at < RESOLVED_TTL_MS) return known.forbidden;
    const forbidden = (await this.#resolve!(hostname)).some(isForbiddenAddress);
    this.#resolved.delete(hostname);
    if (this.#resolved.size >= RESOLVED_MAX) {
      this.#resolved.delete(this.#resolved.keys().next().value!);
    }
    this.#resolved.set(hostname, { forbidden, at: now });
    return forbidden;
  }
}
