/**
 * What Argoos keeps on a workload about its rollouts, so a restarted Argoos or another replica
 * carries on: the rollout in progress (`argoos.io/rollout`, written in the rollout's own patch)
 * and the digests that failed there (`argoos.io/rejected`). Encoding, tolerant decoding (a
 * corrupted annotation is reported, never fatal) and the pure revert plan.
 *
 * @module
 */

import type { Push } from "../image/push.ts";
import {
  formatReference,
  parseReference,
  referenceRepository,
  SHA256_DIGEST,
} from "../image/reference.ts";
import type { ImageChange } from "../rollout/image_patch.ts";
import {
  type ContainerSection,
  ROLLOUT_ANNOTATION,
  sameContainer,
  type Workload,
} from "../workloads/workload.ts";
import { isObject, parseJson } from "../parse/object.ts";
import type { Policy } from "../policy/policy.ts";

/** Annotation holding the rollout in progress (JSON, see {@linkcode RolloutRecord}). */
export { ROLLOUT_ANNOTATION } from "../workloads/workload.ts";
/** Annotation holding the digests that failed on this workload (JSON list, newest last). */
export const REJECTED_ANNOTATION = "argoos.io/rejected";
/** Annotation with which a workload opts out of reverts (`"false"`): failures are reported only. */
export const REVERT_ANNOTATION = "argoos.io/revert";

/** The reason of a rejection a person's change made (a rollback, `kubectl set image`). */
export const MANUAL_REASON = "manual";

/** Rejected entries kept per workload; the oldest go first. */
export const MAX_REJECTED = 50;
/** Encoded size cap of `argoos.io/rejected`, far under the 256 KiB all annotations share. */
export const MAX_REJECTED_BYTES = 16 * 1024;

/** One container a rollout changed. */
export interface ChangedContainer {
  section: ContainerSection;
  index: number;
  name: string;
  /** The image it ran before Argoos changed it (what a revert puts back). */
  from: string;
  /** The image Argoos wrote. */
  to: string;
  /** The digest the registry served for `to` (what a failure of this container rejects). */
  digest?: string;
  /**
   * The digest known to run before, when the rollout started (a revert of a moved tag pins it
   * when no pod still runs `from` to say).
   */
  ran?: string;
}

/** A rollout in progress, as `argoos.io/rollout` holds it. */
export interface RolloutRecord {
  containers: ChangedContainer[];
  /** The push the rollout came from. */
  push: Push;
  /** ms epoch when the rollout's patch was written. */
  startedAt: number;
  /** ms epoch after which a rollout still progressing has failed (`argoos.io/health-timeout`). */
  deadline?: number;
  /**
   * Other annotations a revert puts back as they were before the rollout (null: removes), e.g.
   * `argoos.io/state`, so they describe the images running again.
   */
  restore?: Record<string, string | null>;
}

/** A container change a rollout starts, with what it writes and what ran before. */
export interface StartedChange extends ImageChange {
  /** The digest the registry served for `to`. */
  digest?: string;
  /** The digest the container is known to run now. */
  ran?: string;
}

/** What {@linkcode startRecord} needs besides the workload. */
export interface RolloutStart {
  changes: readonly StartedChange[];
  /** The push the rollout came from. */
  push: Push;
  /** ms epoch of the rollout's patch. */
  now: number;
  /** From `healthTimeout`; undefined when the user set none (progress alone decides). */
  timeoutMs: number | undefined;
  /** Annotations (their values before this patch) that a revert puts back. */
  restore?: Record<string, string | null>;
}

/** A digest that failed on this workload. */
export interface RejectedImage {
  repository: string;
  digest: string;
  tag?: string;
  /** ms epoch of the failure. */
  at: number;
  /** Why, e.g. "crash-loop". */
  reason: string;
}

/** A decoded annotation: the value, or why it could not be read. */
export type Decoded<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

const iso = (ms: number) => new Date(ms).toISOString();
const SECTIONS: readonly string[] = ["containers", "initContainers"];

