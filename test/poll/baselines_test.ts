import assert from "node:assert/strict";
import {
  baselineFor,
  baselinePatch,
  type Baselines,
  DIGESTS_ANNOTATION,
  readBaselines,
} from "../../lib/poll/baselines.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

function withAnnotation(value?: string): Workload {
  return readWorkload(
    kindNamed("Deployment")!,
    deployment({
      name: "web",
      policy: "all",
      annotations: value === undefined ? undefined : { [DIGESTS_ANNOTATION]: value },
      containers: [{ name: "app", image: "myapp:latest" }],
    }),
  );
}

const reads: [name: string, annotation: string | undefined, want: Baselines][] = [
  ["absent", undefined, {}],
  ["not JSON", "{oops", {}],
  ["null", "null", {}],
  ["a number", "42", {}],
  ["a string", '"sha256:1"', {}],
  ["empty object", "{}", {}],
  [
    "recorded entries",
    JSON.stringify({ app: { image: "myapp:latest", digest: D1 } }),
    { app: { image: "myapp:latest", digest: D1 } },
  ],
];

for (const [name, annotation, want] of reads) {
  Deno.test(`readBaselines: ${name}`, () => {
    assert.deepEqual(readBaselines(withAnnotation(annotation)), want);
  });
}

const lookups: [name: string, b: Baselines, container: string, image: string, want?: string][] = [
  ["same container and image", { app: { image: "a:latest", digest: D1 } }, "app", "a:latest", D1],
  ["image changed since", { app: { image: "a:latest", digest: D1 } }, "app", "a:stable", undefined],
  ["other container", { app: { image: "a:latest", digest: D1 } }, "side", "a:latest", undefined],
  ["nothing recorded", {}, "app", "a:latest", undefined],
  ["malformed entry", { app: null as never }, "app", "a:latest", undefined],
];

for (const [name, b, container, image, want] of lookups) {
  Deno.test(`baselineFor: ${name}`, () => {
    assert.equal(baselineFor(b, container, image), want);
  });
}

Deno.test("baselinePatch: a metadata-only merge patch keeping other containers' entries", () => {
  const w = withAnnotation(JSON.stringify({
    side: { image: "s:latest", digest: D1 },
    app: { image: "myapp:old", digest: D1 },
  }));
  const patch = baselinePatch(w, { app: { image: "myapp:latest", digest: D2 } });
  assert.deepEqual(Object.keys(patch), ["metadata"]);
  const text = (patch as { metadata: { annotations: Record<string, string> } }).metadata
    .annotations[DIGESTS_ANNOTATION];
  assert.deepEqual(JSON.parse(text), {
    side: { image: "s:latest", digest: D1 },
    app: { image: "myapp:latest", digest: D2 },
  });
});

Deno.test("baselinePatch: replaces an unreadable annotation", () => {
  const patch = baselinePatch(withAnnotation("{oops"), {
    app: { image: "myapp:latest", digest: D1 },
  });
  assert.deepEqual(patch, {
    metadata: {
      annotations: {
        [DIGESTS_ANNOTATION]: JSON.stringify({ app: { image: "myapp:latest", digest: D1 } }),
      },
    },
  });
});
