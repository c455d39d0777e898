/**
 * Workloads and decisions for the status page's tests: one of each state (up to date,
 * pending at a gate, rolling out, reverted, held) in two namespaces, in the shapes the reconcile
 * (its verdicts, `argoos.io/pending`) and the reporting (its Events) produce.
 *
 * @module
 */

import {
  encodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";
import { gateFor, type Held } from "../../lib/gates/gates.ts";
import { encodePending, PENDING_ANNOTATION } from "../../lib/gates/pending.ts";
import { parseUpdateWindows } from "../../lib/gates/window.ts";
import { heldReporter } from "../../lib/service/reporting.ts";
import type { Verdict } from "../../lib/rollout/verdict.ts";
import { DecisionStore } from "../../lib/status/decisions.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The seeded service gates name a window, read here as the service's flags would be.
await loadParsers({ cron: true });
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

  // Held by an update window, as the reconcile leaves it: the gated verdict it plans, the
  // argoos.io/pending record it writes, and the UpdatePending Event the held reporter records.
  at(15);
  const candidate = "registry.example.com/checkout:1.5.0";
  const window = "0 2 * * 6 2h";
  const since = clock - MINUTE;
  const rules = { windows: parseUpdateWindows(window) };
  const shut = gateFor(rules, { digest: DIGEST_NEW, since }, new Set(), clock) as Held;
  const pending = { image: candidate, digest: DIGEST_NEW, since, gate: shut.gate };
  const gated = workload("checkout", "shop", "registry.example.com/checkout:1.4.0", {
    "argoos.io/update-window": window,
    [PENDING_ANNOTATION]: encodePending({ app: { ...pending, opensAt: shut.opensAt } })!,
  });
  decisions.planned(gated, [{
    container: gated.containers[0],
    policy: gated.policyLabel,
    reason: "gated",
    gated: { ...shut, to: candidate },
  }]);
  heldReporter({ record: (ev) => decisions.recorded(ev) }).onHeld(gated, {
    app: { ...pending, opensAt: shut.opensAt, message: shut.message },
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