/**
 * The record of a rollout about to be written, to put in the rollout's own patch. When a rollout
 * is still in progress on the workload (its `argoos.io/rollout` is readable), containers it
 * changed keep the image they ran before it (the last one known to work), and those this
 * rollout leaves alone stay in the record while they still run what it wrote; so do the
 * annotations to restore.
 *
 * @example
 * ```ts
 * import { startRecord } from "./record.ts";
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default" },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "myapp:1.2.3" }] } } },
 * });
 * const r = startRecord(w, {
 *   changes: [{ container: w.containers[0], to: "myapp:1.2.4" }],
 *   push: { repository: "docker.io/library/myapp", tag: "1.2.4", pushedAt: 0 },
 *   now: 1000,
 *   timeoutMs: 60_000,
 * });
 * r.containers[0].from; // "myapp:1.2.3"
 * r.deadline; // 61000
 * ```
 */
export function startRecord(workload: Workload, start: RolloutStart): RolloutRecord {
  const { changes, push, now, timeoutMs } = start;
  const text = workload.annotations[ROLLOUT_ANNOTATION];
  const previous = text === undefined ? undefined : decodeRollout(text).value;
  const containers: ChangedContainer[] = changes.map(({ container: c, to, digest, ran }) => {
    const earlier = previous?.containers.find((p) => sameContainer(p, c));
    const kept = earlier && earlier.to === c.image;
    const from = kept ? earlier.from : c.image;
    const before = kept ? earlier.ran : ran;
    return {
      section: c.section,
      index: c.index,
      name: c.name,
      from,
      to,
      ...(digest ? { digest } : {}),
      ...(before ? { ran: before } : {}),
    };
  });
  for (const earlier of previous?.containers ?? []) {
    if (containers.some((c) => sameContainer(c, earlier))) continue;
    const current = workload.containers.find((c) => sameContainer(c, earlier));
    if (current?.image === earlier.to) containers.push(earlier);
  }
  const restore = { ...start.restore, ...previous?.restore };
  return {
    containers,
    push,
    startedAt: now,
    ...(timeoutMs === undefined ? {} : { deadline: now + timeoutMs }),
    ...(Object.keys(restore).length ? { restore } : {}),
  };
}

/**
 * The annotation value of a rollout record.
 *
 * @example
 * ```ts
 * import { decodeRollout, encodeRollout } from "./record.ts";
 * const text = encodeRollout({
 *   containers: [{ section: "containers", index: 0, name: "app", from: "a:1", to: "a:2" }],
 *   push: { repository: "docker.io/library/a", tag: "2", pushedAt: 0 },
 *   startedAt: 0,
 * });
 * decodeRollout(text).value?.containers[0].to; // "a:2"
 * ```
 */
export function encodeRollout(r: RolloutRecord): string {
  return JSON.stringify({
    v: 1,
    startedAt: iso(r.startedAt),
    ...(r.deadline === undefined ? {} : { deadline: iso(r.deadline) }),
    push: {
      repository: r.push.repository,
      tag: r.push.tag,
      ...(r.push.digest ? { digest: r.push.digest } : {}),
      pushedAt: iso(r.push.pushedAt),
    },
    containers: r.containers.map((c) => ({
      section: c.section,
      index: c.index,
      name: c.name,
      from: c.from,
      to: c.to,
      ...(c.digest ? { digest: c.digest } : {}),
      ...(c.ran ? { ran: c.ran } : {}),
    })),
    ...(r.restore ? { restore: r.restore } : {}),
  });
}

/**
 * Read `argoos.io/rollout`; a value that is not a record Argoos wrote gives `error`.
 *
 * @example
 * ```ts
 * import { decodeRollout } from "./record.ts";
 * decodeRollout("{oops").error; // "argoos.io/rollout is not JSON"
 * ```
 */
