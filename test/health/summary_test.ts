/**
 * The plan's view of a workload's health records.
 *
 * @module
 */

import assert from "node:assert/strict";
import { healthSummary } from "../../lib/health/summary.ts";
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

Deno.test("healthSummary: rollout in progress, rejected images, unreadable records", () => {
  const cases: [string, Record<string, string>, ReturnType<typeof healthSummary>][] = [
    ["nothing", {}, { rejected: [], problems: [] }],
    ["a rollout with a health timeout", { [ROLLOUT_ANNOTATION]: rollout(T0 + 600_000) }, {
      rollout: `app: a:1 → a:2 (push 2 ${DIGEST}), since 2026-12-02T10:00:00Z, ` +
        "health timeout 2026-12-02T10:10:00Z",
      rejected: [],
      problems: [],
    }],
    ["a rollout judged by progress alone", { [ROLLOUT_ANNOTATION]: rollout() }, {
      rollout: `app: a:1 → a:2 (push 2 ${DIGEST}), since 2026-12-02T10:00:00Z`,
      rejected: [],
      problems: [],
    }],
    ["a rejected image", { [REJECTED_ANNOTATION]: rejected }, {
      rejected: [`docker.io/library/a@${DIGEST} (2): crash-loop at 2026-12-02T10:00:00Z`],
      problems: [],
    }],
    ["garbage in both", { [ROLLOUT_ANNOTATION]: "x", [REJECTED_ANNOTATION]: "y" }, {
      rejected: [],
      problems: ["argoos.io/rollout is not JSON", "argoos.io/rejected is not JSON"],
    }],
  ];
  for (const [name, annotations, want] of cases) {
    assert.deepEqual(healthSummary(annotations), want, name);
  }
});
