/**
 * What the registry's current tags and digests mean for each container of a
 * workload (poll rules of the policies spec).
 *
 * @module
 */

import { withTarget } from "../image/reference.ts";
import { chooseTag } from "../policy/choose.ts";
import { parsePolicy, type Policy } from "../policy/policy.ts";
import { parseVersion } from "../policy/version.ts";
import type { Verdict } from "../rollout/verdict.ts";
import { type ContainerImage, sameContainer, type Workload } from "../workloads/workload.ts";
import { baselineFor, readBaselines } from "./baselines.ts";

/** What a registry offers for one repository in this cycle. */
export interface RepositoryOffer {
  tags: readonly string[];
  /** Digests fetched by HEAD, by tag. */
  digests: ReadonlyMap<string, string>;
}

/** The tag a container runs: its tag, or `latest` when it names neither tag nor digest. */
export function currentTag(c: ContainerImage): string | undefined {
  return c.ref?.tag ?? (c.ref?.digest ? undefined : "latest");
}

/** Whether the written reference carries a digest: pinned images stay pinned, `all` always pins. */
function pins(policy: Policy, c: ContainerImage): boolean {
  return policy === "all" || c.ref?.digest !== undefined;
}

/**
 * The tags whose digest a decision needs: the current tag of every `all`
 * container, and the chosen tag of every container that will pin a digest.
 *
 * @example
 * ```ts ignore
 * import { digestsNeeded } from "./poll_verdicts.ts";
 * digestsNeeded(workload, "docker.io/library/myapp", ["1.2.3", "latest"]); // Set {"latest"}
 * ```
 */
export function digestsNeeded(
  w: Workload,
  repository: string,
  tags: readonly string[],
): Set<string> {
  const needed = new Set<string>();
  const policy = parsePolicy(w.policyLabel);
  if (!policy) return needed;
  for (const c of w.containers) {
    if (c.repository !== repository) continue;
    const tag = currentTag(c);
    const chosen = chooseTag(policy, tag, tags);
    if (chosen !== undefined && pins(policy, c)) needed.add(chosen);
    else if (chosen === undefined && policy === "all" && tag !== undefined) needed.add(tag);
  }
  return needed;
}

/**
 * One verdict per container whose repository has an offer. With `asked`, the workload as it
 * was when the registry was asked, a container whose image changed since (or that is new)
 * is `changed-since-poll`: the offer is older than its image.
 *
 * @example
 * ```ts
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * import { pollVerdicts } from "./poll_verdicts.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default", labels: { "argoos.io/policy": "minor" } },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "myapp:1.2.3" }] } } },
 * });
 * const offers = new Map([["docker.io/library/myapp",
 *   { tags: ["1.2.4", "1.3.0", "2.0.0"], digests: new Map() }]]);
 * pollVerdicts(w, offers)[0].to; // "myapp:1.3.0"
 * ```
 */
export function pollVerdicts(
  w: Workload,
  offers: ReadonlyMap<string, RepositoryOffer>,
  asked?: Workload,
): Verdict[] {
  const policy = parsePolicy(w.policyLabel);
  const baselines = readBaselines(w);
  const verdicts: Verdict[] = [];
  for (const c of w.containers) {
    const offer = c.repository === undefined ? undefined : offers.get(c.repository);
    if (!offer) continue;
    const base = { container: c, policy: w.policyLabel };
    if (asked && !asked.containers.some((a) => sameContainer(a, c) && a.image === c.image)) {
      verdicts.push({ ...base, reason: "changed-since-poll" });
      continue;
    }
    if (!policy) {
      verdicts.push({ ...base, reason: "invalid-policy" });
      continue;
    }
    const ref = c.ref!;
    const tag = currentTag(c);
    const chosen = chooseTag(policy, tag, offer.tags);
    if (chosen !== undefined) {
      const pinned = pins(policy, c);
      const digest = pinned ? offer.digests.get(chosen) : undefined;
      if (pinned && !digest) verdicts.push({ ...base, reason: "digest-unknown" });
      else verdicts.push({ ...base, reason: "update", to: withTarget(ref, chosen, digest) });
      continue;
    }
    if (policy !== "all" || tag === undefined) {
      const isVersion = tag !== undefined && parseVersion(tag) !== undefined;
      verdicts.push({ ...base, reason: isVersion ? "no-newer-tag" : "current-not-version" });
      continue;
    }
    // `all` follows the digest of the tag it runs.
    const digest = offer.digests.get(tag);
    const known = ref.digest ?? baselineFor(baselines, c.name, c.image);
    if (!digest) verdicts.push({ ...base, reason: "digest-unknown" });
    else if (known === undefined) verdicts.push({ ...base, reason: "baseline" });
    else if (known === digest) verdicts.push({ ...base, reason: "same-image" });
    else verdicts.push({ ...base, reason: "repushed", to: withTarget(ref, tag, digest) });
  }
  return verdicts;
}
