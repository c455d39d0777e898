/**
 * Argoos as a library: keep Kubernetes workloads on the newest image their
 * `argoos.io/policy` label allows, from registry notifications and polling.
 *
 * @example
 * ```ts
 * import { decidePush, parseReference, withTarget } from "./mod.ts";
 * const ref = parseReference("myapp:1.2.3");
 * const d = decidePush("minor", { tag: ref.tag }, { tag: "1.3.0", digest: "sha256:" + "a".repeat(64) });
 * if (d.update) withTarget(ref, "1.3.0"); // "myapp:1.3.0"
 * ```
 *
 * @module
 */

export * from "./lib/image/reference.ts";
export * from "./lib/policy/version.ts";
export * from "./lib/policy/policy.ts";
export * from "./lib/policy/choose.ts";
export * from "./lib/webhook/envelope.ts";
export * from "./lib/webhook/registry_name.ts";
export * from "./lib/webhook/push_verdicts.ts";
export * from "./lib/webhook/handler.ts";
export * from "./lib/poll/poll_verdicts.ts";
export * from "./lib/poll/poller.ts";
export * from "./lib/poll/duration.ts";
export * from "./lib/registry/client.ts";
export * from "./lib/registry/credentials.ts";
export * from "./lib/registry/errors.ts";
export * from "./lib/kube/client.ts";
export * from "./lib/kube/connection.ts";
export * from "./lib/kube/errors.ts";
export * from "./lib/kube/resource.ts";
export * from "./lib/workloads/kinds.ts";
export * from "./lib/workloads/workload.ts";
export * from "./lib/workloads/cache.ts";
export * from "./lib/rollout/rollout.ts";
export * from "./lib/rollout/verdict.ts";
export * from "./lib/rollout/image_patch.ts";
export * from "./lib/leader/lease_lock.ts";
export * from "./lib/events/recorder.ts";
export * from "./lib/metrics/argoos_metrics.ts";
export * from "./lib/log/logger.ts";
export * from "./lib/service/config.ts";
export * from "./lib/service/argoos.ts";
export * from "./lib/image/media_types.ts";
