/**
 * The resource types the fake API server serves, and lookups by URL segment or
 * by apiVersion/kind.
 *
 * @module
 */

import {
  apiVersionOf,
  CRONJOBS,
  DAEMONSETS,
  DEPLOYMENTS,
  EVENTS,
  JOBS,
  LEASES,
  PODS,
  REPLICASETS,
  type ResourceType,
  SECRETS,
  SERVICEACCOUNTS,
  STATEFULSETS,
} from "../../lib/kube/resource.ts";

/** A served resource type with the server-side traits the fake mimics. */
export interface ApiResource extends ResourceType {
  /**
   * Has a `/status` subresource: writes to the main resource keep the stored
   * `status`, and writes to `/status` change only `status`.
   */
  statusSubresource: boolean;
  /** Field selector labels beyond `metadata.name` and `metadata.namespace`. */
  fields: readonly string[];
}

const serve = (
  type: ResourceType,
  statusSubresource = false,
  fields: readonly string[] = [],
): ApiResource => ({ ...type, statusSubresource, fields });

const type = (group: string, resource: string, kind: string, namespaced = true): ResourceType => ({
  group,
  version: "v1",
  resource,
  kind,
  namespaced,
});

/**
 * Everything the fake serves.
 *
 * @example
 * ```ts
 * import { API_RESOURCES } from "./resources.ts";
 * API_RESOURCES.some((r) => r.resource === "deployments"); // true
 * ```
 */
export const API_RESOURCES: readonly ApiResource[] = [
  serve(type("", "namespaces", "Namespace", false), true, ["status.phase"]),
  serve(type("", "nodes", "Node", false), true),
  serve(SECRETS, false, ["type"]),
  serve(SERVICEACCOUNTS),
  serve(type("", "services", "Service"), true),
  serve(type("", "configmaps", "ConfigMap")),
  serve(EVENTS, false, [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ]),
  serve(PODS, true, [
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.phase",
  ]),
  serve(DEPLOYMENTS, true),
  serve(STATEFULSETS, true),
  serve(DAEMONSETS, true),
  serve(REPLICASETS, true),
  serve(CRONJOBS, true),
  serve(JOBS, true, ["status.successful"]),
  serve(LEASES),
  serve(type("events.k8s.io", "events", "Event")),
  serve(type("networking.k8s.io", "networkpolicies", "NetworkPolicy")),
  serve(type("policy", "poddisruptionbudgets", "PodDisruptionBudget"), true),
  serve(type("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false)),
  serve(type("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", false)),
  serve(type("rbac.authorization.k8s.io", "roles", "Role")),
  serve(type("rbac.authorization.k8s.io", "rolebindings", "RoleBinding")),
];

const byPath = new Map(API_RESOURCES.map((r) => [`${apiVersionOf(r)}/${r.resource}`, r]));
const byKind = new Map(API_RESOURCES.map((r) => [`${apiVersionOf(r)}/${r.kind}`, r]));

/**
 * The type served at `/apis/<group>/<version>/<resource>` (group `""` for `/api/v1`).
 *
 * @example
 * ```ts
 * import { findByPath } from "./resources.ts";
 * findByPath("apps", "v1", "deployments")?.kind; // "Deployment"
 * ```
 */
export function findByPath(
  group: string,
  version: string,
  resource: string,
): ApiResource | undefined {
  return byPath.get(`${group ? `${group}/` : ""}${version}/${resource}`);
}

/**
 * The type of objects with this apiVersion and kind.
 *
 * @example
 * ```ts
 * import { findByKind } from "./resources.ts";
 * findByKind("batch/v1", "CronJob")?.resource; // "cronjobs"
 * ```
 */
export function findByKind(apiVersion: string, kind: string): ApiResource | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

/**
 * `deployments.apps`, or `secrets` for the core group, as used in Status messages.
 *
 * @example
 * ```ts
 * import { findByKind, qualifiedResource } from "./resources.ts";
 * qualifiedResource(findByKind("apps/v1", "Deployment")!); // "deployments.apps"
 * ```
 */
export function qualifiedResource(type: ResourceType): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

/**
 * `Deployment.apps`, or `Secret` for the core group, as used in Invalid messages.
 *
 * @example
 * ```ts
 * import { findByKind, qualifiedKind } from "./resources.ts";
 * qualifiedKind(findByKind("v1", "Secret")!); // "Secret"
 * ```
 */
export function qualifiedKind(type: ResourceType): string {
  return type.group ? `${type.kind}.${type.group}` : type.kind;
}
