/**
 * The JSON patch that changes container images and nothing else.
 *
 * @module
 */

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
 * Build one JSON patch for a workload: for each changed container a `test` of
 * its name and of the image it replaces, then the `replace`. If anyone changed
 * either since we read the workload, the API server refuses the whole patch
 * instead of letting us clobber their change.
 *
 * @example
 * ```ts
 * import { kindNamed } from "../workloads/kinds.ts";
 * import { imagePatch } from "./image_patch.ts";
 * imagePatch(kindNamed("Deployment")!, [{
 *   container: { section: "containers", index: 0, name: "app", image: "myapp:1.2.3" },
 *   to: "myapp:1.2.4",
 * }]);
 * // [{op:"test",path:"/spec/template/spec/containers/0/name",value:"app"},
 * //  {op:"test",path:"/spec/template/spec/containers/0/image",value:"myapp:1.2.3"},
 * //  {op:"replace",path:"/spec/template/spec/containers/0/image",value:"myapp:1.2.4"}]
 * ```
 */
export function imagePatch(kind: WorkloadKind, changes: readonly ImageChange[]): PatchOperation[] {
  return changes.flatMap(({ container: c, to }) => {
    const image = podSpecPointer(kind, c.section, c.index, "image");
    return [
      { op: "test", path: podSpecPointer(kind, c.section, c.index, "name"), value: c.name },
      { op: "test", path: image, value: c.image },
      { op: "replace", path: image, value: to },
    ];
  });
}