export function decodeRollout(text: string): Decoded<RolloutRecord> {
  const raw = parseJson(text);
  if (raw === undefined) return { error: `${ROLLOUT_ANNOTATION} is not JSON` };
  const bad = (what: string) => ({ error: `${ROLLOUT_ANNOTATION}: ${what}` });
  if (!isObject(raw) || raw.v !== 1) return bad("not a version 1 record");
  const startedAt = time(raw.startedAt);
  if (startedAt === undefined) return bad("startedAt is not a time");
  const deadline = raw.deadline === undefined ? undefined : time(raw.deadline);
  if (raw.deadline !== undefined && deadline === undefined) return bad("deadline is not a time");
  const p = raw.push;
  if (!isObject(p) || !text1(p.repository) || !text1(p.tag)) {
    return bad("push needs repository and tag");
  }
  if (p.digest !== undefined && !(typeof p.digest === "string" && SHA256_DIGEST.test(p.digest))) {
    return bad("push.digest is not a sha256 digest");
  }
  const pushedAt = time(p.pushedAt);
  if (pushedAt === undefined) return bad("push.pushedAt is not a time");
  if (!Array.isArray(raw.containers) || raw.containers.length === 0) {
    return bad("containers is empty");
  }
  const restore = raw.restore;
  if (
    restore !== undefined &&
    !(isObject(restore) && Object.values(restore).every((v) => v === null || typeof v === "string"))
  ) {
    return bad("restore is not a map of annotation values");
  }
  const containers: ChangedContainer[] = [];
  for (const c of raw.containers) {
    if (
      !isObject(c) || !SECTIONS.includes(c.section as string) ||
      !Number.isInteger(c.index) || (c.index as number) < 0 ||
      typeof c.name !== "string" || !text1(c.from) || !text1(c.to)
    ) {
      return bad("a container needs section, index, name, from and to");
    }
    const digest = optionalDigest(c.digest);
    const ran = optionalDigest(c.ran);
    if (digest === null || ran === null) return bad("a container digest is not a sha256 digest");
    containers.push({
      section: c.section as ContainerSection,
      index: c.index as number,
      name: c.name,
      from: c.from,
      to: c.to,
      ...(digest ? { digest } : {}),
      ...(ran ? { ran } : {}),
    });
  }
  return {
    value: {
      containers,
      push: {
        repository: p.repository,
        tag: p.tag,
        ...(p.digest ? { digest: p.digest as string } : {}),
        pushedAt,
      },
      startedAt,
      ...(deadline === undefined ? {} : { deadline }),
      ...(restore === undefined ? {} : { restore: restore as Record<string, string | null> }),
    },
  };
}

/**
 * Read `argoos.io/rejected` (absent: none). Unreadable entries are dropped and reported in
 * `error`, readable ones kept, so one bad hand edit does not forget every rejection.
 *
 * @example
 * ```ts
 * import { decodeRejected } from "./record.ts";
 * decodeRejected(undefined); // { value: [] }
 * decodeRejected("nope").error; // "argoos.io/rejected is not JSON"
 * ```
 */
export function decodeRejected(
  text: string | undefined,
): { value: RejectedImage[]; error?: string } {
  if (text === undefined) return { value: [] };
  const raw = parseJson(text);
  if (raw === undefined) return { value: [], error: `${REJECTED_ANNOTATION} is not JSON` };
  if (!Array.isArray(raw)) return { value: [], error: `${REJECTED_ANNOTATION} is not a list` };
  const value: RejectedImage[] = [];
  let dropped = 0;
  for (const e of raw) {
    const at = isObject(e) ? time(e.at) : undefined;
    if (
      !isObject(e) || !text1(e.repository) || typeof e.digest !== "string" ||
      !SHA256_DIGEST.test(e.digest) || at === undefined || typeof e.reason !== "string" ||
      (e.tag !== undefined && typeof e.tag !== "string")
    ) {
      dropped++;
      continue;
    }
    value.push({
      repository: e.repository,
      digest: e.digest,
      ...(e.tag ? { tag: e.tag as string } : {}),
      at,
      reason: e.reason,
    });
  }
  return dropped
    ? { value, error: `${REJECTED_ANNOTATION}: ${dropped} unreadable entries ignored` }
    : { value };
}

/**
 * The `argoos.io/rejected` value with `entry` added as the newest (an earlier entry for the same
 * digest moves up), the oldest dropped beyond {@linkcode MAX_REJECTED} entries or
 * {@linkcode MAX_REJECTED_BYTES}: failures before a person's rejections (`manual`), which go
 * only when nothing else is left.
 *
 * @example
 * ```ts
 * import { decodeRejected, encodeRejected } from "./record.ts";
 * const digest = "sha256:" + "a".repeat(64);
 * const text = encodeRejected([], { repository: "docker.io/library/a", digest, at: 0, reason: "crash-loop" });
 * decodeRejected(text).value.length; // 1
 * ```
 */
