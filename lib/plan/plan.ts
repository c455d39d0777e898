/**
 * `argoos plan`: for each labelled container, what it runs, what the registry
 * offers and what its policy would choose, without changing anything.
 *
 * @module
 */

import { describeGates, type GateRules } from "../gates/gates.ts";
import { approvedDigests, readPending } from "../gates/pending.ts";
import { deadlineSummary, healthSummary, holdSummary } from "../health/summary.ts";
import { splitRepository } from "../image/reference.ts";
import { currentTag } from "../policy/candidates.ts";
import {
  type Answer,
  considerTags,
  decideWith,
  type DecisionFacts,
  type Rejected,
} from "../policy/decide.ts";
import { type ContainerRules, loadParsersFor, rulesOf } from "../policy/rules.ts";
import { readTag } from "../policy/tag.ts";
import { readState } from "../policy/state.ts";
import { rejectionOf } from "../health/record.ts";
import { fetchOffers, usersByRepository } from "../poll/offers.ts";
import { type ManifestSource, TagVerifier, type Verified } from "../registry/tag_verifier.ts";
import type { RegistryClient } from "../registry/client.ts";
import type { Credentials } from "../registry/credentials.ts";
import { parseVersion } from "../policy/version.ts";
import { type ContainerImage, describe, type Workload } from "../workloads/workload.ts";

/** One row of the plan. */
export interface PlanRow {
  workload: string;
  container: string;
  /** The policy label, with the refinements its annotations add (`minor range=~1.2`). */
  policy: string;
  current: string;
  /**
   * The variant read from the current tag (`alpine`), `none` for a plain version, `-` when
   * the current tag is not a version.
   */
  variant: string;
  /** Newest version tag the registry lists, or `-` when none or unreachable. */
  newest: string;
  /** The image the policy would write (before the registry's truth check), or `-`. */
  next: string;
  reason: string;
  /**
   * What was considered, one line: the candidates in preference order (the first is chosen,
   * and why) and the other listed tags grouped by why they are not candidates; "" when nothing.
   */
  considered: string;
  /**
   * The gates of the update it would run, each with what it waits for and when it may open
   * (`min age reached …; update window opens …`); absent when it has none or runs nothing new.
   */
  gates?: string;
}

/** Options of {@linkcode planWorkloads}. */
export interface PlanOptions {
  /** The service's gates (`--update-window`, `--min-age`, `--observe`); annotations win. */
  gates?: GateRules;
  /** ms epoch the gates are judged at; default now. */
  now?: number;
}

/** Tags named per group in the `considered` line; the rest are counted. */
const SHOWN_PER_GROUP = 5;

/**
 * Work out the plan rows for some workloads: the same decision as the service's
 * ({@linkcode decideWith}), from the registry's listing, with the registry asked about the
 * candidates as the service asks (a tag not served, not an image, or whose digest was rejected
 * on the workload is passed over). What the pods run is not read: a moved tag is not followed.
 *
 * @example
 * ```ts ignore
 * import { planWorkloads } from "./plan.ts";
 * const rows = await planWorkloads(workloads, registry, async () => new Map());
 * ```
 */
