import assert from "node:assert/strict";
import { matchLabels, parseLabelSelector, SelectorError } from "./label_selector.ts";

const labels = { app: "web", tier: "front", version: "3" };

const cases: [selector: string, expected: boolean][] = [
  ["", true],
  ["app=web", true],
  ["app==web", true],
  ["app = web", true],
  ["app=db", false],
  ["app!=db", true],
  ["app!=web", false],
  ["missing!=x", true],
  ["missing=x", false],
  ["missing=", false],
  ["app in (web,db)", true],
  ["app in (db, cache)", false],
  ["app notin (db)", true],
  ["app notin (web)", false],
  ["missing notin (x)", true],
  ["missing in (x)", false],
  ["app", true],
  ["missing", false],
  ["!missing", true],
  ["!app", false],
  ["! app", false],
  ["version>2", true],
  ["version>3", false],
  ["version<4", true],
  ["app>1", false],
  ["app=web,tier=front", true],
  ["app=web,tier=back", false],
  ["app in (web),tier notin (back),!legacy,version", true],
  ["example.com/team=x", false],
];

for (const [selector, expected] of cases) {
  Deno.test(`label selector ${JSON.stringify(selector)} ${expected ? "matches" : "rejects"}`, () => {
    assert.equal(matchLabels(parseLabelSelector(selector), labels), expected);
  });
}

Deno.test("label selector: an object without labels only matches negative terms", () => {
  assert.equal(matchLabels(parseLabelSelector("!app,app notin (x),app!=y"), undefined), true);
  assert.equal(matchLabels(parseLabelSelector("app"), undefined), false);
});

Deno.test("label selector: an empty value matches a label set to the empty string", () => {
  assert.equal(matchLabels(parseLabelSelector("app="), { app: "" }), true);
  assert.equal(matchLabels(parseLabelSelector("app="), {}), false);
});

const malformed = [
  "=web",
  "app=web,",
  ",app=web",
  "app in (web",
  "app in ()",
  "app in web",
  "app=we b",
  "app===web",
  "app=-web",
  "Bad Key=1",
  "app>x",
  "a/b/c=1",
  "app in ((web))",
];
for (const selector of malformed) {
  Deno.test(`label selector ${JSON.stringify(selector)} is malformed`, () => {
    assert.throws(() => parseLabelSelector(selector), SelectorError);
  });
}