export function encodeRejected(entries: readonly RejectedImage[], entry: RejectedImage): string {
  const wire = [
    ...entries.filter((e) => !(e.repository === entry.repository && e.digest === entry.digest)),
    entry,
  ].map((e) => ({
    repository: e.repository,
    digest: e.digest,
    ...(e.tag ? { tag: e.tag } : {}),
    at: iso(e.at),
    reason: e.reason,
  }));
  // The newest is kept, and a person's decision longest: the oldest other entry goes first.
  const evict = () => {
    const i = wire.slice(0, -1).findIndex((e) => e.reason !== MANUAL_REASON);
    wire.splice(Math.max(i, 0), 1);
  };
  while (wire.length > MAX_REJECTED) evict();
  let text = JSON.stringify(wire);
  while (text.length > MAX_REJECTED_BYTES && wire.length > 1) {
    evict();
    text = JSON.stringify(wire);
  }
  return text;
}

/**
 * The rejection of this digest of this repository on a workload, if it failed there before:
 * a reconcile (webhook or poll) skips it; another digest of the same tag is tried as usual.
 * A person's rollback (`manual`) under a version policy (`patch`, `minor`, `major`) rejects
 * the release itself: `tag` is then rejected whatever its digest, as the next release, never
 * the one rolled back from, is an update from what the person set. Under `all` and `newest`
 * a new digest of a tag is a new image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRejected, findRejected, REJECTED_ANNOTATION } from "./record.ts";
 * const d = (c: string) => "sha256:" + c.repeat(64);
 * const repository = "docker.io/library/a";
 * const rejected = encodeRejected([], { repository, digest: d("a"), tag: "1.0.1", at: 0, reason: "manual" });
 * const annotations = { [REJECTED_ANNOTATION]: rejected };
 * assert.equal(findRejected(annotations, repository, d("a"))?.reason, "manual");
 * assert.equal(findRejected(annotations, repository, d("b"), { tag: "1.0.1", policy: "patch" })?.reason, "manual");
 * assert.equal(findRejected(annotations, repository, d("b"), { tag: "1.0.1", policy: "all" }), undefined);
 * ```
 */
export function findRejected(
  annotations: Readonly<Record<string, string>>,
  repository: string,
  digest: string,
  candidate?: { tag: string; policy: Policy },
): RejectedImage | undefined {
  const byTag = candidate !== undefined && candidate.policy !== "all" &&
    candidate.policy !== "newest";
  return decodeRejected(annotations[REJECTED_ANNOTATION]).value.find((e) =>
    e.repository === repository &&
    (e.digest === digest || byTag && e.reason === MANUAL_REASON && e.tag === candidate.tag)
  );
}

/**
 * The decision's `rejected` question for one container (`decideContainer`): why a candidate is
 * rejected on the workload ({@linkcode findRejected} under the container's policy), if it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRejected, rejectionOf } from "./record.ts";
 * const d = "sha256:" + "a".repeat(64);
 * const annotations = {
 *   "argoos.io/rejected": encodeRejected([], { repository: "r/app", digest: d, tag: "1.0.1", at: 0, reason: "manual" }),
 * };
 * const rejected = rejectionOf(annotations, "r/app", "patch");
 * assert.equal(rejected("sha256:" + "b".repeat(64), "1.0.1"), "manual");
 * ```
 */
export function rejectionOf(
  annotations: Readonly<Record<string, string>>,
  repository: string,
  policy: Policy,
): (digest: string, tag: string) => string | undefined {
  return (digest, tag) => findRejected(annotations, repository, digest, { tag, policy })?.reason;
}

/** What a revert would write, or why it must not. */
export type RevertPlan =
  | { kind: "revert"; changes: ImageChange[] }
  | { kind: "changed-since"; detail: string };

