/**
 * A labelled workload as Argoos sees it: identity, policy label and the images
 * of its containers, read from the API object.
 *
 * @module
 */

import { type ImageReference, parseReference, referenceRepository } from "../image/reference.ts";
import { POLICY_LABEL } from "../policy/policy.ts";
import type { WorkloadKind } from "./kinds.ts";
import { type LabelSelectorSpec, labelSelectorString } from "./selector.ts";

/** Annotations Argoos reads and writes all start with this. */
const ANNOTATION_PREFIX = "argoos.io/";

/**
 * Annotation holding the rollout in progress (see lib/health/record.ts); while it is there the
 * workload carries a {@linkcode Workload.statusMark}.
 */
export const ROLLOUT_ANNOTATION = "argoos.io/rollout";

/** Where a container sits in the pod spec. */
export type ContainerSection = "initContainers" | "containers";

/** One container (or init container) image of a workload. */
export interface ContainerImage {
  /** `containers` or `initContainers`. */
  section: ContainerSection;
  /** Position in its section. */
  index: number;
  /** Container name. */
  name: string;
  /** The image exactly as written in the spec. */
  image: string;
  /** Parsed reference; undefined when the image text is not a valid reference. */
  ref?: ImageReference;
  /** Normalized repository (`docker.io/library/nginx`); undefined when unparsable. */
  repository?: string;
}

/** Where a container sits: enough to find it again in a later version of the workload. */
export type ContainerPlace = Pick<ContainerImage, "section" | "index" | "name">;

/** The parts of an API object the cache, the planner and the patcher need. */
export interface Workload {
  /** The kind of workload. */
  kind: WorkloadKind;
  /** Namespace. */
  namespace: string;
  /** Name. */
  name: string;
  /** `metadata.uid`. */
  uid: string;
  /** `metadata.resourceVersion` as read. */
  resourceVersion: string;
  /** The raw `argoos.io/policy` label value (may be invalid). */
  policyLabel: string;
  /**
   * Argoos's own annotations (`argoos.io/`). The others are not kept: a `kubectl apply`
   * record of a few KiB on each of thousands of workloads would be most of the cache.
   */
  annotations: Readonly<Record<string, string>>;
  /** Whether `metadata.annotations` exists at all (a first write adds a key, not the map). */
  hasAnnotations: boolean;
  /** Containers and init containers, with their images. */
  containers: ContainerImage[];
  /** Names of the image pull secrets and the service account, for registry credentials. */
  imagePullSecrets: readonly string[];
  /** The pod template's service account. */
  serviceAccountName: string;
  /**
   * Label selector string of what the workload owns: its Pods (`spec.selector`) for
   * Deployments, StatefulSets and DaemonSets; its Jobs (`spec.jobTemplate.metadata.labels`)
   * for CronJobs. `""` selects everything in the namespace; undefined when the selector is
   * malformed. Ownership is still checked by ownerReferences (see `running.ts`).
   */
  selector?: string;
  /** A Deployment's `spec.progressDeadlineSeconds`, when set (the longest time without progress). */
  progressDeadlineSeconds?: number;
  /**
   * Who last changed the spec: the `managedFields` manager of the newest entry that touches
   * it (e.g. `kubectl-set`, `kubectl-rollout`, `argocd-controller`), where the API server keeps
   * them.
   */
  specManager?: string;
  /**
   * A hash of `status`, kept only while a rollout is in progress (`argoos.io/rollout`): the
   * watch enqueues the workload when it changes, so its rollout is followed from the
   * controller's own reports instead of a timer.
   */
  statusMark?: number;
}

/** Minimal structural view of a Kubernetes object carrying a pod template. */
export interface KubeObject {
  /** Name, namespace, labels, annotations, owners. */
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: { manager?: string; time?: string; fieldsV1?: Record<string, unknown> }[];
  };
  /** Fields Argoos does not read. */
  [key: string]: unknown;
}

interface PodSpecView {
  containers?: { name?: string; image?: string }[];
  initContainers?: { name?: string; image?: string }[];
  imagePullSecrets?: { name?: string }[];
  serviceAccountName?: string;
}

