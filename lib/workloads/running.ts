/**
 * What a workload's pods run now, by manifest digest: read from the `imageID` the kubelet
 * reports in each pod's container statuses, for the pods the workload owns (by
 * ownerReferences, never by labels alone).
 *
 * @module
 */

import type { KubeClient } from "../kube/client.ts";
import { JOBS, PODS, REPLICASETS, type ResourceType } from "../kube/resource.ts";
import type { Workload } from "./workload.ts";

/** Objects read per LIST page; memory holds one page at a time. */
const PAGE = 500;
/** Pages read per LIST (so at most 50,000 objects looked at per call). */
const MAX_PAGES = 100;
/**
 * Label the Job controller puts on the pods of a Job: the Job's uid. Kubernetes >= 1.27; on
 * older clusters (only `controller-uid`) a CronJob's running digests are unknown.
 */
const JOB_UID_LABEL = "batch.kubernetes.io/controller-uid";
const REPO_DIGEST = /@(sha256:[0-9a-f]{64})$/;

interface OwnerReference {
  uid?: string;
  controller?: boolean;
}

interface OwnedObject {
  metadata?: { uid?: string; ownerReferences?: OwnerReference[] };
}

interface PodView extends OwnedObject {
  spec?: {
    containers?: { name?: string; image?: string }[];
    initContainers?: { name?: string; image?: string }[];
  };
  status?: {
    containerStatuses?: { name?: string; imageID?: string }[];
    initContainerStatuses?: { name?: string; imageID?: string }[];
  };
}

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
  return REPO_DIGEST.exec(imageID ?? "")?.[1];
}

/**
 * Container name -> `sha256:…` manifest digest the workload's pods run now, for each
 * container (and init container) whose pods all agree.
 *
 * Pods counted: those the workload owns through controller ownerReferences (Deployment ->
 * ReplicaSet -> Pod; StatefulSet and DaemonSet -> Pod; CronJob -> Job -> Pod) whose spec image
 * for that container is the workload's current image for it, and that report an imageID for
 * it (a container not pulled yet is skipped). A container is left out, meaning "unknown",
 * when no such pod exists, when one reports no manifest digest (see
 * {@linkcode imageIdDigest}), or when pods disagree (a rollout under way, or a tag that moved
 * while nodes kept what they had pulled): the caller must then not assume what runs.
 *
 * Costs one LIST of pods by the workload's selector in its namespace, plus one of ReplicaSets
 * (Deployment) or Jobs (CronJob) before it; CronJob pods are listed by their Jobs' uids
 * (label `batch.kubernetes.io/controller-uid`). Reading stops after {@linkcode MAX_PAGES}
 * pages of {@linkcode PAGE} objects per LIST. A workload without a valid selector gives an
 * empty map.
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
): Promise<Map<string, string>> {
  const { namespace, selector } = workload;
  if (selector === undefined) return new Map();
  let podSelector = selector;
  let podOwners = new Set([workload.uid]);
  if (workload.kind.type.kind === "Deployment" || workload.kind.type.kind === "CronJob") {
    const middle = workload.kind.type.kind === "Deployment" ? REPLICASETS : JOBS;
    podOwners = new Set();
    await eachItem<OwnedObject>(client, middle, namespace, selector, (o) => {
      if (controllerUid(o) === workload.uid && o.metadata?.uid) podOwners.add(o.metadata.uid);
    });
    if (podOwners.size === 0) return new Map();
    if (middle === JOBS) podSelector = `${JOB_UID_LABEL} in (${[...podOwners].join(",")})`;
  }
  const want = new Map(workload.containers.map((c) => [c.name, c.image]));
  /** Per container: the digests seen (undefined = a pod ran it with no manifest digest). */
  const seen = new Map<string, Set<string | undefined>>(); // at most one entry per container
  await eachItem<PodView>(client, PODS, namespace, podSelector, (pod) => {
    if (!podOwners.has(controllerUid(pod) ?? "")) return;
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
      if (!name || !imageID || !want.has(name) || specImage.get(name) !== want.get(name)) {
        continue;
      }
      const digests = seen.get(name) ?? new Set();
      digests.add(imageIdDigest(imageID));
      seen.set(name, digests);
    }
  });
  const running = new Map<string, string>();
  for (const [name, digests] of seen) {
    const [only] = digests;
    if (digests.size === 1 && only) running.set(name, only);
  }
  return running;
}

function controllerUid(o: OwnedObject): string | undefined {
  return o.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
}

/** Each item of a paged LIST, one page in memory at a time, up to MAX_PAGES pages. */
async function eachItem<T>(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  labelSelector: string,
  visit: (item: T) => void,
): Promise<void> {
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await client.list<T>(type, {
      namespace,
      labelSelector: labelSelector || undefined,
      limit: PAGE,
      continue: next,
    });
    list.items.forEach(visit);
    next = list.metadata.continue;
    if (!next) return;
  }
}
