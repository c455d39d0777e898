import assert from "node:assert/strict";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { labelSelectorString } from "../../lib/workloads/selector.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";

Deno.test("labelSelectorString: matchLabels and each expression operator", () => {
  const table: [name: string, selector: Parameters<typeof labelSelectorString>[0], want: string][] =
    [
      ["absent", undefined, ""],
      ["empty", {}, ""],
      [
        "labels",
        { matchLabels: { app: "web", "app.kubernetes.io/part-of": "shop" } },
        "app=web,app.kubernetes.io/part-of=shop",
      ],
      [
        "In",
        { matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] },
        "tier in (a,b)",
      ],
      [
        "NotIn",
        { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["c"] }] },
        "tier notin (c)",
      ],
      ["Exists", { matchExpressions: [{ key: "canary", operator: "Exists" }] }, "canary"],
      [
        "DoesNotExist",
        { matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] },
        "!canary",
      ],
    ];
  for (const [name, selector, want] of table) {
    assert.equal(labelSelectorString(selector), want, name);
  }
  assert.throws(
    () => labelSelectorString({ matchExpressions: [{ key: "k", operator: "Gt", values: ["1"] }] }),
    /unknown operator Gt/,
  );
});

Deno.test("readWorkload: selector of the pods, of a CronJob's Jobs, undefined when malformed", () => {
  const template = { spec: { containers: [{ name: "app", image: "a:1" }] } };
  const meta = { name: "w", namespace: "default" };
  const read = (kind: string, spec: Record<string, unknown>) =>
    readWorkload(kindNamed(kind)!, { metadata: meta, spec }).selector;
  assert.equal(read("Deployment", { selector: { matchLabels: { app: "w" } }, template }), "app=w");
  assert.equal(
    read("CronJob", { jobTemplate: { metadata: { labels: { team: "x" } }, spec: { template } } }),
    "team=x",
  );
  assert.equal(read("CronJob", { jobTemplate: { spec: { template } } }), "");
  assert.equal(
    read("StatefulSet", {
      selector: { matchExpressions: [{ key: "k", operator: "Bogus" }] },
      template,
    }),
    undefined,
  );
});