/**
 * The `namespace/name` key of a workload of a kind, e.g. `Deployment/default/web`.
 *
 * @example
 * ```ts
 * import { workloadKey } from "./workload.ts";
 * workloadKey("Deployment", "default", "web"); // "Deployment/default/web"
 * ```
 */
export function workloadKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * The work-queue key of a workload: {@linkcode workloadKey} of its kind, namespace and name.
 *
 * @example
 * ```ts
 * import { keyOf, type Workload } from "./workload.ts";
 * const w = { kind: { type: { kind: "Deployment" } }, namespace: "default", name: "web" };
 * keyOf(w as Workload); // "Deployment/default/web"
 * ```
 */
export function keyOf(w: Workload): string {
  return workloadKey(w.kind.type.kind, w.namespace, w.name);
}

/**
 * A workload as people read it in logs and messages: `Kind namespace/name`.
 *
 * @example
 * ```ts
 * import { describe, type Workload } from "./workload.ts";
 * const w = { kind: { type: { kind: "Deployment" } }, namespace: "default", name: "web" };
 * describe(w as Workload); // "Deployment default/web"
 * ```
 */
export function describe(w: Workload): string {
  return `${w.kind.type.kind} ${w.namespace}/${w.name}`;
}

/**
 * Whether two container images sit in the same place of the pod template (section, index and
 * name), i.e. are the same container seen at two times.
 *
 * @example
 * ```ts
 * import { sameContainer } from "./workload.ts";
 * const at = { section: "containers", index: 0, name: "app" } as const;
 * const before = { ...at, image: "a:1" };
 * const after = { ...at, image: "a:2" };
 * sameContainer(before, after); // true
 * ```
 */
export function sameContainer(a: ContainerPlace, b: ContainerPlace): boolean {
  return a.section === b.section && a.index === b.index && a.name === b.name;
}

