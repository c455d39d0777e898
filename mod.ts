/**
 * Argoos as a library: keep Kubernetes workloads on the newest image their
 * `argoos.io/policy` label allows, from registry notifications and polling.
 *
 * `startArgoos` runs the service and gives its handle; the pure reference, policy, gate and receiver
 * functions let an embedder parse, decide and read notifications as Argoos does. Only what is
 * exported here is the library's API: every type it names is exported too (`deno doc --lint
 * mod.ts` checks), the rest of `lib/` may change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { candidatesFor, parseReference, settle } from "./mod.ts";
 * const ref = parseReference("myapp:1.2.3");
 * const facts = {
 *   rules: { policy: "minor" as const }, image: "myapp:1.2.3", ref,
 *   pushes: [{ tag: "1.3.0", pushedAt: Date.now() }, { tag: "2.0.0", pushedAt: Date.now() }],
 * };
 * const [best] = candidatesFor(facts);
 * assert.equal(best.tag, "1.3.0");
 * // Once the registry confirmed the tag and told its digest:
 * const { to } = settle(facts, best, { digest: "sha256:" + "a".repeat(64) });
 * assert.equal(to, "myapp:1.3.0");
 * ```
 *
 * @module
 */

import { loadParsers } from "./lib/parse/on_demand.ts";

// The service loads these on first need (lib/parse/on_demand.ts); an embedder calls the pure
// rule and window functions directly, so the library has them ready.
await loadParsers({ semver: true, cron: true });

// The service: start it, its configuration, its handle and what it is built from.
export { type Argoos, type ArgoosDeps, ListenError, startArgoos } from "./lib/service/argoos.ts";
export type { ArgoosConfig, LeaderConfig } from "./lib/service/config.ts";
export type { SinkFormat, SinkSpec } from "./lib/notify/sinks.ts";
export type {
  Connection,
  KubeClient,
  ListOptions,
  ObjectList,
  PatchType,
  ServerVersion,
  WatchEvent,
  WatchOptions,
} from "./lib/kube/client.ts";
export type { ConnectionOptions } from "./lib/kube/connection.ts";
export type { ResourceType } from "./lib/kube/resource.ts";
export type { ManifestInfo, RegistryClient, RegistryRequestStats } from "./lib/registry/client.ts";
export type { RegistryCredential } from "./lib/registry/credentials.ts";
export type { CredentialProvider } from "./lib/registry/credential_provider.ts";
export type { RegistryMirrors } from "./lib/registry/mirrors.ts";
export type { Fields, Level, Logger, Sink } from "./lib/log/logger.ts";
export type { WorkloadCache } from "./lib/workloads/cache.ts";
export type { WorkloadKind } from "./lib/workloads/kinds.ts";
export type {
  ContainerImage,
  ContainerSection,
  KubeObject,
  Workload,
} from "./lib/workloads/workload.ts";
export type { ArgoosMetrics } from "./lib/metrics/argoos_metrics.ts";
export type {
  Counter,
  Gauge,
  Histogram,
  Labels,
  Metric,
  MetricsRegistry,
} from "./lib/metrics/registry.ts";
export type { WorkQueue } from "./lib/reconcile/queue.ts";
export type { ReconcileOutcome, ReconcileResult } from "./lib/reconcile/reconciler.ts";
export type { Outcome } from "./lib/rollout/rollout.ts";
export type { CycleStats, Poller } from "./lib/poll/poller.ts";
export type { LeaseLock } from "./lib/leader/lease_lock.ts";

// Image references, artifacts and pushes.
export {
  digestProblem,
  formatReference,
  type ImageReference,
  InvalidReferenceError,
  parseReference,
  referenceRepository,
  repositoryKey,
  splitRepository,
  tagProblem,
  withTarget,
} from "./lib/image/reference.ts";
export { isArtifactTag, notAnImage } from "./lib/image/artifact.ts";
export type { Push, RecordedPush } from "./lib/image/push.ts";

// The policy: rules of a workload, versions, candidates and settling.
export { parsePolicy, type Policy, POLICY_LABEL, type Reason } from "./lib/policy/policy.ts";
export {
  type ContainerRules,
  type Order,
  type RulesError,
  rulesFor,
  rulesOf,
  type RulesResult,
  type RulesSource,
  type WorkloadRules,
} from "./lib/policy/rules.ts";
export type { TagPattern } from "./lib/policy/pattern.ts";
export { compareVersions, parseVersion, type Version } from "./lib/policy/version.ts";
export {
  type Candidate,
  candidatesFor,
  type ContainerFacts,
  type PushFact,
  type Served,
  settle,
  type Settled,
} from "./lib/policy/decide.ts";
export type { ContainerState } from "./lib/policy/state.ts";
export {
  type Hold,
  HOLD_ANNOTATION,
  holdAnnotations,
  holdProblem,
  readHold,
} from "./lib/policy/hold.ts";

// Gates: when a chosen update may be written (windows, minimum age, approvals, observe mode).
export {
  describeGates,
  type GateCandidate,
  type GateDecision,
  type GateError,
  gateFor,
  type GateRules,
  type Held,
  readGateRules,
} from "./lib/gates/gates.ts";
export {
  isTimeZone,
  parseUpdateWindows,
  type UpdateWindow,
  type WindowState,
  windowState,
} from "./lib/gates/window.ts";
export {
  type GateName,
  type Pending,
  type PendingUpdate,
  readPending,
} from "./lib/gates/pending.ts";

// The receivers: each registry's notification parsed into pushes.
export {
  type AuthKind,
  matchRoute,
  RECEIVER_ROUTES,
  type ReceiverRoute,
} from "./lib/webhook/sources/routes.ts";
export { type Delivery, receive, type ReceiveOutcome } from "./lib/webhook/sources/receive.ts";
export type {
  HeaderReader,
  Parser,
  ParseResult,
  ReceiveContext,
} from "./lib/webhook/sources/types.ts";
export type { RegistryAliases } from "./lib/webhook/sources/registry_name.ts";
