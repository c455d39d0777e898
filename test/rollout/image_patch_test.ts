/**
 * The guarded JSON patch, per workload kind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { imagePatch } from "../../lib/rollout/image_patch.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import type { ContainerImage } from "../../lib/workloads/workload.ts";

const app: ContainerImage = { section: "containers", index: 1, name: "app", image: "myapp:1.2.3" };
const init: ContainerImage = {
  section: "initContainers",
  index: 0,
  name: "migrate",
  image: "myapp:1.2.3",
};

Deno.test("imagePatch tests the label, name and image, then replaces, at each kind's pod spec", () => {
  const cases: [string, string][] = [
    ["Deployment", "/spec/template/spec"],
    ["StatefulSet", "/spec/template/spec"],
    ["DaemonSet", "/spec/template/spec"],
    ["CronJob", "/spec/jobTemplate/spec/template/spec"],
  ];
  for (const [kind, pod] of cases) {
    assert.deepEqual(
      imagePatch(kindNamed(kind)!, "patch", [{ container: app, to: "myapp:1.2.4" }]),
      [
        { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "patch" },
        { op: "test", path: `${pod}/containers/1/name`, value: "app" },
        { op: "test", path: `${pod}/containers/1/image`, value: "myapp:1.2.3" },
        { op: "replace", path: `${pod}/containers/1/image`, value: "myapp:1.2.4" },
      ],
      kind,
    );
  }
});

Deno.test("imagePatch: several containers, init containers included, in one patch", () => {
  const ops = imagePatch(kindNamed("Deployment")!, "minor", [
    { container: init, to: "myapp:1.3.0" },
    { container: app, to: "myapp:1.3.0" },
  ]);
  assert.deepEqual(ops.map((o) => `${o.op} ${o.path} ${o.value}`), [
    "test /metadata/labels/argoos.io~1policy minor",
    "test /spec/template/spec/initContainers/0/name migrate",
    "test /spec/template/spec/initContainers/0/image myapp:1.2.3",
    "replace /spec/template/spec/initContainers/0/image myapp:1.3.0",
    "test /spec/template/spec/containers/1/name app",
    "test /spec/template/spec/containers/1/image myapp:1.2.3",
    "replace /spec/template/spec/containers/1/image myapp:1.3.0",
  ]);
  assert.deepEqual(imagePatch(kindNamed("Deployment")!, "minor", []), []);
});

Deno.test("imagePatch: annotations in the same patch, each write guarded", () => {
  const kind = kindNamed("Deployment")!;
  const change = [{ container: app, to: "myapp:1.2.4" }];
  // A value read is tested before it is replaced or removed.
  assert.deepEqual(
    imagePatch(kind, "all", change, {
      before: { "argoos.io/state": "{}", "argoos.io/digests": "{}" },
      hasAnnotations: true,
      resourceVersion: "7",
      writes: { "argoos.io/state": '{"app":{}}', "argoos.io/digests": null },
    }).slice(0, 5).map((o) => `${o.op} ${o.path} ${o.value ?? ""}`.trim()),
    [
      "test /metadata/labels/argoos.io~1policy all",
      "test /metadata/annotations/argoos.io~1state {}",
      'replace /metadata/annotations/argoos.io~1state {"app":{}}',
      "test /metadata/annotations/argoos.io~1digests {}",
      "remove /metadata/annotations/argoos.io~1digests",
    ],
  );
  // An absent key cannot be tested: the resourceVersion is; no map at all is added whole.
  assert.deepEqual(
    imagePatch(kind, "all", [], {
      before: {},
      hasAnnotations: false,
      resourceVersion: "7",
      writes: { "argoos.io/state": "{}", "argoos.io/digests": null },
    }),
    [
      { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "all" },
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "add", path: "/metadata/annotations", value: { "argoos.io/state": "{}" } },
    ],
  );
  // A map holding only others' annotations (not kept in `before`) gets a key, never replaced.
  for (const before of [{ a: "b" }, {}] as Record<string, string>[]) {
    assert.deepEqual(
      imagePatch(kind, "all", [], {
        before,
        hasAnnotations: true,
        resourceVersion: "7",
        writes: { x: "y" },
      })
        .slice(1),
      [
        { op: "test", path: "/metadata/resourceVersion", value: "7" },
        { op: "add", path: "/metadata/annotations/x", value: "y" },
      ],
    );
  }
});

Deno.test("imagePatch: expected annotations are tested, an expected absence as null (by the resourceVersion without a map)", () => {
  const deployment = kindNamed("Deployment")!;
  const record = '{"v":1}';
  // A revert: the record read is expected, the rejected list (absent) is added.
  assert.deepEqual(
    imagePatch(deployment, "all", [], {
      before: { "argoos.io/rollout": record, other: "x" },
      hasAnnotations: true,
      resourceVersion: "7",
      writes: { "argoos.io/rollout": null, "argoos.io/state": "s" },
      expect: { "argoos.io/rollout": record, "argoos.io/rejected": null },
    }),
    [
      { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "all" },
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "test", path: "/metadata/annotations/argoos.io~1rejected", value: null },
      { op: "test", path: "/metadata/annotations/argoos.io~1rollout", value: record },
      { op: "remove", path: "/metadata/annotations/argoos.io~1rollout" },
      { op: "add", path: "/metadata/annotations/argoos.io~1state", value: "s" },
    ],
  );
  // No hold read: a hold set since fails the `test` of null, whatever else changed.
  const hold = { "argoos.io/hold": null };
  const change = [{
    container: { section: "containers" as const, index: 0, name: "app", image: "a:1" },
    to: "a:2",
  }];
  assert.deepEqual(
    imagePatch(deployment, "all", change, {
      before: { s: "1" },
      hasAnnotations: true,
      resourceVersion: "7",
      writes: { s: "2" },
      expect: hold,
    }).slice(0, 4),
    [
      { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "all" },
      { op: "test", path: "/metadata/annotations/argoos.io~1hold", value: null },
      { op: "test", path: "/metadata/annotations/s", value: "1" },
      { op: "replace", path: "/metadata/annotations/s", value: "2" },
    ],
  );
  // Without an annotations map, by the resourceVersion; expectations alone write nothing.
  const bare = { before: {}, hasAnnotations: false, resourceVersion: "7", expect: hold };
  assert.deepEqual(imagePatch(deployment, "all", change, { ...bare, writes: {} }).slice(0, 2), [
    { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "all" },
    { op: "test", path: "/metadata/resourceVersion", value: "7" },
  ]);
  assert.deepEqual(imagePatch(deployment, "all", [], { ...bare, writes: {} }), []);
  // An expected value not written is tested on its own.
  assert.deepEqual(
    imagePatch(deployment, "all", [], {
      before: { a: "1", b: "2" },
      hasAnnotations: true,
      resourceVersion: "7",
      writes: { a: "3" },
      expect: { b: "2" },
    }),
    [
      { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "all" },
      { op: "test", path: "/metadata/annotations/b", value: "2" },
      { op: "test", path: "/metadata/annotations/a", value: "1" },
      { op: "replace", path: "/metadata/annotations/a", value: "3" },
    ],
  );
});
