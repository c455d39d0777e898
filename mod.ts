/**
 * Argoos as a library: keep Kubernetes workloads on the newest image their
 * `argoos.io/policy` label allows, from registry notifications and polling.
 *
 * `startArgoos` runs the service; the pure policy and reference functions let an embedder
 * decide as Argoos does.
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

export * from "./lib/image/reference.ts";
export * from "./lib/image/artifact.ts";
export * from "./lib/policy/version.ts";
export * from "./lib/policy/tag.ts";
export * from "./lib/policy/pattern.ts";
export * from "./lib/policy/policy.ts";
export * from "./lib/policy/rules.ts";
export * from "./lib/policy/candidates.ts";
export * from "./lib/policy/decide.ts";
export * from "./lib/policy/state.ts";
export * from "./lib/policy/hold.ts";
export type { RecordedPush } from "./lib/reconcile/facts.ts";
export type { ArgoosConfig, LeaderConfig } from "./lib/service/config.ts";
export { type Argoos, type ArgoosDeps, ListenError, startArgoos } from "./lib/service/argoos.ts";
