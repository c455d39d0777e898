/**
 * The one owner chain: the Pods (and a CronJob's Jobs) a workload owns, of every revision,
 * found the way the controllers link them, by `ownerReferences` with `controller: true`
 * (Deployment -> ReplicaSets -> Pods; StatefulSet and DaemonSet -> Pods; CronJob -> Jobs ->
 * Pods), each LIST narrowed by the workload's selector to its namespace's matching objects.
 * What the pods run (`running.ts`) and how a rollout goes (`lib/health`) both read from here.
 *
 * @module
 */

import type { Job } from "kubernetes-types/batch/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { KubeClient } from "../kube/client.ts";
import { JOBS, PODS, REPLICASETS, type ResourceType } from "../kube/resource.ts";
import type { Workload } from "./workload.ts";

/** Objects read per LIST page. */
const PAGE = 500;
/** Pages read per LIST: at most 50,000 objects looked at, and kept, per call. */
const MAX_PAGES = 100;
/**
 * Label the Job controller puts on the pods of a Job: the Job's uid. Kubernetes >= 1.27; on
 * older clusters (only `controller-uid`) a CronJob's pods are not found.
 */
const JOB_UID_LABEL = "batch.kubernetes.io/controller-uid";

/** Any object with metadata, as far as ownership goes. */
export interface OwnedObject {
  metadata?: { uid?: string; ownerReferences?: { uid?: string; controller?: boolean }[] };
}

/**
 * Pods the workload owns, of any revision (a CronJob: the Pods of its Jobs). Costs one LIST of
 * pods by the workload's selector, plus one of ReplicaSets (Deployment) or Jobs (CronJob)
 * before it; none of pods when that finds no owner. A workload without a valid selector owns
 * nothing that can be listed: empty.
 *
 * @example
 * ```ts ignore
 * import { ownedPods } from "./owned.ts";
 * const pods = await ownedPods(client, workload);
 * ```
 */
export async function ownedPods(client: KubeClient, workload: Workload): Promise<Pod[]> {
  const { namespace, selector } = workload;
  if (selector === undefined) return [];
  let podSelector = selector;
  let owners = new Set([workload.uid]);
  const kind = workload.kind.type.kind;
  if (kind === "Deployment" || kind === "CronJob") {
    const middle = kind === "Deployment"
      ? await children<OwnedObject>(client, REPLICASETS, namespace, selector, workload.uid)
      : await ownedJobs(client, workload);
    owners = new Set(middle.flatMap((o) => o.metadata?.uid ? [o.metadata.uid] : []));
    if (owners.size === 0) return [];
    if (kind === "CronJob") podSelector = `${JOB_UID_LABEL} in (${[...owners].join(",")})`;
  }
  const pods: Pod[] = [];
  await eachItem<Pod>(client, PODS, namespace, podSelector, (pod) => {
    if (owners.has(controllerUid(pod) ?? "")) pods.push(pod);
  });
  return pods;
}

/**
 * Jobs a CronJob owns (by its job template's labels, then owner references).
 *
 * @example
 * ```ts ignore
 * import { ownedJobs } from "./owned.ts";
 * const jobs = await ownedJobs(client, cronJob);
 * ```
 */
export function ownedJobs(client: KubeClient, cronJob: Workload): Promise<Job[]> {
  if (cronJob.selector === undefined) return Promise.resolve([]);
  return children<Job>(client, JOBS, cronJob.namespace, cronJob.selector, cronJob.uid);
}

/** Objects of `type` matching `selector` whose controller is `uid`. */
async function children<T extends OwnedObject>(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  selector: string,
  uid: string,
): Promise<T[]> {
  const found: T[] = [];
  await eachItem<T>(client, type, namespace, selector, (o) => {
    if (controllerUid(o) === uid) found.push(o);
  });
  return found;
}

/**
 * The uid of the object's controller (its `ownerReferences` entry with `controller: true`):
 * the one link the owner chain follows.
 *
 * @example
 * ```ts
 * import { controllerUid } from "./owned.ts";
 * controllerUid({ metadata: { ownerReferences: [{ uid: "u1", controller: true }] } }); // "u1"
 * ```
 */
export function controllerUid(o: OwnedObject): string | undefined {
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
