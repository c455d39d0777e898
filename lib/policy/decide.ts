/**
 * The decision for one container, from data only: what it runs (reference, pods' digest,
 * recorded state), what was pushed and listed, and what the registry says of a tag. Both
 * triggers end here, so every rule is written once.
 *
 * The decision has two steps because the registry is the truth: {@linkcode candidatesFor}
 * orders the tags worth asking about, the caller asks the registry about the first ones, and
 * {@linkcode settle} turns the first one the registry serves as an image into what to write.
 *
 * @module
 */

import { type ImageReference, withTarget } from "../image/reference.ts";
import { compareTags, currentTag, judgeTag } from "./candidates.ts";
import type { Reason } from "./policy.ts";
import type { ContainerRules } from "./rules.ts";
import type { ContainerState } from "./state.ts";
import { compareVersions, parseVersion } from "./version.ts";
import type { Push } from "../image/push.ts";

/** A push of the container's repository, as recorded: what of a {@linkcode Push} decides. */
export type PushFact = Pick<Push, "tag" | "pushedAt">;

/** Everything a container is decided from. */
export interface ContainerFacts {
  /** The container's rules (policy, pattern, order). */
  rules: ContainerRules;
  /** The image as written in the spec, and parsed. */
  image: string;
  /** `image`, parsed. */
  ref: ImageReference;
  /** The digest its pods run (`imageID`), when known. */
  running?: string;
  /** The state recorded for this container. */
  state?: ContainerState;
  /** Recorded pushes of its repository (any order). */
  pushes: readonly PushFact[];
  /** The last tag listing of its repository. */
  listing?: readonly string[];
}

/** A tag worth asking the registry about. */
export interface Candidate {
  /** The tag proposed. */
  tag: string;
  /** Why the policy allows it. */
  reason: Reason;
  /** Set when a recorded push named it. */
  pushedAt?: number;
}

/** What the registry said of a candidate tag. */
export interface Served {
  /** The digest the registry serves for the tag. */
  digest: string;
}

/** What to do with a container. */
export interface Settled {
  /**
   * Why the policy allows it; `baseline`: the container runs the tag and no digest was known
   * before, so only its state is recorded.
   */
  reason: Reason | "baseline";
  /** The image to write, when it changes. */
  to?: string;
  /** The state to record for the container, when it changes. */
  state?: ContainerState;
}

/**
 * The digest a container is known to run: its pods', else its pinned digest, else the one
 * recorded for its image.
 */
function knownDigest(f: ContainerFacts): string | undefined {
  return f.running ?? f.ref.digest ?? (f.state?.image === f.image ? f.state.digest : undefined);
}

/** A tag a container was not offered, and why (for `argoos plan` and logs). */
export interface Rejected {
  tag: string;
  reason: Reason;
}

/** What {@linkcode considerTags} made of every pushed and listed tag. */
export interface Considered {
  /** The tags to ask the registry about, preferred first. */
  candidates: Candidate[];
  /** Every other pushed or listed tag once, with why it is not a candidate. */
  rejected: Rejected[];
}

/** Reasons that make a tag a candidate. */
const ADMITTED: ReadonlySet<Reason> = new Set<Reason>(["update", "all-policy", "repushed"]);

/**
 * The tags to ask the registry about, preferred first.
 *
 * - Version policies and `newest`: every pushed or listed tag {@linkcode judgeTag} admits,
 *   preferred first by {@linkcode compareTags} (greatest version, or greatest key of `newest`).
 * - `all`: pushes newer than the push time recorded for what the container runs, newest push
 *   first (the last push wins); then, from the listing, when the current tag is a version and
 *   the container was not placed by a push, listed versions above it of its variant, greatest
 *   first (pre-releases included); then the current tag itself, to follow its digest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "../image/reference.ts";
 * import { candidatesFor } from "./decide.ts";
 * const facts = {
 *   rules: { policy: "minor" as const }, image: "myapp:1.2.3", ref: parseReference("myapp:1.2.3"),
 *   pushes: [{ tag: "1.2.4", pushedAt: 1 }], listing: ["1.2.3", "1.3.0", "2.0.0"],
 * };
 * assert.deepEqual(candidatesFor(facts).map((c) => c.tag), ["1.3.0", "1.2.4"]);
 * ```
 */
