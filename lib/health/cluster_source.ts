/**
 * The {@linkcode HealthSource} that reads the API server: the workload by GET, its Pods and
 * Jobs through their owner references; a CronJob's few recent Jobs by name, so each look costs
 * a bounded read however many Jobs its namespace holds.
 *
 * @module
 */

import type { CronJob, Job } from "kubernetes-types/batch/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { kindNamed } from "../workloads/kinds.ts";
import { jobPods, ownedPods, recentJobs } from "../workloads/owned.ts";
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

  /** Pods the workload owns, every revision; for a CronJob, the pods of `jobs`. */
  pods(workload: Workload, jobs: readonly Job[] = []): Promise<Pod[]> {
    return workload.kind.type.kind === "CronJob"
      ? jobPods(this.client, workload.namespace, jobs)
      : ownedPods(this.client, workload);
  }

  /** The Jobs a CronJob runs now and the one it scheduled last. */
  jobs(cronJob: KubeObject): Promise<Job[]> {
    return recentJobs(this.client, cronJob as CronJob);
  }
}
