/**
 * Builds plain workload API objects (Deployment, StatefulSet, DaemonSet, CronJob) for
 * seeding the fake API server in tests.
 *
 * @module
 */

/** A container as written in a pod spec. */
export interface ContainerSpec {
  name: string;
  image: string;
}

/** What {@linkcode deployment} builds. */
export interface WorkloadSpec {
  name: string;
  /** Default "default". */
  namespace?: string;
  /** Value of the `argoos.io/policy` label; omitted for an unlabelled workload. */
  policy?: string;
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  /** Extra labels, merged with the policy label. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Default "Deployment". */
  kind?: "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob";
  /** Extra pod spec fields (imagePullSecrets, serviceAccountName, …). */
  podSpec?: Record<string, unknown>;
}

/**
 * A plain workload object for `fake.put`, with the pod template where its kind keeps it
 * (`spec.jobTemplate.spec.template` for CronJobs).
 *
 * @example
 * ```ts
 * import { deployment } from "./workload_object.ts";
 * const obj = deployment({ name: "web", policy: "patch", containers: [{ name: "app", image: "myapp:1.2.3" }] });
 * obj.kind; // "Deployment"
 * ```
 */
export function deployment(spec: WorkloadSpec): Record<string, unknown> {
  const kind = spec.kind ?? "Deployment";
  const labels = {
    ...spec.labels,
    ...(spec.policy === undefined ? {} : { "argoos.io/policy": spec.policy }),
  };
  const podSpec: Record<string, unknown> = {
    ...spec.podSpec,
    containers: spec.containers.map((c) => ({ ...c })),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map((c) => ({ ...c })) } : {}),
  };
  const template = { metadata: { labels: { app: spec.name } }, spec: podSpec };
  const body = kind === "CronJob"
    ? { schedule: "*/5 * * * *", jobTemplate: { spec: { template } } }
    : { selector: { matchLabels: { app: spec.name } }, template };
  return {
    apiVersion: kind === "CronJob" ? "batch/v1" : "apps/v1",
    kind,
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? "default",
      labels,
      ...(spec.annotations ? { annotations: { ...spec.annotations } } : {}),
    },
    spec: body,
  };
}

/**
 * The container images of a stored workload object, `name=image`, init containers first.
 *
 * @example
 * ```ts
 * import { deployment, imagesOf } from "./workload_object.ts";
 * imagesOf(deployment({ name: "web", containers: [{ name: "app", image: "a:1" }] })); // ["app=a:1"]
 * ```
 */
export function imagesOf(obj: Record<string, unknown> | undefined): string[] {
  const spec = obj?.spec as WorkloadBody | undefined;
  const pod = spec?.jobTemplate?.spec?.template?.spec ?? spec?.template?.spec ?? {};
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])].map(
    (c) => `${c.name}=${c.image}`,
  );
}

interface PodSpecView {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
}

/** Where the workload kinds keep their pod template. */
interface WorkloadBody {
  template?: { spec?: PodSpecView };
  jobTemplate?: { spec?: { template?: { spec?: PodSpecView } } };
}