export function candidatesFor(f: ContainerFacts): Candidate[] {
  return consider(f, false).candidates;
}

/**
 * {@linkcode candidatesFor}, with every tag it did not offer and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "../image/reference.ts";
 * import { considerTags } from "./decide.ts";
 * const c = considerTags({
 *   rules: { policy: "minor" }, image: "nginx:1.25.3-alpine",
 *   ref: parseReference("nginx:1.25.3-alpine"), pushes: [],
 *   listing: ["1.25.3-alpine", "1.26.0", "1.26.0-alpine"],
 * });
 * assert.deepEqual(c.candidates.map((k) => k.tag), ["1.26.0-alpine"]);
 * assert.deepEqual(c.rejected, [
 *   { tag: "1.25.3-alpine", reason: "same-image" },
 *   { tag: "1.26.0", reason: "variant-mismatch" },
 * ]);
 * ```
 */
export function considerTags(f: ContainerFacts): Considered {
  return consider(f, true);
}

/** {@linkcode considerTags}; `rejected` is only gathered when `explain` (it is as long as the listing). */
function consider(f: ContainerFacts, explain: boolean): Considered {
  const tag = currentTag(f.ref);
  const found = new Map<string, Candidate>(); // bounded by the pushes and listing recorded
  const rejected = new Map<string, Rejected>(); // likewise
  const reject = (t: string, reason: Reason) => {
    if (explain && !found.has(t) && !rejected.has(t)) rejected.set(t, { tag: t, reason });
  };
  if (f.rules.policy !== "all") {
    for (const p of f.pushes) {
      const reason = judgeTag(f.rules, tag, p.tag);
      if (reason !== "update") {
        reject(p.tag, reason);
        continue;
      }
      rejected.delete(p.tag);
      const seen = found.get(p.tag);
      if (!seen || (seen.pushedAt ?? 0) < p.pushedAt) {
        found.set(p.tag, { tag: p.tag, reason: "update", pushedAt: p.pushedAt });
      }
    }
    for (const t of f.listing ?? []) {
      if (found.has(t)) continue;
      const reason = judgeTag(f.rules, tag, t);
      if (reason === "update") found.set(t, { tag: t, reason });
      else reject(t, reason);
    }
    const candidates = [...found.values()].sort((a, b) => compareTags(f.rules, b.tag, a.tag, tag));
    return { candidates, rejected: [...rejected.values()] };
  }
  const since = f.state?.pushedAt ?? -Infinity;
  const pushed = f.pushes.filter((p) => {
    const reason = judgeTag(f.rules, tag, p.tag);
    if (!ADMITTED.has(reason)) reject(p.tag, reason);
    else if (p.pushedAt <= since) reject(p.tag, "not-greater");
    else return true;
    return false;
  }).sort((a, b) => b.pushedAt - a.pushedAt);
  const list: Candidate[] = [];
  for (const p of pushed) {
    if (found.has(p.tag)) continue;
    rejected.delete(p.tag);
    const c: Candidate = {
      tag: p.tag,
      reason: judgeTag(f.rules, tag, p.tag),
      pushedAt: p.pushedAt,
    };
    found.set(p.tag, c);
    list.push(c);
  }
  const current = tag === undefined ? undefined : parseVersion(tag);
  const placedByPush = f.state?.image === f.image && f.state.pushedAt !== undefined;
  const above: string[] = [];
  for (const t of f.listing ?? []) {
    if (found.has(t) || t === tag) continue;
    const reason = judgeTag(f.rules, tag, t);
    const v = parseVersion(t);
    if (reason !== "all-policy") reject(t, reason);
    // A sequence of word tags is followed by the webhook, or by `newest` with a pattern.
    else if (current === undefined) reject(t, "current-not-version");
    else if (v === undefined) reject(t, "candidate-not-version");
    else if (compareVersions(v, current) <= 0) reject(t, "not-greater");
    else if (placedByPush) reject(t, "not-greater");
    else above.push(t);
  }
  for (const t of above.sort((a, b) => compareTags(f.rules, b, a, tag))) {
    rejected.delete(t);
    found.set(t, { tag: t, reason: "all-policy" });
    list.push(found.get(t)!);
  }
  if (tag !== undefined && !found.has(tag) && (f.listing ?? []).includes(tag)) {
    const reason = judgeTag(f.rules, tag, tag);
    if (reason === "repushed") list.push({ tag, reason });
    else reject(tag, reason);
  }
  return { candidates: list, rejected: [...rejected.values()] };
}

