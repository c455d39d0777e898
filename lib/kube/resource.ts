/**
 * The Kubernetes resource types Argoos talks to, and how their URL paths are built.
 *
 * @module
 */

/** Identifies a resource collection on the API server. */
export interface ResourceType {
  /** API group; `""` for the core group (`/api/v1`). */
  group: string;
  /** API version, e.g. `v1`. */
  version: string;
  /** Plural, lower-case resource name used in paths, e.g. `deployments`. */
  resource: string;
  /** Kind of one object, e.g. `Deployment`. */
  kind: string;
  /** Whether objects live in a namespace. */
  namespaced: boolean;
}

/** `apiVersion` string of a resource type, e.g. `apps/v1` or `v1`. */
export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/**
 * The URL path of a collection or of one object.
 *
 * @example
 * ```ts
 * import { DEPLOYMENTS, resourcePath } from "./resource.ts";
 * resourcePath(DEPLOYMENTS, "default", "web"); // "/apis/apps/v1/namespaces/default/deployments/web"
 * resourcePath(DEPLOYMENTS); // "/apis/apps/v1/deployments" (all namespaces)
 * ```
 */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const root = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const obj = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  return `${root}${ns}/${type.resource}${obj}`;
}

const def = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced = true,
): ResourceType => ({ group, version, resource, kind, namespaced });

/** apps/v1 Deployments. */
export const DEPLOYMENTS: ResourceType = def("apps", "v1", "deployments", "Deployment");
/** apps/v1 StatefulSets. */
export const STATEFULSETS: ResourceType = def("apps", "v1", "statefulsets", "StatefulSet");
/** apps/v1 DaemonSets. */
export const DAEMONSETS: ResourceType = def("apps", "v1", "daemonsets", "DaemonSet");
/** batch/v1 CronJobs. */
export const CRONJOBS: ResourceType = def("batch", "v1", "cronjobs", "CronJob");
/** core/v1 Events (the form `kubectl describe` shows). */
export const EVENTS: ResourceType = def("", "v1", "events", "Event");
/** core/v1 Secrets (image pull secrets). */
export const SECRETS: ResourceType = def("", "v1", "secrets", "Secret");
/** core/v1 ServiceAccounts (their image pull secrets). */
export const SERVICEACCOUNTS: ResourceType = def("", "v1", "serviceaccounts", "ServiceAccount");
/** coordination.k8s.io/v1 Leases (leader election). */
export const LEASES: ResourceType = def("coordination.k8s.io", "v1", "leases", "Lease");
/** core/v1 Pods (what a workload's containers really run: `status.containerStatuses[].imageID`). */
export const PODS: ResourceType = def("", "v1", "pods", "Pod");
/** apps/v1 ReplicaSets (the link from a Deployment to its Pods). */
export const REPLICASETS: ResourceType = def("apps", "v1", "replicasets", "ReplicaSet");
/** batch/v1 Jobs (the link from a CronJob to its Pods). */
export const JOBS: ResourceType = def("batch", "v1", "jobs", "Job");
