/**
 * What a workload's pods run now, by manifest digest: read from the `imageID` the kubelet
 * reports in each pod's container statuses, for the pods the workload owns (by
 * ownerReferences, never by labels alone).
 *
 * @module
 */

import { SHA256_DIGEST } from "../image/reference.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { ownedPods } from "./owned.ts";
import type { Workload } from "./workload.ts";

/**
 * The manifest digest in a container status `imageID`, or undefined when it names none.
 * containerd and CRI-O report `docker.io/library/nginx@sha256:…` (the digest it was pulled
 * by: the index digest for a multi-arch image), dockershim `docker-pullable://nginx@sha256:…`.
 * A bare `sha256:…` (or `docker://sha256:…`) is the local image ID, the config digest of an
 * image loaded without a registry: not a manifest digest, so undefined; `""` (not pulled yet)
 * too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageIdDigest } from "./running.ts";
 * const digest = `sha256:${"a".repeat(64)}`;
 * assert.equal(imageIdDigest(`docker.io/library/nginx@${digest}`), digest);
 * assert.equal(imageIdDigest(digest), undefined);
 * ```
 */
export function imageIdDigest(imageID: string | undefined): string | undefined {
  const at = imageID?.lastIndexOf("@") ?? -1;
  const digest = imageID?.slice(at + 1);
  return at >= 0 && SHA256_DIGEST.test(digest!) ? digest : undefined;
}

/**
 * Container name -> `sha256:…` manifest digest `pods` run for the image `images` names for
 * that container, for each container (and init container) whose pods all agree: pods whose
 * spec has another image for it (another revision) are not counted, nor those reporting no
 * imageID for it (not pulled yet). A container is left out, meaning "unknown", when no such pod
 * exists, when one reports no manifest digest (see {@linkcode imageIdDigest}), or when pods
 * disagree (a tag that moved while nodes kept what they had pulled): the caller must then not
 * assume what runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { podDigests } from "./running.ts";
 * const digest = `sha256:${"a".repeat(64)}`;
 * const imageID = `docker.io/library/app@${digest}`;
 * const pod = {
 *   spec: { containers: [{ name: "app", image: "app:1" }] },
 *   status: {
 *     containerStatuses: [{ name: "app", image: "app:1", imageID, ready: true, restartCount: 0 }],
 *   },
 * };
 * assert.deepEqual(podDigests([pod], new Map([["app", "app:1"]])), new Map([["app", digest]]));
 * assert.deepEqual(podDigests([pod], new Map([["app", "app:2"]])), new Map());
 * ```
 */
export function podDigests(
  pods: readonly Pod[],
  images: ReadonlyMap<string, string>,
): Map<string, string> {
  /** Per container: the digests seen (undefined = a pod ran it with no manifest digest). */
  const seen = new Map<string, Set<string | undefined>>(); // at most one entry per container
  for (const pod of pods) {
    const specImage = new Map(
      [...pod.spec?.initContainers ?? [], ...pod.spec?.containers ?? []].map((c) => [
        c.name,
        c.image,
      ]),
    );
    const statuses = [
      ...pod.status?.initContainerStatuses ?? [],
      ...pod.status?.containerStatuses ?? [],
    ];
    for (const { name, imageID } of statuses) {
      if (!name || !imageID || !images.has(name) || specImage.get(name) !== images.get(name)) {
        continue;
      }
      const digests = seen.get(name) ?? new Set();
      digests.add(imageIdDigest(imageID));
      seen.set(name, digests);
    }
  }
  const running = new Map<string, string>();
  for (const [name, digests] of seen) {
    const [only] = digests;
    if (digests.size === 1 && only) running.set(name, only);
  }
  return running;
}

/**
 * Container name -> `sha256:…` manifest digest the workload's pods run now for its current
 * images ({@linkcode podDigests} of the pods it owns: {@linkcode ownedPods}).
 *
 * Costs what {@linkcode ownedPods} costs (two LISTs at most). A workload without a valid
 * selector gives an empty map. `onPods` is shown the pods read (the status page keeps a
 * summary of them instead of asking again).
 *
 * @example
 * ```ts ignore
 * import { runningDigests } from "./running.ts";
 * const running = await runningDigests(kube, workload);
 * running.get("app"); // "sha256:…" or undefined when unknown
 * ```
 */
export async function runningDigests(
  client: KubeClient,
  workload: Workload,
  onPods?: (pods: readonly Pod[]) => void,
): Promise<Map<string, string>> {
  const pods = await ownedPods(client, workload);
  onPods?.(pods);
  return podDigests(pods, new Map(workload.containers.map((c) => [c.name, c.image])));
}