/**
 * What to write for a candidate the registry serves as an image with `served.digest`. The
 * written reference keeps the container's form; it carries the digest under `all` and when the
 * container was pinned. The same tag with the digest the container runs restarts nothing; a
 * listed tag first seen with pods unknown is only recorded (`baseline`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "../image/reference.ts";
 * import { settle } from "./decide.ts";
 * const d = "sha256:" + "b".repeat(64);
 * const facts = { rules: { policy: "all" as const }, image: "myapp:latest",
 *   ref: parseReference("myapp:latest"), running: d, pushes: [] };
 * assert.equal(settle(facts, { tag: "latest", reason: "repushed", pushedAt: 9 }, { digest: d }).to,
 *   undefined); // identical content: nothing restarts
 * assert.equal(settle(facts, { tag: "1.3.0", reason: "all-policy", pushedAt: 9 }, { digest: d }).to,
 *   "myapp:1.3.0@" + d);
 * ```
 */
export function settle(f: ContainerFacts, c: Candidate, served: Served): Settled {
  const pin = f.rules.policy === "all" || f.ref.digest !== undefined;
  const pushedAt = Math.max(c.pushedAt ?? -Infinity, f.state?.pushedAt ?? -Infinity);
  // Whether Argoos wrote the image: kept for what runs, set for what it writes now.
  const wrote = f.state?.image === f.image && f.state.written === true;
  const stateOf = (image: string, written: boolean): ContainerState => ({
    image,
    digest: served.digest,
    ...(Number.isFinite(pushedAt) ? { pushedAt } : {}),
    ...(written ? { written } : {}),
  });
  if (c.tag === currentTag(f.ref)) {
    const known = knownDigest(f);
    if (known === served.digest) {
      const state = stateOf(f.image, wrote);
      const same = f.state?.image === state.image && f.state.digest === state.digest &&
        f.state.pushedAt === state.pushedAt;
      return same ? { reason: "same-image" } : { reason: "same-image", state };
    }
    if (known === undefined && c.pushedAt === undefined) {
      return { reason: "baseline", state: stateOf(f.image, wrote) };
    }
  }
  const to = withTarget(f.ref, c.tag, pin ? served.digest : undefined);
  return { reason: c.reason, to, state: stateOf(to, true) };
}

/** Candidates asked about per container and decision, at most: a bound on forged tags. */
export const MAX_ASKED_CANDIDATES = 5;

/**
 * The first {@linkcode MAX_ASKED_CANDIDATES} of {@linkcode candidatesFor}: all a decision may
 * ask about. They depend on the listing, the rules, the current tag, the pushes and (`all`)
 * the push time recorded, never on the namespace, credentials or digests, so containers sharing
 * those share them: computed once per listing object (the poll keeps the object while the
 * listing is unchanged, so a new listing starts afresh) and frozen.
 */
function askable(f: ContainerFacts): readonly Candidate[] {
  if (f.listing === undefined) return consider(f, false).candidates.slice(0, MAX_ASKED_CANDIDATES);
  let byInputs = shared.get(f.listing);
  if (byInputs === undefined) shared.set(f.listing, byInputs = new Map());
  const key = inputsKey(f);
  let candidates = byInputs.get(key);
  if (candidates === undefined) {
    // Bounded in all: past the bound, started afresh (answers are recomputed once).
    if (++sharedEntries > SHARED_MAX) {
      shared = new WeakMap([[f.listing, byInputs = new Map()]]);
      sharedEntries = 1;
    }
    const first = consider(f, false).candidates.slice(0, MAX_ASKED_CANDIDATES);
    candidates = first.length === 0 ? NONE : Object.freeze(first.map((c) => Object.freeze(c)));
    byInputs.set(key, candidates);
  }
  return candidates;
}

