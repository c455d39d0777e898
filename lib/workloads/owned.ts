/**
 * The Pods (and a CronJob's Jobs) a workload owns, of every revision, found the way the
 * controllers link them: by `ownerReferences` with `controller: true` (Deployment ->
 * ReplicaSets -> Pods; StatefulSet and DaemonSet -> Pods; CronJob -> Jobs -> Pods), each list
 * narrowed by the owner's label selector so only its namespace's matching objects are read.
 *
 * @module
 */

import type { ReplicaSet } from "kubernetes-types/apps/v1.d.ts";
import type { Job } from "kubernetes-types/batch/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LabelSelector } from "kubernetes-types/meta/v1.d.ts";
import type { KubeClient } from "../kube/client.ts";
import { JOBS, PODS, REPLICASETS, type ResourceType } from "../kube/resource.ts";
import type { KubeObject } from "./workload.ts";

interface Owned {
  metadata?: {
    uid?: string;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
  spec?: { selector?: LabelSelector };
}

/**
 * A label selector as the `labelSelector` query parameter writes it.
 *
 * @example
 * ```ts
 * import { selectorText } from "./owned.ts";
 * selectorText({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] });
 * // "app=web,tier in (a,b)"
 * ```
 */
export function selectorText(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = `(${(e.values ?? []).join(",")})`;
    if (e.operator === "In") parts.push(`${e.key} in ${values}`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin ${values}`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

/**
 * Pods the workload owns, of any revision (a CronJob: the Pods of its Jobs).
 *
 * @example
 * ```ts ignore
 * import { ownedPods } from "./owned.ts";
 * const pods = await ownedPods(client, "Deployment", deploymentObject);
 * ```
 */
export async function ownedPods(
  client: KubeClient,
  kind: string,
  workload: KubeObject,
): Promise<Pod[]> {
  const owners: Owned[] = kind === "Deployment"
    ? await children<ReplicaSet>(client, REPLICASETS, workload as Owned)
    : kind === "CronJob"
    ? await ownedJobs(client, workload)
    : [workload as Owned];
  const pods = await Promise.all(owners.map((o) => children<Pod>(client, PODS, o, workload)));
  return pods.flat();
}

/**
 * Jobs a CronJob owns.
 *
 * @example
 * ```ts ignore
 * import { ownedJobs } from "./owned.ts";
 * const jobs = await ownedJobs(client, cronJobObject);
 * ```
 */
export function ownedJobs(client: KubeClient, cronJob: KubeObject): Promise<Job[]> {
  // A CronJob has no selector; its Jobs are few (history limits 3 and 1 by default).
  return children<Job>(client, JOBS, { metadata: cronJob.metadata as Owned["metadata"] }, cronJob);
}

/** Objects of `type` in the workload's namespace whose controller is `owner`. */
async function children<T extends { metadata?: Owned["metadata"] }>(
  client: KubeClient,
  type: ResourceType,
  owner: Owned,
  workload: KubeObject = owner as KubeObject,
): Promise<T[]> {
  const { items } = await client.listAll<T>(type, {
    namespace: workload.metadata?.namespace,
    labelSelector: selectorText(owner.spec?.selector) || undefined,
  });
  const uid = owner.metadata?.uid;
  return items.filter((o) =>
    o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid)
  );
}
