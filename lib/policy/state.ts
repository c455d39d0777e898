/**
 * `argoos.io/state`: what each container of a workload runs, as Argoos last wrote or saw it
 * (image, digest, and the push time of that image), kept on the workload and written in the
 * same guarded patch as the image, so any replica after any restart knows an older push as
 * older.
 *
 * @module
 */

import { containerEntries } from "../parse/object.ts";

/**
 * Annotation holding
 * `{"<container>": {"image": "...", "digest": "sha256:...", "pushedAt": ms, "written": true}}`.
 */
export const STATE_ANNOTATION = "argoos.io/state";
/** The annotation `argoos.io/state` replaces (`{"<container>": {image, digest}}`); read once. */
export const LEGACY_DIGESTS_ANNOTATION = "argoos.io/digests";

/** What one container runs. */
export interface ContainerState {
  /** The image text the entry was recorded for. */
  image: string;
  /** The digest written, when known. */
  digest?: string;
  /** ms epoch: registry push time of that image; absent when it was not placed by a push. */
  pushedAt?: number;
  /**
   * Argoos wrote `image` there (not only saw it): a different image in the spec is then a
   * person's change (spec "People decide last").
   */
  written?: boolean;
}

/** State by container name. */
export type WorkloadState = Record<string, ContainerState>;

function parse(text: string | undefined): WorkloadState | undefined {
  if (text === undefined) return undefined;
  const state: WorkloadState = {};
  for (const [name, v] of containerEntries(text)) {
    if (typeof v.image !== "string") continue;
    state[name] = {
      image: v.image,
      ...(typeof v.digest === "string" ? { digest: v.digest } : {}),
      ...(typeof v.pushedAt === "number" ? { pushedAt: v.pushedAt } : {}),
      ...(v.written === true ? { written: true } : {}),
    };
  }
  return state;
}

/**
 * The state recorded on a workload: `argoos.io/state`, else the older `argoos.io/digests`;
 * entries that do not parse are left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readState } from "./state.ts";
 * const d = "sha256:" + "a".repeat(64);
 * assert.deepEqual(
 *   readState({ "argoos.io/digests": JSON.stringify({ app: { image: "a:latest", digest: d } }) }),
 *   { app: { image: "a:latest", digest: d } },
 * );
 * ```
 */
export function readState(annotations: Readonly<Record<string, string>>): WorkloadState {
  return parse(annotations[STATE_ANNOTATION]) ?? parse(annotations[LEGACY_DIGESTS_ANNOTATION]) ??
    {};
}

/**
 * The annotation writes that record `changes` beside the existing state, without the entries
 * of the containers `removed` (and drop the older annotation), for the write path's patch;
 * empty when nothing changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateAnnotations } from "./state.ts";
 * assert.deepEqual(stateAnnotations({}, { app: { image: "a:2", pushedAt: 5 } }),
 *   { "argoos.io/state": '{"app":{"image":"a:2","pushedAt":5}}' });
 * const both = { "argoos.io/state": '{"app":{"image":"a:2"},"side":{"image":"s:1"}}' };
 * assert.deepEqual(stateAnnotations(both, {}, ["app"]),
 *   { "argoos.io/state": '{"side":{"image":"s:1"}}' });
 * ```
 */
export function stateAnnotations(
  annotations: Readonly<Record<string, string>>,
  changes: WorkloadState,
  removed: readonly string[] = [],
): Record<string, string | null> {
  const after = { ...readState(annotations), ...changes };
  for (const name of removed) delete after[name];
  const writes: Record<string, string | null> = {};
  const text = JSON.stringify(after);
  if (Object.keys(changes).length + removed.length > 0 && text !== annotations[STATE_ANNOTATION]) {
    writes[STATE_ANNOTATION] = text;
  }
  if (annotations[LEGACY_DIGESTS_ANNOTATION] !== undefined && writes[STATE_ANNOTATION]) {
    writes[LEGACY_DIGESTS_ANNOTATION] = null;
  }
  return writes;
}