export async function planWorkloads(
  workloads: readonly Workload[],
  registry: Pick<RegistryClient, "listTags"> & ManifestSource,
  credentialsOf: (w: Workload) => Promise<Credentials>,
  opts: PlanOptions = {},
): Promise<PlanRow[]> {
  const now = opts.now ?? Date.now();
  await loadParsersFor(workloads);
  const { offers, failures } = await fetchOffers(
    usersByRepository(workloads),
    registry,
    credentialsOf,
  );
  const verifier = new TagVerifier(registry);
  const rows: PlanRow[] = [];
  for (const w of workloads) {
    const name = describe(w);
    const { rules: byContainer, errors } = rulesOf(w);
    for (const c of w.containers) {
      const offer = c.repository ? offers.get(c.repository) : undefined;
      const failed = c.repository && failures.get(splitRepository(c.repository)[0]);
      const rules = byContainer.get(c.name);
      const tag = c.ref ? currentTag(c.ref) : undefined;
      const version = tag === undefined ? undefined : readTag(tag);
      const row: PlanRow = {
        workload: name,
        container: c.name,
        policy: rules ? describeRules(rules) : w.policyLabel,
        current: c.image,
        variant: version === undefined ? "-" : version.variant || "none",
        newest: offer ? newestVersion(offer.tags) ?? "-" : "-",
        next: "-",
        reason: "",
        considered: "",
      };
      if (!rules) {
        row.reason = "invalid-policy";
        row.considered = errors.map((e) => `${e.key}=${JSON.stringify(e.value)}: ${e.reason}`)
          .join("; ");
      } else if (!offer) {
        row.reason = failed
          ? `registry unavailable: ${(failed.error as Error).message}`
          : "not-an-image";
      } else {
        const chosen = await wouldRun(
          w,
          c,
          rules,
          offer.tags,
          row,
          async (tag) =>
            verifier.verify(...splitRepository(c.repository!), tag, await credentialsOf(w)),
        );
        const gates = { ...opts.gates, ...rules.gates };
        if (chosen && Object.keys(gates).length > 0) {
          // Since when the service knows this digest (its pending record), else as if first
          // seen now: the plan reads listings, which carry no push time.
          const held = readPending(w.annotations)[c.name];
          const since = held?.digest === chosen ? held.since : undefined;
          const candidate = { digest: chosen, since: since ?? now };
          const said = describeGates(gates, candidate, approvedDigests(w.annotations), now);
          const guessed = since === undefined && gates.minAgeMs !== undefined;
          if (said) row.gates = guessed ? `${said} (if first seen now)` : said;
        }
      }
      rows.push(row);
    }
  }
  return rows;
}

/** The rules as one line: the policy and each refinement its annotations add. */
function describeRules(r: ContainerRules): string {
  return [
    r.policy,
    r.pattern && `pattern=${r.pattern.source}`,
    r.sortBy !== undefined && `sort-by=${r.sortBy}`,
    r.order && `order=${r.order}`,
    r.range && `range=${r.range.raw}`,
  ].filter(Boolean).join(" ");
}

/**
 * Fills in what the decision would write, and what it considered; returns the digest of the
 * image it would write, if any.
 */
async function wouldRun(
  w: Workload,
  c: ContainerImage,
  rules: ContainerRules,
  tags: readonly string[],
  row: PlanRow,
  verify: (tag: string) => Promise<Verified>,
): Promise<string | undefined> {
  const f: DecisionFacts = {
    rules,
    image: c.image,
    ref: c.ref!,
    state: readState(w.annotations)[c.name],
    pushes: [],
    listing: tags,
    podsRead: true,
    rejected: rejectionOf(w.annotations, c.repository!, rules.policy),
  };
  // Pods are not read: `podsRead` says so, and the decision never asks for them.
  const verdict = await decideWith(f, {
    running: () => Promise.resolve(undefined),
    ask: (candidate) => answer(verify, candidate.tag),
  });
  row.next = verdict.to ?? "-";
  row.reason = verdict.reason;
  const tag = currentTag(c.ref!);
  const { candidates, rejected } = considerTags(f);
  const others = candidates.filter((k) => k.tag !== tag);
  const parts: string[] = [];
  const best = verdict.to ? verdict.chosen?.candidate : undefined;
  if (best) {
    const rest = others.filter((k) => k.tag !== best.tag).map((k) => k.tag);
    parts.push(
      `chose ${best.tag}: ${preference(rules)} of ${others.length} candidate(s)` +
        (rest.length ? ` (${group(rest)})` : ""),
    );
  }
  for (const s of verdict.skipped) parts.push(`skipped ${s.tag}: ${s.why}`);
  const byReason = new Map<string, string[]>(); // one entry per Reason
  for (const r of rejected as Rejected[]) {
    const list = byReason.get(r.reason) ?? [];
    list.push(r.tag);
    byReason.set(r.reason, list);
  }
  for (const [reason, list] of byReason) parts.push(`${reason}: ${group(list)}`);
  row.considered = parts.join("; ");
  return verdict.to ? verdict.chosen?.digest : undefined;
}

/**
 * The registry's answer for the decision. A failure to ask stops there, with why: the service
 * writes nothing on a registry error (it retries), so no lower candidate is shown as next.
 */
async function answer(verify: (tag: string) => Promise<Verified>, tag: string): Promise<Answer> {
  try {
    const served = await verify(tag);
    if (!served) return { skip: "not served" };
    return served.notImage
      ? { skip: `not an image: ${served.notImage}` }
      : { digest: served.digest };
  } catch (err) {
    return { skip: `registry: ${err instanceof Error ? err.message : String(err)}`, stop: true };
  }
}

