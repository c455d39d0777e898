/**
 * The plan's view of a workload's health records.
 *
 * @module
 */

import assert from "node:assert/strict";
import { deadlineSummary, healthSummary, holdSummary } from "../../lib/health/summary.ts";
import {
  encodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";

const T0 = Date.parse("2026-12-02T10:00:00Z");
const DIGEST = "sha256:" + "e".repeat(64);
const rollout = (deadline?: number) =>
  encodeRollout({
    containers: [{ section: "containers", index: 0, name: "app", from: "a:1", to: "a:2" }],
    push: { repository: "docker.io/library/a", tag: "2", digest: DIGEST, pushedAt: T0 },
    startedAt: T0,
    ...(deadline === undefined ? {} : { deadline }),
  });
const rejected = encodeRejected([], {
  repository: "docker.io/library/a",
  digest: DIGEST,
  tag: "2",
  at: T0,
  reason: "crash-loop",
});

const manual = encodeRejected([], {
  repository: "docker.io/library/a",
  digest: DIGEST,
  tag: "2",
  at: T0,
  reason: "manual",
});

Deno.test("healthSummary: rollout in progress, rejected images, unreadable records", () => {
  const cases: [string, Record<string, string>, ReturnType<typeof healthSummary>][] = [
    ["nothing", {}, { rejected: [], manual: [], problems: [] }],
    ["a rollout with a health timeout", { [ROLLOUT_ANNOTATION]: rollout(T0 + 600_000) }, {
      rollout: `app: a:1 → a:2 (push 2 ${DIGEST}), since 2026-12-02T10:00:00Z, ` +
        "health timeout 2026-12-02T10:10:00Z",
      rejected: [],
      manual: [],
      problems: [],
    }],
    ["a rollout judged by progress alone", { [ROLLOUT_ANNOTATION]: rollout() }, {
      rollout: `app: a:1 → a:2 (push 2 ${DIGEST}), since 2026-12-02T10:00:00Z`,
      rejected: [],
      manual: [],
      problems: [],
    }],
    ["a rejected image", { [REJECTED_ANNOTATION]: rejected }, {
      rejected: [`docker.io/library/a@${DIGEST} (2): crash-loop at 2026-12-02T10:00:00Z`],
      manual: [],
      problems: [],
    }],
    ["a human change kept", { [REJECTED_ANNOTATION]: manual }, {
      rejected: [],
      manual: [`docker.io/library/a@${DIGEST} (2): changed by hand at 2026-12-02T10:00:00Z`],
      problems: [],
    }],
    ["garbage in both", { [ROLLOUT_ANNOTATION]: "x", [REJECTED_ANNOTATION]: "y" }, {
      rejected: [],
      manual: [],
      problems: ["argoos.io/rollout is not JSON", "argoos.io/rejected is not JSON"],
    }],
  ];
  for (const [name, annotations, want] of cases) {
    assert.deepEqual(healthSummary(annotations), want, name);
  }
});

Deno.test("holdSummary: held until released, until a time, unreadable; not held", () => {
  const cases: [Record<string, string>, string | undefined][] = [
    [{}, undefined],
    [{ "argoos.io/hold": "true" }, "until released"],
    [
      { "argoos.io/hold": "2026-12-03T10:00:00Z", "argoos.io/hold-reason": "incident 9" },
      "until 2026-12-03T10:00:00Z (incident 9)",
    ],
    [{ "argoos.io/hold": "2026-12-01T10:00:00Z" }, undefined],
    [{ "argoos.io/hold": "false" }, undefined],
    [
      { "argoos.io/hold": "soon" },
      '"soon": neither "true" nor an RFC 3339 time (2030-01-01T00:00:00Z); held until corrected',
    ],
  ];
  for (const [annotations, want] of cases) {
    assert.equal(holdSummary(annotations, T0), want, JSON.stringify(annotations));
  }
});

Deno.test("deadlineSummary: each kind, with and without its own settings", () => {
  const cases: [Parameters<typeof deadlineSummary>[0], string][] = [
    [
      { kind: "Deployment", annotations: {} },
      "progressDeadlineSeconds 600s (default), then ProgressDeadlineExceeded",
    ],
    [
      { kind: "Deployment", annotations: {}, progressDeadlineSeconds: 120 },
      "progressDeadlineSeconds 120s, then ProgressDeadlineExceeded",
    ],
    [
      { kind: "StatefulSet", annotations: { "argoos.io/progress-deadline": "30m" } },
      "argoos.io/progress-deadline 30m without progress",
    ],
    [
      { kind: "DaemonSet", annotations: { "argoos.io/health-timeout": "1h" } },
      "argoos.io/progress-deadline 10m (default) without progress; health-timeout 1h in all",
    ],
    [{ kind: "CronJob", annotations: {} }, "until its next Job ends"],
  ];
  for (const [w, want] of cases) assert.equal(deadlineSummary(w), want, w.kind);
});
