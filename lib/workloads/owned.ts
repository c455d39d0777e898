/**
 * The one owner chain: the Pods (and a CronJob's Jobs) a workload owns, of every revision,
 * found the way the controllers link them, by `ownerReferences` with `controller: true`
 * (Deployment -> ReplicaSets -> Pods; StatefulSet and DaemonSet -> Pods; CronJob -> Jobs ->
 * Pods), each LIST narrowed by the workload's selector to its namespace's matching objects.
 * What the pods run (`running.ts`) and how a rollout goes (`lib/health`) both read from here.
 *
 * @module
 */

import type { CronJob, Job } from "kubernetes-types/batch/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { CRONJOBS, JOBS, PODS, REPLICASETS, type ResourceType } from "../kube/resource.ts";
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
 * Pods the workload owns, of any revision (a CronJob: the Pods of the Jobs it runs and last
 * scheduled, {@linkcode recentJobs}). Costs one LIST of pods by the workload's selector, plus
 * one of ReplicaSets (Deployment), or for a CronJob a GET of it and of those few Jobs by name,
 * never a LIST of Jobs; none of pods when that finds no owner. A workload without a valid
 * selector owns nothing that can be listed: empty.
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
  const kind = workload.kind.type.kind;
  if (kind === "CronJob") {
    let cronJob: CronJob;
    try {
      cronJob = await client.get<CronJob>(CRONJOBS, namespace, workload.name);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return [];
      throw e;
    }
    return jobPods(client, namespace, await recentJobs(client, cronJob));
  }
  let owners = new Set([workload.uid]);
  if (kind === "Deployment") {
    const sets = await children<OwnedObject>(
      client,
      REPLICASETS,
      namespace,
      selector,
      workload.uid,
    );
    owners = uids(sets);
    if (owners.size === 0) return [];
  }
  return podsOf(client, namespace, selector, owners);
}

/**
 * The Pods of these Jobs: one LIST narrowed to them by the label the Job controller puts on its
 * pods (their Job's uid), so it reads only their pods however many the namespace holds.
 *
 * @example
 * ```ts ignore
 * import { jobPods } from "./owned.ts";
 * const pods = await jobPods(client, "default", jobs);
 * ```
 */
export function jobPods(
  client: KubeClient,
  namespace: string,
  jobs: readonly OwnedObject[],
): Promise<Pod[]> {
  const owners = uids(jobs);
  if (owners.size === 0) return Promise.resolve([]);
  return podsOf(client, namespace, `${JOB_UID_LABEL} in (${[...owners].join(",")})`, owners);
}

/** Jobs read by {@linkcode recentJobs} per call, at most. */
export const MAX_RECENT_JOBS = 5;

/**
 * The Jobs a CronJob's schedule made that can still tell how its current template does: those
 * it runs now (`status.active`, the newest few) and the one it scheduled last, which the CronJob
 * controller names `<cronjob>-<lastScheduleTime in minutes>`. Each is read by name (at most
 * {@linkcode MAX_RECENT_JOBS} GETs, however many Jobs the namespace holds) and kept only when
 * the CronJob is its controller. Jobs created by hand are not among them.
 *
 * @example
 * ```ts ignore
 * import { recentJobs } from "./owned.ts";
 * const jobs = await recentJobs(client, cronJob);
 * ```
 */
export async function recentJobs(client: KubeClient, cronJob: CronJob): Promise<Job[]> {
  const meta = cronJob.metadata ?? {};
  const names = (cronJob.status?.active ?? []).flatMap((r) => r.name ? [r.name] : []);
  const last = Date.parse(cronJob.status?.lastScheduleTime ?? "");
  if (!Number.isNaN(last)) names.push(`${meta.name}-${Math.floor(last / 60_000)}`);
  const wanted = [...new Set(names)].slice(-MAX_RECENT_JOBS);
  const jobs = await Promise.all(wanted.map(async (name) => {
    try {
      return await client.get<Job>(JOBS, meta.namespace, name);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }));
  return jobs.filter((j): j is Job => j !== undefined && controllerUid(j) === meta.uid);
}

/** Pods matching `selector` whose controller is one of `owners`. */
async function podsOf(
  client: KubeClient,
  namespace: string,
  selector: string,
  owners: Set<string>,
): Promise<Pod[]> {
  const pods: Pod[] = [];
  await eachItem<Pod>(client, PODS, namespace, selector, (pod) => {
    if (owners.has(controllerUid(pod) ?? "")) pods.push(pod);
  });
  return pods;
}

function uids(objects: readonly OwnedObject[]): Set<string> {
  return new Set(objects.flatMap((o) => o.metadata?.uid ? [o.metadata.uid] : []));
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
