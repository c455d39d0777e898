/**
 * Who last changed a workload's spec, read from `managedFields` (for the `ManualChange` report).
 *
 * @module
 */

import assert from "node:assert/strict";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload } from "../../lib/workloads/workload.ts";

type Entry = NonNullable<NonNullable<KubeObject["metadata"]>["managedFields"]>[number];
const spec = { "f:spec": { "f:template": {} } };
const meta = { "f:metadata": { "f:annotations": {} } };

Deno.test("specManager: the newest entry that touches the spec; none without managedFields", () => {
  const cases: [string, Entry[] | undefined, string | undefined][] = [
    ["none kept", undefined, undefined],
    [
      "only metadata",
      [{ manager: "argoos", time: "2026-12-06T10:00:00Z", fieldsV1: meta }],
      undefined,
    ],
    ["the newest spec change wins", [
      { manager: "kubectl-client-side-apply", time: "2026-12-06T09:00:00Z", fieldsV1: spec },
      { manager: "kubectl-rollout", time: "2026-12-06T10:00:00Z", fieldsV1: spec },
      { manager: "kubectl-annotate", time: "2026-12-06T11:00:00Z", fieldsV1: meta },
    ], "kubectl-rollout"],
    ["without times, the last listed", [
      { manager: "helm", fieldsV1: spec },
      { manager: "argocd-controller", fieldsV1: spec },
    ], "argocd-controller"],
  ];
  for (const [name, managedFields, want] of cases) {
    const w = readWorkload(kindNamed("Deployment")!, {
      metadata: { name: "web", namespace: "default", managedFields },
      spec: { template: { spec: { containers: [{ name: "app", image: "app:1" }] } } },
    });
    assert.equal(w.specManager, want, name);
  }
});
