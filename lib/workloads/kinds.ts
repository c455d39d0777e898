/**
 * The workload kinds Argoos rolls out, and where each keeps its pod template.
 *
 * @module
 */

import {
  CRONJOBS,
  DAEMONSETS,
  DEPLOYMENTS,
  type ResourceType,
  STATEFULSETS,
} from "../kube/resource.ts";

/** A kind of workload: its API resource and the path to its pod spec. */
export interface WorkloadKind {
  /** The API resource of the kind. */
  readonly type: ResourceType;
  /** Keys from the object root to the pod spec (`spec.template.spec`, …). */
  readonly podSpecPath: readonly string[];
}

const TEMPLATE = ["spec", "template", "spec"];

/** Deployments, StatefulSets, DaemonSets and CronJobs (pod template under `spec.jobTemplate`). */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  { type: DEPLOYMENTS, podSpecPath: TEMPLATE },
  { type: STATEFULSETS, podSpecPath: TEMPLATE },
  { type: DAEMONSETS, podSpecPath: TEMPLATE },
  { type: CRONJOBS, podSpecPath: ["spec", "jobTemplate", "spec", "template", "spec"] },
];

/**
 * The kind with this `kind` name (`Deployment`, …), or undefined.
 *
 * @example
 * ```ts
 * import { kindNamed } from "./kinds.ts";
 * kindNamed("CronJob")?.podSpecPath.join("."); // "spec.jobTemplate.spec.template.spec"
 * ```
 */
export function kindNamed(kind: string): WorkloadKind | undefined {
  return WORKLOAD_KINDS.find((k) => k.type.kind === kind);
}

/**
 * The JSON pointer of a pod spec field, e.g. `/spec/template/spec/containers/0/image`.
 *
 * @example
 * ```ts
 * import { kindNamed, podSpecPointer } from "./kinds.ts";
 * podSpecPointer(kindNamed("Deployment")!, "containers", 0, "image");
 * // "/spec/template/spec/containers/0/image"
 * ```
 */
export function podSpecPointer(kind: WorkloadKind, ...rest: (string | number)[]): string {
  return "/" + [...kind.podSpecPath, ...rest].join("/");
}