function podSpecOf(kind: WorkloadKind, obj: KubeObject): PodSpecView {
  let node: unknown = obj;
  for (const key of kind.podSpecPath) {
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return (node ?? {}) as PodSpecView;
}

/**
 * Read a workload from its API object.
 *
 * @example
 * ```ts
 * import { kindNamed } from "./kinds.ts";
 * import { readWorkload } from "./workload.ts";
 * const w = readWorkload(kindNamed("Deployment")!, {
 *   metadata: { name: "web", namespace: "default", labels: { "argoos.io/policy": "minor" } },
 *   spec: { template: { spec: { containers: [{ name: "app", image: "myapp:1.2.3" }] } } },
 * });
 * w.containers[0].repository; // "docker.io/library/myapp"
 * ```
 */
export function readWorkload(kind: WorkloadKind, obj: KubeObject): Workload {
  const meta = obj.metadata ?? {};
  const pod = podSpecOf(kind, obj);
  // map and concat size the array exactly: one grown by push keeps room for 17 (~110 B more).
  const main = (pod.containers ?? []).map((c, i) => containerImage("containers", i, c));
  const containers = pod.initContainers?.length
    ? pod.initContainers.map((c, i) => containerImage("initContainers", i, c)).concat(main)
    : main;
  return {
    kind,
    namespace: intern(meta.namespace ?? ""),
    name: meta.name ?? "",
    uid: meta.uid ?? "",
    resourceVersion: meta.resourceVersion ?? "",
    policyLabel: intern(meta.labels?.[POLICY_LABEL] ?? ""),
    annotations: ownAnnotations(meta.annotations),
    hasAnnotations: meta.annotations != null,
    containers,
    imagePullSecrets: pullSecretNames(pod.imagePullSecrets),
    serviceAccountName: pod.serviceAccountName || "default",
    selector: ownedSelector(kind, obj),
    ...progressDeadline(obj),
    ...specManager(meta.managedFields),
    ...(meta.annotations?.[ROLLOUT_ANNOTATION] === undefined
      ? {}
      : { statusMark: hashText(JSON.stringify(obj.status ?? null)) }),
  };
}

function containerImage(
  section: ContainerSection,
  index: number,
  c: { name?: string; image?: string },
): ContainerImage {
  const image = c.image ?? "";
  const { ref, repository } = referenceOf(image);
  return {
    section,
    index,
    name: intern(c.name ?? ""),
    // Interned like its parts: a sidecar's image is the same text in thousands of workloads.
    image: intern(image),
    ref,
    repository,
  };
}

/**
 * Recent images, parsed: a workload written is read from the write's answer and from the watch
 * event it brings, with the same images. The parts are shared (never changed). Emptied when
 * full: a few hundred kB at most.
 */
const recentRefs = new Map<string, { ref?: ImageReference; repository?: string }>();
const MAX_RECENT_REFS = 1_024;

function referenceOf(image: string): { ref?: ImageReference; repository?: string } {
  let known = recentRefs.get(image);
  if (known) return known;
  try {
    const { host, path, tag, digest } = parseReference(image);
    const ref = {
      host: intern(host),
      path: intern(path),
      tag: intern(tag),
      digest: intern(digest),
    };
    known = { ref, repository: intern(referenceRepository(ref)) };
  } catch {
    known = {};
  }
  if (recentRefs.size >= MAX_RECENT_REFS) recentRefs.clear();
  recentRefs.set(image, known);
  return known;
}

/**
 * Recent texts workloads share, each once: the parts of image references (registries,
 * sidecars, tags), container names, namespaces and policies. 10,000 Deployments with
 * one sidecar held 10,000 copies of each of its parts (about 1.5 MB). Emptied when full, which
 * only loses the sharing.
 */
const recentParts = new Map<string, string>();
const MAX_RECENT_PARTS = 4_096;

function intern<T extends string | undefined>(text: T): T {
  if (text === undefined) return text;
  const known = recentParts.get(text);
  if (known !== undefined) return known as T;
  if (recentParts.size >= MAX_RECENT_PARTS) recentParts.clear();
  recentParts.set(text, text);
  return text;
}

/** 32-bit FNV-1a of a text's UTF-16 code units: a change mark, not a checksum. */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The manager of the newest managedFields entry that touches the spec. */
function specManager(entries: NonNullable<KubeObject["metadata"]>["managedFields"]) {
  let newest: { manager: string; at: number } | undefined;
  for (const e of entries ?? []) {
    if (!e.manager || !e.fieldsV1 || !("f:spec" in e.fieldsV1)) continue;
    const at = Date.parse(e.time ?? "") || 0;
    if (!newest || at >= newest.at) newest = { manager: e.manager, at };
  }
  return newest ? { specManager: newest.manager } : {};
}

/** Shared by every workload without pull secrets of its own (most of them). */
const NO_PULL_SECRETS: readonly string[] = Object.freeze([]);

function pullSecretNames(secrets: PodSpecView["imagePullSecrets"]): readonly string[] {
  return secrets?.length ? secrets.flatMap((s) => (s.name ? [s.name] : [])) : NO_PULL_SECRETS;
}

/** Shared by every workload without Argoos annotations (most of them): 57 bytes each saved. */
const NO_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({});

function ownAnnotations(all: Record<string, string> | undefined): Readonly<Record<string, string>> {
  let own: Record<string, string> | undefined;
  for (const key in all) if (key.startsWith(ANNOTATION_PREFIX)) (own ??= {})[key] = all[key];
  return own ?? NO_ANNOTATIONS;
}

function progressDeadline(obj: KubeObject): { progressDeadlineSeconds?: number } {
  const seconds = (obj.spec as { progressDeadlineSeconds?: unknown } | undefined)
    ?.progressDeadlineSeconds;
  return typeof seconds === "number" ? { progressDeadlineSeconds: seconds } : {};
}

function ownedSelector(kind: WorkloadKind, obj: KubeObject): string | undefined {
  const spec = obj.spec as
    | {
      selector?: LabelSelectorSpec;
      jobTemplate?: { metadata?: { labels?: Record<string, string> } };
    }
    | undefined;
  try {
    return kind.type.kind === "CronJob"
      ? labelSelectorString({ matchLabels: spec?.jobTemplate?.metadata?.labels })
      : labelSelectorString(spec?.selector);
  } catch {
    return undefined;
  }
}
