/**
 * Workloads and decisions for the status page's tests: one of each state (up to date,
 * pending at a gate, pending and not written yet, rolling out, reverted, held) in two
 * namespaces.
 *
 * @module
 */

import {
  encodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";
import type { WorkloadEvent } from "../../lib/events/recorder.ts";
import type { Verdict } from "../../lib/rollout/verdict.ts";
import { DecisionStore } from "../../lib/status/decisions.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";

/** The clock the seeded facts were made at (ms epoch). */
export const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const MINUTE = 60_000;
export const DIGEST_OLD = `sha256:${"1".repeat(64)}`;
export const DIGEST_NEW = `sha256:${"2".repeat(64)}`;

/** A Deployment as the cache holds it. */
export function workload(
  name: string,
  namespace: string,
  image: string,
  annotations: Record<string, string> = {},
  policy = "minor",
): Workload {
  const obj = deployment({
    name,
    namespace,
    policy,
    annotations,
    containers: [{ name: "app", image }],
  });
  const meta = obj.metadata as Record<string, unknown>;
  return readWorkload(
    kindNamed("Deployment")!,
    {
      ...obj,
      metadata: { ...meta, uid: `uid-${name}`, resourceVersion: "7", annotations },
    } as Parameters<typeof readWorkload>[1],
  );
}

const pod = (digest: string) => ({
  status: {
    containerStatuses: [{
      name: "app",
      image: "registry.example.com/app",
      imageID: `registry.example.com/app@${digest}`,
      ready: true,
      restartCount: 0,
    }],
  },
});

/** The seeded workloads and what Argoos decided about them. */
export function seedStatus(): { workloads: Workload[]; decisions: DecisionStore } {
  let clock = NOW - 30 * MINUTE;
  const decisions = new DecisionStore({ now: () => clock });
  const at = (minutesAgo: number) => clock = NOW - minutesAgo * MINUTE;

  const current = workload("catalog", "shop", "registry.example.com/catalog:2.1.0", {
    "argoos.io/tag-pattern": "^[0-9.]+$",
  });
  at(20);
  /** A plan for the workload's one container. */
  const plan = (w: Workload, reason: Verdict["reason"], to?: string) =>
    decisions.planned(w, [{ container: w.containers[0], policy: w.policyLabel, reason, to }]);
  plan(current, "not-greater");
  decisions.sawPods(current, [pod(DIGEST_OLD), pod(DIGEST_OLD), pod(DIGEST_OLD)]);

  const gated = workload("checkout", "shop", "registry.example.com/checkout:1.4.0", {
    "argoos.io/update-window": "Sat 02:00-04:00",
  });
  at(15);
  plan(gated, "update", "registry.example.com/checkout:1.5.0");
  decisions.recorded({
    workload: gated,
    // What a gate records (issue 16); not yet a reason of this branch's recorder.
    reason: "UpdatePending" as WorkloadEvent["reason"],
    type: "Normal",
    message:
      "app: checkout:1.4.0 → checkout:1.5.0 waits for argoos.io/update-window, opens 2026-12-12T02:00:00Z",
  });

  const rolling = workload("search", "shop", "registry.example.com/search:3.0.1", {
    [ROLLOUT_ANNOTATION]: encodeRollout({
      containers: [{
        section: "containers",
        index: 0,
        name: "app",
        from: "registry.example.com/search:3.0.0",
        to: "registry.example.com/search:3.0.1",
      }],
      push: {
        repository: "registry.example.com/search",
        tag: "3.0.1",
        digest: DIGEST_NEW,
        pushedAt: NOW - 3 * MINUTE,
      },
      startedAt: NOW - 2 * MINUTE,
      deadline: NOW + 8 * MINUTE,
    }),
  });
  at(2);
  decisions.recorded({
    workload: rolling,
    reason: "ImageUpdated",
    type: "Normal",
    message: "app: search:3.0.0 → search:3.0.1",
  });
  decisions.sawPods(rolling, [pod(DIGEST_OLD), pod(DIGEST_NEW)]);

  const reverted = workload("billing", "finance", "registry.example.com/billing:4.2.0", {
    [REJECTED_ANNOTATION]: encodeRejected([], {
      repository: "registry.example.com/billing",
      digest: DIGEST_NEW,
      tag: "4.3.0",
      at: NOW - 10 * MINUTE,
      reason: "crash-loop",
    }),
  });
  at(10);
  decisions.recorded({
    workload: reverted,
    reason: "RolloutFailed",
    type: "Warning",
    message: "app: billing:4.2.0 → billing:4.3.0: crash-loop: app restarted 5 times",
  });
  decisions.recorded({
    workload: reverted,
    reason: "Reverted",
    type: "Warning",
    message: "app: billing:4.3.0 → billing:4.2.0",
  });

  const held = workload("ledger", "finance", "registry.example.com/ledger:1.0.0", {
    "argoos.io/hold": "true",
  });
  clock = NOW;
  return { workloads: [current, gated, rolling, reverted, held], decisions };
}
