/**
 * The {@linkcode HealthSource} that reads the API server: the workload by GET, its Pods and
 * Jobs through their owner references.
 *
 * @module
 */

import type { Job } from "kubernetes-types/batch/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { kindNamed } from "../workloads/kinds.ts";
import { ownedJobs, ownedPods } from "../workloads/owned.ts";
import type { KubeObject, Workload } from "../workloads/workload.ts";
import type { HealthSource, WorkloadRef } from "./tracker.ts";

/**
 * Reads what a rollout judgement needs from the API server.
 *
 * @example
 * ```ts ignore
 * import { KubeHealthSource } from "./cluster_source.ts";
 * const source = new KubeHealthSource(client);
 * await source.workload({ kind: "Deployment", namespace: "default", name: "web" });
 * ```
 */
export class KubeHealthSource implements HealthSource {
  constructor(private readonly client: KubeClient) {}

  /** The workload as stored; undefined once it is deleted. */
  async workload(ref: WorkloadRef): Promise<KubeObject | undefined> {
    try {
      return await this.client.get<KubeObject>(kindNamed(ref.kind)!.type, ref.namespace, ref.name);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Pods the workload owns, every revision. */
  pods(workload: Workload): Promise<Pod[]> {
    return ownedPods(this.client, workload);
  }

  /** Jobs a CronJob owns. */
  jobs(workload: Workload): Promise<Job[]> {
    return ownedJobs(this.client, workload);
  }
}