/**
 * Put back exactly the containers the rollout changed, to the images they ran before; when any
 * of them no longer runs what Argoos wrote (someone edited it since), touch nothing.
 *
 * @example
 * ```ts
 * import { revertPlan } from "./record.ts";
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { readWorkload } from "../workloads/workload.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default" },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "a:2" }] } } },
 * });
 * const plan = revertPlan(w, {
 *   containers: [{ section: "containers", index: 0, name: "app", from: "a:1", to: "a:2" }],
 *   push: { repository: "docker.io/library/a", tag: "2", pushedAt: 0 },
 *   startedAt: 0,
 * });
 * plan.kind === "revert" && plan.changes[0].to; // "a:1"
 * ```
 */
export function revertPlan(workload: Workload, record: RolloutRecord): RevertPlan {
  const changes: ImageChange[] = [];
  for (const c of record.containers) {
    const now = workload.containers.find((w) => sameContainer(w, c));
    if (!now) {
      return { kind: "changed-since", detail: `container ${c.name} is no longer where it was` };
    }
    if (now.image !== c.to) {
      return {
        kind: "changed-since",
        detail: `container ${c.name} runs ${now.image}, not ${c.to} as Argoos wrote`,
      };
    }
    changes.push({ container: now, to: c.from });
  }
  return { kind: "revert", changes };
}

/**
 * The digests a failed rollout rejects: the named container's own when the failure names one
 * (its early sign), else every container's the rollout wrote. A record written before
 * per-container digests knew only its push's digest: it stands for the containers of that
 * repository.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failedDigests } from "./record.ts";
 * const d = (c: string) => "sha256:" + c.repeat(64);
 * const record = {
 *   containers: [
 *     { section: "containers" as const, index: 0, name: "app", from: "r/app:1", to: "r/app:2", digest: d("a") },
 *     { section: "containers" as const, index: 1, name: "side", from: "r/side:1", to: "r/side:2", digest: d("b") },
 *   ],
 *   push: { repository: "r/app", tag: "2", pushedAt: 0 },
 *   startedAt: 0,
 * };
 * assert.deepEqual(failedDigests(record, "side"), [
 *   { repository: "docker.io/r/side", tag: "2", digest: d("b") },
 * ]);
 * assert.equal(failedDigests(record, undefined).length, 2);
 * ```
 */
export function failedDigests(
  record: RolloutRecord,
  container: string | undefined,
): { repository: string; tag?: string; digest: string }[] {
  const named = container === undefined
    ? []
    : record.containers.filter((c) => c.name === container);
  const failed = named.length ? named : record.containers;
  const found = new Map<string, { repository: string; tag?: string; digest: string }>();
  for (const c of failed) {
    let ref;
    try {
      ref = parseReference(c.to);
    } catch {
      continue;
    }
    const repository = referenceRepository(ref);
    const digest = c.digest ?? ref.digest ??
      (repository === record.push.repository ? record.push.digest : undefined);
    if (!digest) continue;
    found.set(`${repository}@${digest}`, {
      repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
      digest,
    });
  }
  return [...found.values()];
}

/**
 * The reference a revert writes for a container: the one it had, carrying the digest its pods
 * ran when that reference is a tag that now names other content (`nowDigest`, the registry's
 * answer; undefined when unknown, which pins too: what ran is what is known to work).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { revertTarget } from "./record.ts";
 * const ran = "sha256:" + "a".repeat(64);
 * const moved = "sha256:" + "b".repeat(64);
 * assert.equal(revertTarget("app:latest", ran, moved), `app:latest@${ran}`);
 * assert.equal(revertTarget("app:latest", ran, ran), "app:latest");
 * assert.equal(revertTarget("app:latest", undefined, moved), "app:latest");
 * ```
 */
export function revertTarget(
  from: string,
  ran: string | undefined,
  nowDigest: string | undefined,
): string {
  if (!ran || nowDigest === ran) return from;
  let ref;
  try {
    ref = parseReference(from);
  } catch {
    return from;
  }
  return ref.digest === undefined ? formatReference({ ...ref, digest: ran }) : from;
}

/** A valid digest, undefined when absent, null when present but not a digest. */
function optionalDigest(v: unknown): string | undefined | null {
  if (v === undefined) return undefined;
  return typeof v === "string" && SHA256_DIGEST.test(v) ? v : null;
}

function text1(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

function time(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}
