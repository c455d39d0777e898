/**
 * The one guarded JSON patch Argoos writes: container images, and the annotations Argoos keeps
 * on a workload, in the same patch.
 *
 * @module
 */

import { POLICY_LABEL } from "../policy/policy.ts";
import { podSpecPointer, type WorkloadKind } from "../workloads/kinds.ts";
import type { ContainerImage } from "../workloads/workload.ts";

/** One RFC 6902 operation, of the kinds this patch uses. */
export interface PatchOperation {
  op: "test" | "replace" | "add" | "remove";
  path: string;
  value?: unknown;
}

/** Annotation writes (`null` removes) and what the workload held when it was read. */
export interface AnnotationWrites {
  /** The workload's annotations as read (at least those written or expected). */
  before: Readonly<Record<string, string>>;
  /** Whether the workload has an annotations map at all: without one, the map is added. */
  hasAnnotations: boolean;
  /** The workload's resourceVersion as read. */
  resourceVersion: string;
  writes: Readonly<Record<string, string | null>>;
  /**
   * Annotations that must still hold the value read (null: absent) for the patch to apply,
   * written or not: e.g. the rollout record a revert is decided from.
   */
  expect?: Readonly<Record<string, string | null>>;
}

/** A container and the image it should run. */
export interface ImageChange {
  container: ContainerImage;
  to: string;
}

/**
 * Build one JSON patch for a workload: a `test` of the policy label it was decided
 * under, the guarded annotation writes, then for each changed container a `test` of its
 * name and of the image it replaces, and the `replace`. If anyone changed any of these since we read the
 * workload (a new image, a new policy, an opt-out), the API server refuses the whole
 * patch instead of letting us act on a stale decision.
 *
 * @example
 * ```ts
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { imagePatch } from "./image_patch.ts";
 * imagePatch(kindNamed("Deployment")!, "patch", [{
 *   container: { section: "containers", index: 0, name: "app", image: "myapp:1.2.3" },
 *   to: "myapp:1.2.4",
 * }]);
 * // [{op:"test",path:"/metadata/labels/argoos.io~1policy",value:"patch"},
 * //  {op:"test",path:"/spec/template/spec/containers/0/name",value:"app"},
 * //  {op:"test",path:"/spec/template/spec/containers/0/image",value:"myapp:1.2.3"},
 * //  {op:"replace",path:"/spec/template/spec/containers/0/image",value:"myapp:1.2.4"}]
 * ```
 */
export function imagePatch(
  kind: WorkloadKind,
  policyLabel: string,
  changes: readonly ImageChange[],
  annotations?: AnnotationWrites,
): PatchOperation[] {
  const notes = annotations ? annotationOps(annotations) : [];
  // Expectations alone write nothing.
  if (changes.length === 0 && notes.every((op) => op.op === "test")) return [];
  const label: PatchOperation = { op: "test", path: LABEL_POINTER, value: policyLabel };
  return [
    label,
    ...notes,
    ...changes.flatMap(({ container: c, to }): PatchOperation[] => {
      const image = podSpecPointer(kind, c.section, c.index, "image");
      return [
        { op: "test", path: podSpecPointer(kind, c.section, c.index, "name"), value: c.name },
        { op: "test", path: image, value: c.image },
        { op: "replace", path: image, value: to },
      ];
    }),
  ];
}

/**
 * Annotation writes, each guarded: a `test` of the value read before a `replace` or `remove`,
 * and, for a key that was absent, a `test` of the resourceVersion, so a write made by another
 * replica since the read is never overwritten. Expected values are tested too: a string by a
 * `test` of the key; an absence by a `test` of null (the API server's JSON patch takes a
 * missing member for null), or of the resourceVersion when there is no annotations map.
 */
function annotationOps(a: AnnotationWrites): PatchOperation[] {
  const entries = Object.entries(a.writes).filter(([k, v]) =>
    v !== null || a.before[k] !== undefined
  );
  const ops: PatchOperation[] = [];
  const expected = Object.entries(a.expect ?? {});
  const absent = entries.some(([k]) => a.before[k] === undefined) ||
    !a.hasAnnotations && expected.some(([, v]) => v === null);
  if (absent) {
    ops.push({ op: "test", path: "/metadata/resourceVersion", value: a.resourceVersion });
  }
  for (const [key, value] of expected) {
    // Written keys are tested below, an absence without a map by the resourceVersion; a
    // value read other than expected fails the test.
    const tested = value === null
      ? !a.hasAnnotations
      : a.writes[key] !== undefined && a.before[key] === value;
    if (tested) continue;
    ops.push({ op: "test", path: `/metadata/annotations/${escapePointer(key)}`, value });
  }
  if (entries.length === 0) return ops;
  if (!a.hasAnnotations) {
    // No annotations map may exist: add it whole (the resourceVersion test guards it).
    ops.push({ op: "add", path: "/metadata/annotations", value: Object.fromEntries(entries) });
    return ops;
  }
  for (const [key, value] of entries) {
    const path = `/metadata/annotations/${escapePointer(key)}`;
    if (a.before[key] !== undefined) ops.push({ op: "test", path, value: a.before[key] });
    if (value === null) ops.push({ op: "remove", path });
    else ops.push({ op: a.before[key] === undefined ? "add" : "replace", path, value });
  }
  return ops;
}

const escapePointer = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

// RFC 6901 escapes "/" in a key as "~1" (and "~" as "~0").
const LABEL_POINTER = `/metadata/labels/${escapePointer(POLICY_LABEL)}`;