/** Why the first candidate is preferred. */
function preference(r: ContainerRules): string {
  if (r.policy === "all") return "newest push, else greatest version";
  if (r.policy !== "newest") return "greatest version";
  const key = r.sortBy === undefined ? "tag" : `group ${r.sortBy}`;
  return `greatest ${key} in ${r.order ?? "semver"} order`;
}

/** Some tags, then how many more. */
function group(tags: readonly string[]): string {
  const shown = tags.slice(0, SHOWN_PER_GROUP).join(", ");
  return tags.length > SHOWN_PER_GROUP ? `${shown}, +${tags.length - SHOWN_PER_GROUP} more` : shown;
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
 * import assert from "node:assert/strict";
 * import { formatPlan } from "./plan.ts";
 * const text = formatPlan([{ workload: "Deployment default/web", container: "app",
 *   policy: "minor", current: "myapp:1.2.3", variant: "none", newest: "2.0.0",
 *   next: "myapp:1.3.0", reason: "update", considered: "chose 1.3.0: greatest version of 1" }]);
 * assert.equal(text.split("\n")[2], "    chose 1.3.0: greatest version of 1");
 * ```
 */
export function formatPlan(rows: readonly PlanRow[]): string {
  const head: PlanRow = {
    workload: "WORKLOAD",
    container: "CONTAINER",
    policy: "POLICY",
    current: "CURRENT",
    variant: "VARIANT",
    newest: "NEWEST",
    next: "WOULD RUN",
    reason: "REASON",
    considered: "",
  };
  const keys = (Object.keys(head) as (keyof PlanRow)[]).filter((k) => k !== "considered");
  const all = [head, ...rows];
  const widths = keys.map((k) => Math.max(...all.map((r) => (r[k] ?? "").length)));
  // The considered and gates lines sit under their row, indented, so the columns stay readable.
  return all.map((r) =>
    keys.map((k, i) => (r[k] ?? "").padEnd(widths[i])).join("  ").trimEnd() +
    (r.considered ? `\n    ${r.considered}` : "") + (r.gates ? `\n    gates: ${r.gates}` : "")
  ).join("\n") + "\n";
}

/**
 * Holds, the rollouts in progress, the rejected images, the human changes kept, any record
 * Argoos could not read, and how each workload's rollouts are judged failed for want of
 * progress, as text to print after the table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * import { formatHealth } from "./plan.ts";
 * const digest = "sha256:" + "b".repeat(64);
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default", annotations: {
 *     "argoos.io/rejected": JSON.stringify([{ repository: "docker.io/library/a", digest,
 *       tag: "2", at: "2026-01-01T00:00:00Z", reason: "crash-loop" }]),
 *   } },
 * });
 * assert.equal(formatHealth([w]).split("\n\n")[0],
 *   `Rejected images:\n  Deployment default/web: docker.io/library/a@${digest} (2): crash-loop at 2026-01-01T00:00:00Z`);
 * ```
 */
export function formatHealth(workloads: readonly Workload[], now: number = Date.now()): string {
  const sections: Record<string, string[]> = {
    "Held (Argoos writes nothing)": [],
    "Rollouts in progress": [],
    "Rejected images": [],
    "Human changes kept (never written there again)": [],
    "Unreadable records": [],
    "Failed without progress after": [],
  };
  for (const w of workloads) {
    const name = describe(w);
    const h = healthSummary(w.annotations);
    const held = holdSummary(w.annotations, now);
    if (held) sections["Held (Argoos writes nothing)"].push(`${name}: ${held}`);
    if (h.rollout) sections["Rollouts in progress"].push(`${name}: ${h.rollout}`);
    for (const r of h.rejected) sections["Rejected images"].push(`${name}: ${r}`);
    for (const r of h.manual) {
      sections["Human changes kept (never written there again)"].push(`${name}: ${r}`);
    }
    for (const p of h.problems) sections["Unreadable records"].push(`${name}: ${p}`);
    sections["Failed without progress after"].push(
      `${name}: ${deadlineSummary({ ...w, kind: w.kind.type.kind })}`,
    );
  }
  return Object.entries(sections).filter(([, lines]) => lines.length > 0)
    .map(([title, lines]) => `${title}:\n${lines.map((l) => `  ${l}\n`).join("")}`).join("\n");
}
