/**
 * The JSON patch that changes container images and nothing else.
 *
 * @module
 */

import { POLICY_LABEL } from "../policy/policy.ts";
import { podSpecPointer, type WorkloadKind } from "../workloads/kinds.ts";
import type { ContainerImage } from "../workloads/workload.ts";

/** One RFC 6902 operation, of the kinds this patch uses. */
export interface PatchOperation {
  op: "test" | "replace";
  path: string;
  value: string;
}

/** A container and the image it should run. */
export interface ImageChange {
  container: ContainerImage;
  to: string;
}

/**
 * Build one JSON patch for a workload: a `test` of the policy label it was decided
 * under, then for each changed container a `test` of its name and of the image it
 * replaces, and the `replace`. If anyone changed any of these since we read the
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
): PatchOperation[] {
  if (changes.length === 0) return [];
  const label: PatchOperation = { op: "test", path: LABEL_POINTER, value: policyLabel };
  return [
    label,
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

// RFC 6901 escapes "/" in a key as "~1" (and "~" as "~0").
const LABEL_KEY = POLICY_LABEL.replaceAll("~", "~0").replaceAll("/", "~1");
const LABEL_POINTER = `/metadata/labels/${LABEL_KEY}`;