const NONE: readonly Candidate[] = Object.freeze([]);
/**
 * Shared candidates by listing, then by everything else they are chosen from
 * ({@linkcode inputsKey}): at most {@linkcode SHARED_MAX} entries of at most
 * {@linkcode MAX_ASKED_CANDIDATES} candidates; an old listing's go with it.
 */
let shared = new WeakMap<readonly string[], Map<string, readonly Candidate[]>>();
let sharedEntries = 0;
/**
 * About a key per container of 10,000 workloads of two containers (those sharing inputs share
 * one) and the keys they had before a rollout: ~3 MB of keys, most entries {@linkcode NONE}.
 */
const SHARED_MAX = 20_000;
/** The part of the key the rules make, once per rules object (one per workload version). */
const rulesKeys = new WeakMap<ContainerRules, string>();

/** Everything besides the listing that {@linkcode considerTags} reads, as one string. */
function inputsKey(f: ContainerFacts): string {
  let rules = rulesKeys.get(f.rules);
  if (rules === undefined) {
    const { policy, pattern, sortBy, order, range } = f.rules;
    rules = JSON.stringify([policy, pattern?.source, sortBy, order, range?.raw]);
    rulesKeys.set(f.rules, rules);
  }
  // `all` reads the push time recorded for what runs, and whether a push placed it.
  const all = f.rules.policy === "all"
    ? [f.state?.pushedAt, f.state?.image === f.image && f.state.pushedAt !== undefined]
    : [];
  const pushes = f.pushes.map((p) => [p.tag, p.pushedAt]);
  return JSON.stringify([rules, currentTag(f.ref) ?? null, all, pushes]);
}

/**
 * What the registry said of a candidate tag: the digest it serves as an image, or why it is not
 * to be written (`stop`: ask about no other candidate either, e.g. the workload's credentials
 * were refused).
 */
export type Answer = Served | { skip: string; stop?: boolean };

/** Why a container with facts is left as it is, besides the policy's reasons. */
export type LeftReason = "no-candidate" | "not-served";

/** The verdict on one container. */
export interface ContainerVerdict {
  reason: Reason | "baseline" | LeftReason;
  /** The image to write, when it changes. */
  to?: string;
  /** The state to record, when it changes. */
  state?: ContainerState;
  /** The candidate chosen and the digest the registry served for it. */
  chosen?: { candidate: Candidate; digest: string };
  /**
   * Candidates asked about and passed over, and why (not served, not an image, ...); `digest`
   * when it is that digest's rejection on the workload.
   */
  skipped: { tag: string; why: string; digest?: string }[];
}

/** The next step of {@linkcode decideContainer}. */
export type ContainerStep =
  /** Read what the container's pods run (`running`), then decide again. */
  | { pods: true }
  /** Ask the registry about this candidate, put the answer in `answers`, decide again. */
  | { ask: Candidate }
  | { verdict: ContainerVerdict };

/**
 * The one decision for a container, used by the reconcile and by `argoos plan`: rules →
 * candidates ({@linkcode candidatesFor}) → the registry's answers, first served first (a digest
 * `rejected` on the workload is passed over) → {@linkcode settle} → the verdict with its reason.
 * Pure: the caller reads the pods or asks the registry when told to, and calls again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "../image/reference.ts";
 * import { type Answer, decideContainer } from "./decide.ts";
 * const d = "sha256:" + "d".repeat(64);
 * const facts = { rules: { policy: "minor" as const }, image: "app:1.2.3",
 *   ref: parseReference("app:1.2.3"), pushes: [], listing: ["1.2.3", "1.3.0"] };
 * const answers = new Map<string, Answer>();
 * assert.deepEqual(decideContainer(facts, answers), { ask: { tag: "1.3.0", reason: "update" } });
 * answers.set("1.3.0", { digest: d });
 * const step = decideContainer(facts, answers);
 * assert.equal("verdict" in step && step.verdict.to, "app:1.3.0");
 * ```
 */
