/**
 * `argoos plan`: for each labelled container, what it runs, what the registry
 * offers and what its policy would choose, without changing anything.
 *
 * @module
 */

import { withTarget } from "../image/reference.ts";
import { currentTag } from "../policy/candidates.ts";
import { candidatesFor } from "../policy/decide.ts";
import { rulesFor } from "../policy/rules.ts";
import { readState } from "../policy/state.ts";
import { fetchOffers, usersByRepository } from "../poll/offers.ts";
import type { RegistryClient } from "../registry/client.ts";
import type { Credentials } from "../registry/credentials.ts";
import { parseVersion } from "../policy/version.ts";
import type { ContainerImage, Workload } from "../workloads/workload.ts";

/** One row of the plan. */
export interface PlanRow {
  workload: string;
  container: string;
  policy: string;
  current: string;
  /** Newest version tag the registry lists, or `-` when none or unreachable. */
  newest: string;
  /** The image the policy would write (before the registry's truth check), or `-`. */
  next: string;
  reason: string;
}

/**
 * Work out the plan rows for some workloads.
 *
 * @example
 * ```ts ignore
 * import { planWorkloads } from "./plan.ts";
 * const rows = await planWorkloads(workloads, registry, async () => new Map());
 * ```
 */
export async function planWorkloads(
  workloads: readonly Workload[],
  registry: Pick<RegistryClient, "listTags">,
  credentialsOf: (w: Workload) => Promise<Credentials>,
): Promise<PlanRow[]> {
  const { offers, failures } = await fetchOffers(
    usersByRepository(workloads),
    registry,
    credentialsOf,
  );
  const rows: PlanRow[] = [];
  for (const w of workloads) {
    const name = `${w.kind.type.kind} ${w.namespace}/${w.name}`;
    for (const c of w.containers) {
      const offer = c.repository ? offers.get(c.repository) : undefined;
      const failed = c.repository && failures.get(c.repository.split("/")[0]);
      const [next, reason] = offer ? wouldRun(w, c, offer.tags) : [
        "-",
        !rulesFor(w, c.name)
          ? "invalid-policy"
          : failed
          ? `registry unavailable: ${(failed.error as Error).message}`
          : "not-an-image",
      ];
      rows.push({
        workload: name,
        container: c.name,
        policy: w.policyLabel,
        current: c.image,
        newest: offer ? newestVersion(offer.tags) ?? "-" : "-",
        next,
        reason,
      });
    }
  }
  return rows;
}

/** The image the poll's candidates point at, and why; a digest is not followed here. */
function wouldRun(w: Workload, c: ContainerImage, tags: readonly string[]): [string, string] {
  const rules = rulesFor(w, c.name);
  if (!rules) return ["-", "invalid-policy"];
  const tag = currentTag(c.ref!);
  const [best] = candidatesFor({
    rules,
    image: c.image,
    ref: c.ref!,
    state: readState(w.annotations)[c.name],
    pushes: [],
    listing: tags,
  }).filter((k) => k.tag !== tag);
  if (best) return [withTarget(c.ref!, best.tag), best.reason];
  const isVersion = tag !== undefined && parseVersion(tag) !== undefined;
  return ["-", isVersion || rules.policy === "all" ? "no-candidate" : "current-not-version"];
}

function newestVersion(tags: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestV;
  for (const t of tags) {
    const v = parseVersion(t);
    if (!v || v.prerelease.length) continue;
    if (
      !bestV || v.major > bestV.major || (v.major === bestV.major && v.minor > bestV.minor) ||
      (v.major === bestV.major && v.minor === bestV.minor && v.patch > bestV.patch)
    ) [best, bestV] = [t, v];
  }
  return best;
}

/**
 * Render rows as an aligned text table.
 *
 * @example
 * ```ts
 * import { formatPlan } from "./plan.ts";
 * formatPlan([{ workload: "Deployment default/web", container: "app", policy: "minor",
 *   current: "myapp:1.2.3", newest: "2.0.0", next: "myapp:1.3.0", reason: "update" }]);
 * ```
 */
export function formatPlan(rows: readonly PlanRow[]): string {
  const head: PlanRow = {
    workload: "WORKLOAD",
    container: "CONTAINER",
    policy: "POLICY",
    current: "CURRENT",
    newest: "NEWEST",
    next: "WOULD RUN",
    reason: "REASON",
  };
  const keys = Object.keys(head) as (keyof PlanRow)[];
  const all = [head, ...rows];
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  return all.map((r) => keys.map((k, i) => r[k].padEnd(widths[i])).join("  ").trimEnd())
    .join("\n") + "\n";
}
