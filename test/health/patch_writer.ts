/**
 * A stand-in for the single guarded write path (issue 7) in tests of the rollout tracker: one
 * JSON patch with the image patch's `test`s, a `test` of each expected annotation, the image
 * `replace`s and the annotation writes; a failed `test` (422) is "guard-failed".
 *
 * @module
 */

import type { KubeClient } from "../../lib/kube/client.ts";
import { KubeApiError } from "../../lib/kube/errors.ts";
import { imagePatch } from "../../lib/rollout/image_patch.ts";
import type { GuardedWrite, GuardedWriter, WriteResult } from "../../lib/health/tracker.ts";
import type { Workload } from "../../lib/workloads/workload.ts";

const pointer = (key: string) =>
  `/metadata/annotations/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;

/**
 * Writes through a JSON patch, as the real write path does.
 *
 * @example
 * ```ts ignore
 * import { JsonPatchWriter } from "./patch_writer.ts";
 * await new JsonPatchWriter(client).write(workload, { changes: [], annotations: {}, expect: {} });
 * ```
 */
export class JsonPatchWriter implements GuardedWriter {
  /** Every patch sent, in order. */
  readonly patches: unknown[][] = [];

  constructor(private readonly client: KubeClient) {}

  async write(w: Workload, { changes, annotations, expect }: GuardedWrite): Promise<WriteResult> {
    const ops: unknown[] = imagePatch(w.kind, w.policyLabel, changes);
    for (const [key, value] of Object.entries(expect)) {
      // JSON patch cannot test for absence; the image tests guard those writes.
      if (value !== null) ops.push({ op: "test", path: pointer(key), value });
    }
    if (Object.keys(w.annotations).length === 0) {
      ops.push({ op: "add", path: "/metadata/annotations", value: {} });
    }
    for (const [key, value] of Object.entries(annotations)) {
      if (value !== null) ops.push({ op: "add", path: pointer(key), value });
      else if (key in w.annotations) ops.push({ op: "remove", path: pointer(key) });
    }
    this.patches.push(ops);
    try {
      await this.client.patch(w.kind.type, w.namespace, w.name, ops, "json");
      return "applied";
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 422) return "guard-failed";
      throw e;
    }
  }
}
