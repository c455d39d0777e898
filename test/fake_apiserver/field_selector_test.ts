import assert from "node:assert/strict";
import { matchFields, parseFieldSelector } from "./field_selector.ts";
import { SelectorError } from "./label_selector.ts";
import { findByKind } from "./resources.ts";

const deployments = findByKind("apps/v1", "Deployment")!;
const events = findByKind("v1", "Event")!;
const obj = { metadata: { name: "web", namespace: "prod" } };

const cases: [selector: string, expected: boolean][] = [
  ["", true],
  ["metadata.name=web", true],
  ["metadata.name==web", true],
  ["metadata.name!=web", false],
  ["metadata.name=db", false],
  ["metadata.namespace=prod", true],
  ["metadata.namespace!=prod", false],
  ["metadata.name=web,metadata.namespace=prod", true],
  ["metadata.name=web,metadata.namespace=dev", false],
];
for (const [selector, expected] of cases) {
  Deno.test(`field selector ${JSON.stringify(selector)} ${expected ? "matches" : "rejects"}`, () => {
    assert.equal(matchFields(parseFieldSelector(selector, deployments), obj), expected);
  });
}

Deno.test("field selector: kind-specific fields are only allowed where served", () => {
  const event = { metadata: { name: "e" }, involvedObject: { kind: "Deployment", name: "web" } };
  const terms = parseFieldSelector(
    "involvedObject.kind=Deployment,involvedObject.name=web",
    events,
  );
  assert.equal(matchFields(terms, event), true);
  assert.throws(() => parseFieldSelector("involvedObject.kind=Pod", deployments), SelectorError);
  assert.throws(() => parseFieldSelector("spec.replicas=1", deployments), /not supported/);
  assert.throws(() => parseFieldSelector("metadata.name", deployments), SelectorError);
});