export function decideContainer(
  f: ContainerFacts & {
    podsRead?: boolean;
    /** Why the workload rejected this digest served for this tag, if it did. */
    rejected?: (digest: string, tag: string) => string | undefined;
  },
  answers: ReadonlyMap<string, Answer>,
): ContainerStep {
  const candidates = askable(f);
  if (candidates.length === 0) return { verdict: { reason: noCandidate(f), skipped: [] } };
  // Pods are read only when a decision compares with what runs: the current tag is asked about.
  const tag = currentTag(f.ref);
  if (!f.podsRead && f.running === undefined && candidates.some((k) => k.tag === tag)) {
    return { pods: true };
  }
  const skipped: ContainerVerdict["skipped"] = [];
  for (const candidate of candidates) {
    const answer = answers.get(candidate.tag);
    if (answer === undefined) return { ask: candidate };
    if ("skip" in answer) {
      skipped.push({ tag: candidate.tag, why: answer.skip });
      if (answer.stop) break;
      continue;
    }
    const rejected = f.rejected?.(answer.digest, candidate.tag);
    if (rejected !== undefined) {
      skipped.push({
        tag: candidate.tag,
        why: `rejected here (${rejected})`,
        digest: answer.digest,
      });
      continue;
    }
    const settled = settle(f, candidate, answer);
    return { verdict: { ...settled, chosen: { candidate, digest: answer.digest }, skipped } };
  }
  return { verdict: { reason: "not-served", skipped } };
}

/** The facts {@linkcode decideContainer} decides from, with what the workload rejected. */
export type DecisionFacts = Parameters<typeof decideContainer>[0];

/** What {@linkcode decideWith} reads when the decision asks for it. */
export interface DecisionReads {
  /** The digest the container's pods run; undefined when unknown. */
  running: () => Promise<string | undefined>;
  /** What the registry says of a candidate. */
  ask: (candidate: Candidate) => Promise<Answer>;
}

/**
 * {@linkcode decideContainer} to its verdict: reads the pods and asks the registry each time it
 * says, through `reads`, the only I/O (the reconcile and `argoos plan` differ only there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "../image/reference.ts";
 * import { decideWith } from "./decide.ts";
 * const verdict = await decideWith(
 *   { rules: { policy: "minor" }, image: "app:1.2.3", ref: parseReference("app:1.2.3"),
 *     pushes: [], listing: ["1.2.3", "1.3.0"] },
 *   { running: () => Promise.resolve(undefined),
 *     ask: () => Promise.resolve({ digest: "sha256:" + "d".repeat(64) }) },
 * );
 * assert.equal(verdict.to, "app:1.3.0");
 * ```
 */
export async function decideWith(
  f: DecisionFacts,
  reads: DecisionReads,
): Promise<ContainerVerdict> {
  const answers = new Map<string, Answer>();
  let step = decideContainer(f, answers);
  while (!("verdict" in step)) {
    if ("pods" in step) {
      f.running = await reads.running();
      f.podsRead = true;
    } else answers.set(step.ask.tag, await reads.ask(step.ask));
    step = decideContainer(f, answers);
  }
  return step.verdict;
}

/** Why a container with facts has no candidate: what the policy says of the newest push. */
function noCandidate(f: ContainerFacts): Reason | "no-candidate" {
  const newest = f.pushes.at(-1);
  if (f.rules.policy === "all" || !newest) {
    const tag = currentTag(f.ref);
    const versions = f.rules.policy !== "all" && f.rules.policy !== "newest";
    const standing = versions && (tag === undefined || !parseVersion(tag));
    return standing ? "current-not-version" : "no-candidate";
  }
  return judgeTag(f.rules, currentTag(f.ref), newest.tag);
}
