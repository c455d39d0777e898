/**
 * A person's change of what Argoos wrote: which containers, and what is recorded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeRejected, encodeRollout } from "../../lib/health/record.ts";
import { readState } from "../../lib/policy/state.ts";
import { manualChanges, recordManual } from "../../lib/reconcile/manual.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";

const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);

function web(images: Record<string, string>, annotations: Record<string, string>): Workload {
  return readWorkload(kindNamed("Deployment")!, {
    metadata: { name: "web", namespace: "default", annotations },
    spec: {
      template: {
        spec: {
          containers: Object.entries(images).map(([name, image]) => ({ name, image })),
        },
      },
    },
  });
}
const state = (s: Record<string, unknown>) => ({ "argoos.io/state": JSON.stringify(s) });

Deno.test("manualChanges: only an image Argoos wrote that the spec no longer names", () => {
  const cases: [string, Record<string, string>, Record<string, unknown>, string[]][] = [
    ["rolled back", { app: "r/app:1" }, { app: { image: "r/app:2", digest: D2, written: true } }, [
      "app",
    ]],
    ["still what Argoos wrote", { app: "r/app:2" }, {
      app: { image: "r/app:2", digest: D2, written: true },
    }, []],
    // Recorded from what runs (a baseline), never written by Argoos: nothing to keep.
    ["only seen, not written", { app: "r/app:1" }, { app: { image: "r/app:2", digest: D2 } }, []],
    ["no state for it", { app: "r/app:1" }, {}, []],
    ["one of two", { app: "r/app:1", side: "r/side:2" }, {
      app: { image: "r/app:2", written: true },
      side: { image: "r/side:2", written: true },
    }, ["app"]],
  ];
  for (const [name, images, s, want] of cases) {
    assert.deepEqual(manualChanges(web(images, state(s))).map((m) => m.container.name), want, name);
  }
});

Deno.test("recordManual: rejects what Argoos wrote, states what the person set, drops the rollout followed", () => {
  const record = encodeRollout({
    containers: [{ section: "containers", index: 0, name: "app", from: "r/app:1", to: "r/app:2" }],
    push: { repository: "docker.io/r/app", tag: "2", digest: D2, pushedAt: 7 },
    startedAt: 0,
  });
  const w = web({ app: "r/app:1" }, {
    ...state({ app: { image: "r/app:2", digest: D2, pushedAt: 7, written: true } }),
    "argoos.io/rollout": record,
  });
  const r = recordManual(w, manualChanges(w), Date.parse("2026-12-06T10:00:00Z"));
  assert.deepEqual(readState(r.annotations as Record<string, string>), {
    app: { image: "r/app:1", pushedAt: 7 },
  });
  assert.deepEqual(decodeRejected(r.annotations["argoos.io/rejected"]!).value, [{
    repository: "docker.io/r/app",
    digest: D2,
    tag: "2",
    at: Date.parse("2026-12-06T10:00:00Z"),
    reason: "manual",
  }]);
  assert.equal(r.annotations["argoos.io/rollout"], null);
  assert.deepEqual(r.expect, { "argoos.io/rollout": record });
});

Deno.test("recordManual: the same content pinned by hand is not rejected; another container's rollout stays", () => {
  const record = encodeRollout({
    containers: [{
      section: "containers",
      index: 1,
      name: "side",
      from: "r/side:1",
      to: "r/side:2",
    }],
    push: { repository: "docker.io/r/side", tag: "2", digest: D1, pushedAt: 7 },
    startedAt: 0,
  });
  const w = web({ app: `r/app:2@${D2}`, side: "r/side:2" }, {
    ...state({
      app: { image: "r/app:2", digest: D2, written: true },
      side: { image: "r/side:2", digest: D1, written: true },
    }),
    "argoos.io/rollout": record,
  });
  const r = recordManual(w, manualChanges(w), 0);
  assert.equal(r.annotations["argoos.io/rejected"], undefined);
  assert.equal(r.annotations["argoos.io/rollout"], undefined);
  assert.deepEqual(r.expect, {});
  assert.deepEqual(readState(r.annotations as Record<string, string>).app, {
    image: `r/app:2@${D2}`,
  });
});
