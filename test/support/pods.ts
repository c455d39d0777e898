/**
 * Seeds the fake API server with what the controllers would have made for a workload: a
 * Deployment's ReplicaSet and its Pods, a StatefulSet's or DaemonSet's Pods, a CronJob's Job
 * and its Pods, linked by controller ownerReferences (uid) and labelled as the controllers
 * label them, with container statuses whose `imageID` says what the pods run.
 *
 * @module
 */

import type { FakeApiServer } from "../fake_apiserver/mod.ts";

/** What {@linkcode seedPods} creates. */
export interface PodSeed {
  /**
   * The `imageID` every container status reports (containerd form:
   * `docker.io/library/myapp@sha256:…`), or one per container name; a container missing
   * from the record gets no status (not started yet).
   */
  imageID: string | Record<string, string>;
  /** Pods to create. Default 1. */
  count?: number;
  /** Spec images of the pods by container name, where they differ from the workload's. */
  images?: Record<string, string>;
  /**
   * Tells apart two generations of pods: the ReplicaSet's pod-template-hash, the Job's name
   * suffix, the controller-revision-hash. Default "1".
   */
  revision?: string;
}

/** The objects {@linkcode seedPods} stored (copies as stored, with uids). */
export interface SeededPods {
  /** The ReplicaSet (Deployment) or Job (CronJob) between workload and pods. */
  middle?: Record<string, unknown>;
  pods: Record<string, unknown>[];
}

interface Meta {
  name: string;
  namespace: string;
  uid: string;
  labels?: Record<string, string>;
}

interface Container {
  name: string;
  image: string;
}

interface Template {
  metadata?: { labels?: Record<string, string> };
  spec: { containers?: Container[]; initContainers?: Container[] };
}

/**
 * Create the pods (and ReplicaSet or Job) that `workload`, already stored in `fake`, would
 * own. The workload is read back from the fake by kind/namespace/name for its uid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startFakeApiServer } from "../fake_apiserver/mod.ts";
 * import { deployment } from "./workload_object.ts";
 * import { seedPods } from "./pods.ts";
 * const fake = await startFakeApiServer();
 * const web = fake.put(deployment({ name: "web", containers: [{ name: "app", image: "myapp:1.2.3" }] }));
 * const { pods } = seedPods(fake, web, { imageID: `docker.io/library/myapp@sha256:${"a".repeat(64)}`, count: 2 });
 * assert.equal(pods.length, 2);
 * await fake.stop();
 * ```
 */
export function seedPods(
  fake: FakeApiServer,
  workload: Record<string, unknown>,
  seed: PodSeed,
): SeededPods {
  const { apiVersion, kind } = workload as { apiVersion: string; kind: string };
  const given = workload.metadata as Meta;
  const stored = fake.get(apiVersion, kind, given.namespace, given.name);
  if (!stored) throw new Error(`seedPods: ${kind} ${given.namespace}/${given.name} not stored`);
  const meta = stored.metadata as Meta;
  const spec = stored.spec as {
    template?: Template;
    jobTemplate?: { spec: { template: Template } };
  };
  const template = kind === "CronJob" ? spec.jobTemplate!.spec.template : spec.template!;
  const revision = seed.revision ?? "1";
  const count = seed.count ?? 1;
  const podLabels = { ...template.metadata?.labels };
  const ns = meta.namespace;
  const owner = (o: { apiVersion: string; kind: string; metadata: Meta }) => [{
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    uid: o.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  }];
  const self = { apiVersion, kind, metadata: meta };

  let middle: Record<string, unknown> | undefined;
  let podOwner = self;
  let names: string[];
  if (kind === "Deployment") {
    const hash = `${revision}f8d9c7b5`.slice(0, 10);
    const labels = { ...podLabels, "pod-template-hash": hash };
    middle = fake.put({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${meta.name}-${hash}`,
        namespace: ns,
        labels,
        ownerReferences: owner(self),
      },
      spec: { replicas: count, selector: { matchLabels: labels }, template },
    });
    Object.assign(podLabels, { "pod-template-hash": hash });
    names = range(count, (i) => `${meta.name}-${hash}-${suffix(i)}`);
  } else if (kind === "CronJob") {
    const jobName = `${meta.name}-2925${revision.padStart(4, "0")}`;
    middle = fake.put({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: jobName,
        namespace: ns,
        labels: { ...(stored.spec as { jobTemplate: Template }).jobTemplate.metadata?.labels },
        ownerReferences: owner(self),
      },
      spec: { template },
    });
    const jobUid = (middle.metadata as Meta).uid;
    // Running, as the CronJob controller records it: Argoos finds a CronJob's Jobs from there.
    const status = (stored.status ?? {}) as { active?: unknown[] };
    fake.put({
      ...stored,
      status: {
        ...status,
        active: [...(status.active ?? []), {
          apiVersion: "batch/v1",
          kind: "Job",
          name: jobName,
          namespace: ns,
          uid: jobUid,
        }],
      },
    });
    Object.assign(podLabels, {
      "batch.kubernetes.io/controller-uid": jobUid,
      "batch.kubernetes.io/job-name": jobName,
      "controller-uid": jobUid,
      "job-name": jobName,
    });
    names = range(count, (i) => `${jobName}-${suffix(i)}`);
  } else {
    Object.assign(podLabels, { "controller-revision-hash": `${meta.name}-${revision}` });
    names = range(
      count,
      // StatefulSet pods keep their names across revisions; DaemonSet pods get new ones.
      (i) => kind === "StatefulSet" ? `${meta.name}-${i}` : `${meta.name}-${revision}${suffix(i)}`,
    );
  }
  if (middle) podOwner = middle as typeof self;

  const withImages = (cs: Container[] = []) =>
    cs.map((c) => ({ ...c, image: seed.images?.[c.name] ?? c.image }));
  const containers = withImages(template.spec.containers);
  const initContainers = withImages(template.spec.initContainers);
  const statusOf = (cs: Container[], done: boolean) =>
    cs.flatMap((c) => {
      const imageID = typeof seed.imageID === "string" ? seed.imageID : seed.imageID[c.name];
      if (imageID === undefined) return [];
      const state = done
        ? { terminated: { exitCode: 0, reason: "Completed" } }
        : { running: { startedAt: "2026-12-02T17:00:00Z" } };
      return [{ name: c.name, image: c.image, imageID, ready: !done, restartCount: 0, state }];
    });
  const finished = kind === "CronJob";
  const pods = names.map((name) =>
    fake.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns, labels: podLabels, ownerReferences: owner(podOwner) },
      spec: {
        ...template.spec,
        containers,
        ...(initContainers.length ? { initContainers } : {}),
      },
      status: {
        phase: finished ? "Succeeded" : "Running",
        initContainerStatuses: statusOf(initContainers, true),
        containerStatuses: statusOf(containers, finished),
      },
    })
  );
  return { middle, pods };
}

function range<T>(n: number, f: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/** A pod name suffix like the controllers' random five characters, but deterministic. */
function suffix(i: number): string {
  return `x${i.toString(36).padStart(4, "0")}`;
}
