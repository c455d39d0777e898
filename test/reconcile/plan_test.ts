/**
 * Table test of a reconcile's plan after one push: which containers it concerns, and what
 * each should run once the registry confirmed the pushed tag.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RepositoryFacts } from "../../lib/reconcile/facts.ts";
import { Reconciler } from "../../lib/reconcile/reconciler.ts";
import { TagVerifier } from "../../lib/registry/tag_verifier.ts";
import type { Rollout } from "../../lib/rollout/rollout.ts";
import type { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The service's cache loads them on first need; these workloads skip the cache.
await loadParsers({ semver: true, cron: true });

const OLD = "sha256:" + "a".repeat(64);
const NEW = "sha256:" + "b".repeat(64);
const MYAPP = "docker.io/library/myapp";

interface Case {
  name: string;
  policy: string;
  containers: { name: string; image: string }[];
  initContainers?: { name: string; image: string }[];
  annotations?: Record<string, string>;
  push: { repository: string; tag: string; digest?: string };
  /** `container=reason->to` per verdict, in order (init containers first). */
  want: string[];
}

/** CI tags ordered by their timestamp group (issue 9). */
const CI = {
  "argoos.io/tag-pattern": "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$",
  "argoos.io/sort-by": "ts",
  "argoos.io/order": "numerical",
};

const cases: Case[] = [
  // Issue 9: every rule of the tag schemes reaches the push decision.
  {
    name: "variant: an -alpine container takes the next -alpine push",
    policy: "minor",
    containers: [{ name: "app", image: "myapp:1.25.3-alpine" }],
    push: { repository: MYAPP, tag: "1.26.0-alpine" },
    want: ["app=update->myapp:1.26.0-alpine"],
  },
  {
    name: "variant: never the plain build",
    policy: "minor",
    containers: [{ name: "app", image: "myapp:1.25.3-alpine" }],
    push: { repository: MYAPP, tag: "1.26.0" },
    want: ["app=variant-mismatch->"],
  },
  {
    name: "newest follows a later CI build",
    policy: "newest",
    annotations: CI,
    containers: [{ name: "app", image: "myapp:main-1a2b3c4-100" }],
    push: { repository: MYAPP, tag: "main-5d6e7f8-200" },
    want: ["app=update->myapp:main-5d6e7f8-200"],
  },
  {
    name: "newest: an older CI build is not an update",
    policy: "newest",
    annotations: CI,
    containers: [{ name: "app", image: "myapp:main-1a2b3c4-100" }],
    push: { repository: MYAPP, tag: "main-5d6e7f8-99" },
    want: ["app=not-greater->"],
  },
  {
    name: "range: a push beyond the bound is not taken",
    policy: "major",
    annotations: { "argoos.io/semver-range": "<2" },
    containers: [{ name: "app", image: "myapp:1.4.0" }],
    push: { repository: MYAPP, tag: "2.0.0" },
    want: ["app=outside-range->"],
  },
  {
    name: "all: the pattern filters pushes",
    policy: "all",
    annotations: { "argoos.io/tag-pattern": "^main-.*" },
    containers: [{ name: "app", image: "myapp:main-1" }],
    push: { repository: MYAPP, tag: "pr-7" },
    want: ["app=no-candidate->"],
  },
  {
    name: "per-container override: each container its own scheme",
    policy: "minor",
    annotations: { "argoos.io/semver-range.b": "~1.25" },
    containers: [{ name: "a", image: "myapp:1.25.3" }, { name: "b", image: "myapp:1.25.3" }],
    push: { repository: MYAPP, tag: "1.26.0" },
    want: ["a=update->myapp:1.26.0", "b=outside-range->"],
  },
  {
    name: "invalid annotation: the whole workload is left alone",
    policy: "newest",
    containers: [{ name: "app", image: "myapp:main-1" }],
    push: { repository: MYAPP, tag: "main-2" },
    want: ["app=invalid-policy->"],
  },
  {
    name: "patch update",
    policy: "patch",
    containers: [{ name: "app", image: "myapp:1.2.3" }],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: ["app=update->myapp:1.2.4"],
  },
  {
    name: "containers of other repositories are not considered",
    policy: "all",
    containers: [
      { name: "app", image: "myapp:1.2.3" },
      { name: "proxy", image: "envoy:1.0.0" },
      { name: "other", image: "registry.example.com/myapp:1.2.3" },
      { name: "lib", image: "library/myapp-sidecar:1.2.3" },
    ],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: [`app=all-policy->myapp:1.2.4@${NEW}`],
  },
  {
    name: "init containers are considered",
    policy: "minor",
    containers: [{ name: "app", image: "myapp:1.2.3" }],
    initContainers: [{ name: "migrate", image: "myapp:1.1.0" }],
    push: { repository: MYAPP, tag: "1.3.0" },
    want: ["migrate=update->myapp:1.3.0", "app=update->myapp:1.3.0"],
  },
  {
    name: "invalid policy yields a verdict without a target",
    policy: "Minor",
    containers: [{ name: "app", image: "myapp:1.2.3" }, { name: "x", image: "nginx:1" }],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: ["app=invalid-policy->"],
  },
  {
    name: "empty policy is invalid",
    policy: "",
    containers: [{ name: "app", image: "myapp:1.2.3" }],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: ["app=invalid-policy->"],
  },
  {
    name: "pinned digest keeps a digest: the pushed one",
    policy: "patch",
    containers: [{ name: "app", image: `myapp:1.2.3@${OLD}` }],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: [`app=update->myapp:1.2.4@${NEW}`],
  },
  {
    name: "all: same tag re-pushed pins the new digest",
    policy: "all",
    containers: [{ name: "app", image: "myapp:latest" }],
    push: { repository: MYAPP, tag: "latest" },
    want: [`app=repushed->myapp:latest@${NEW}`],
  },
  {
    name: "all: untagged image is latest",
    policy: "all",
    containers: [{ name: "app", image: "myapp" }],
    push: { repository: MYAPP, tag: "latest" },
    want: [`app=repushed->myapp:latest@${NEW}`],
  },
  {
    name: "all: the same digest again is the same image",
    policy: "all",
    containers: [{ name: "app", image: `myapp:latest@${NEW}` }],
    push: { repository: MYAPP, tag: "latest" },
    want: ["app=same-image->"],
  },
  {
    name: "all: any other tag, even lower",
    policy: "all",
    containers: [{ name: "app", image: "myapp:2.0.0" }],
    push: { repository: MYAPP, tag: "1.0.0" },
    want: [`app=all-policy->myapp:1.0.0@${NEW}`],
  },
  {
    name: "patch refuses a minor bump",
    policy: "patch",
    containers: [{ name: "app", image: "myapp:1.2.3" }],
    push: { repository: MYAPP, tag: "1.3.0" },
    want: ["app=outside-policy->"],
  },
  {
    name: "downgrade refused",
    policy: "major",
    containers: [{ name: "app", image: "myapp:1.2.5" }],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: ["app=not-greater->"],
  },
  {
    name: "latest under a version policy",
    policy: "minor",
    containers: [{ name: "app", image: "myapp:latest" }],
    push: { repository: MYAPP, tag: "1.3.0" },
    want: ["app=current-not-version->"],
  },
  {
    name:
      "host normalization: docker.io/library, index.docker.io and bare names are one repository",
    policy: "patch",
    containers: [
      { name: "a", image: "myapp:1.2.3" },
      { name: "b", image: "docker.io/myapp:1.2.3" },
      { name: "c", image: "docker.io/library/myapp:1.2.3" },
      { name: "d", image: "index.docker.io/library/myapp:1.2.3" },
    ],
    push: { repository: MYAPP, tag: "1.2.4" },
    want: [
      "a=update->myapp:1.2.4",
      "b=update->docker.io/myapp:1.2.4",
      "c=update->docker.io/library/myapp:1.2.4",
      "d=update->index.docker.io/library/myapp:1.2.4",
    ],
  },
  {
    name: "private registry with port and nested path",
    policy: "minor",
    containers: [
      { name: "app", image: "127.0.0.1:5000/team/app:1.0.0" },
      { name: "hub", image: "team/app:1.0.0" },
    ],
    push: { repository: "127.0.0.1:5000/team/app", tag: "1.1.0" },
    want: ["app=update->127.0.0.1:5000/team/app:1.1.0"],
  },
  {
    name: "unparsable image is never matched",
    policy: "all",
    containers: [{ name: "bad", image: "MyApp:::" }],
    push: { repository: MYAPP, tag: "1.0.0" },
    want: [],
  },
];

/** A reconciler whose registry serves every tag with `digest`, and whose pods are unknown. */
function reconcilerWith(facts: RepositoryFacts, digest: string): Reconciler {
  return new Reconciler({
    cache: {} as WorkloadCache,
    rollout: {} as Rollout,
    facts,
    verifier: new TagVerifier({
      headDigest: () => Promise.resolve(digest),
      manifest: () =>
        Promise.resolve({ digest, mediaType: "application/vnd.oci.image.manifest.v1+json" }),
    }),
    credentialsOf: () => Promise.resolve(new Map()),
    runningDigestsOf: () => Promise.resolve(new Map()),
  });
}

Deno.test("plan table: one push", async (t) => {
  for (const c of cases) {
    await t.step(c.name, async () => {
      const workload = readWorkload(
        kindNamed("Deployment")!,
        deployment({
          name: "web",
          policy: c.policy,
          annotations: c.annotations,
          containers: c.containers,
          initContainers: c.initContainers,
        }),
      );
      const facts = new RepositoryFacts();
      facts.recordPush({ digest: NEW, ...c.push, pushedAt: 1, source: "distribution" });
      const { verdicts } = await reconcilerWith(facts, NEW).plan(workload);
      assert.deepEqual(
        verdicts.map((v) => `${v.container.name}=${v.reason}->${v.to ?? ""}`),
        c.want,
      );
      for (const v of verdicts) assert.equal(v.policy, c.policy);
    });
  }
});

const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);

/** A registry listing `myapp` tags, each served with its digest. */
function listed(digests: Record<string, string>): { facts: RepositoryFacts; r: Reconciler } {
  const facts = new RepositoryFacts();
  facts.recordListing(MYAPP, Object.keys(digests), 1);
  const r = new Reconciler({
    cache: {} as WorkloadCache,
    rollout: {} as Rollout,
    facts,
    verifier: new TagVerifier({
      headDigest: (_h, _p, tag) =>
        digests[tag] ? Promise.resolve(digests[tag]) : Promise.reject(new Error("unreachable")),
      manifest: (_h, _p, tag) =>
        digests[tag]
          ? Promise.resolve({
            digest: digests[tag],
            mediaType: "application/vnd.oci.image.manifest.v1+json",
          })
          : Promise.reject(new Error("unreachable")),
    }),
    credentialsOf: () => Promise.resolve(new Map()),
    runningDigestsOf: () => Promise.resolve(new Map()),
  });
  return { facts, r };
}

const pollCases: {
  name: string;
  policy: string;
  images: string[];
  init?: string[];
  annotations?: Record<string, string>;
  digests: Record<string, string>;
  want: string[];
}[] = [
  // Issue 9: the poll chooses among listed tags with the same rules.
  {
    name: "variant: the greatest -alpine of the minor, not the plain one",
    policy: "minor",
    images: ["myapp:1.25.3-alpine"],
    digests: { "1.25.4": D1, "1.26.0": D1, "1.25.4-alpine": D2, "2.0.0-alpine": D1 },
    want: ["app=update->myapp:1.25.4-alpine"],
  },
  {
    name: "newest: the greatest timestamp matching the pattern",
    policy: "newest",
    annotations: CI,
    images: ["myapp:main-1a2b3c4-100"],
    digests: { "main-5d6e7f8-300": D1, "main-0a0a0a0-200": D1, "pr-1-900": D1 },
    want: ["app=update->myapp:main-5d6e7f8-300"],
  },
  {
    name: "range: the greatest version within the bound",
    policy: "major",
    annotations: { "argoos.io/semver-range": ">=1.4 <2" },
    images: ["myapp:1.4.0"],
    digests: { "1.5.0": D1, "1.9.1": D1, "2.0.0": D1 },
    want: ["app=update->myapp:1.9.1"],
  },
  {
    name: "same version in several forms: the current tag's form",
    policy: "minor",
    images: ["myapp:v1.2"],
    digests: { "1.3.0": D1, "v1.3": D2, "v1.3.0": D1 },
    want: ["app=update->myapp:v1.3"],
  },
  {
    name: "minor picks the greatest listed minor",
    policy: "minor",
    images: ["myapp:1.2.3"],
    digests: { "1.2.4": D1, "1.3.0": D1, "2.0.0": D1 },
    want: ["app=update->myapp:1.3.0"],
  },
  {
    name: "all moves a version to the greatest version above it, pinned",
    policy: "all",
    images: ["myapp:1.2.3"],
    digests: { "1.2.3": D1, "1.3.0-rc.1": D2, "1.2.4": D1 },
    want: [`app=all-policy->myapp:1.3.0-rc.1@${D2}`],
  },
  {
    name: "all unpinned, first sight, pods unknown: recorded, nothing rolled out",
    policy: "all",
    images: ["myapp:latest"],
    digests: { latest: D1 },
    want: ["app=baseline->"],
  },
  {
    name: "all on latest pinned to the listed digest: same image",
    policy: "all",
    images: [`myapp:latest@${D1}`],
    digests: { latest: D1 },
    want: ["app=same-image->"],
  },
  {
    name: "all on latest pinned to another digest: re-pushed, new digest pinned",
    policy: "all",
    images: [`myapp:latest@${D1}`],
    digests: { latest: D2 },
    want: [`app=repushed->myapp:latest@${D2}`],
  },
  {
    name: "recorded digest (old annotation) for the same image, digest changed: re-pushed",
    policy: "all",
    images: ["myapp:latest"],
    annotations: {
      "argoos.io/digests": JSON.stringify({ app: { image: "myapp:latest", digest: D1 } }),
    },
    digests: { latest: D2 },
    want: [`app=repushed->myapp:latest@${D2}`],
  },
  {
    name: "recorded for another image is ignored",
    policy: "all",
    images: ["myapp:latest"],
    annotations: {
      "argoos.io/state": JSON.stringify({ app: { image: "myapp:stable", digest: D1 } }),
    },
    digests: { latest: D2 },
    want: ["app=baseline->"],
  },
  {
    name: "pinned digest moving version: tag and its digest",
    policy: "patch",
    images: [`myapp:1.2.3@${D1}`],
    digests: { "1.2.4": D2 },
    want: [`app=update->myapp:1.2.4@${D2}`],
  },
  {
    name: "every container and init container of the repository, each on its own tag",
    policy: "patch",
    images: ["myapp:1.2.3", "envoy:1.0.0", "myapp:1.3.0"],
    init: ["myapp:1.2.0"],
    digests: { "1.2.4": D1, "1.3.1": D1 },
    want: ["init0=update->myapp:1.2.4", "app=update->myapp:1.2.4", "c2=update->myapp:1.3.1"],
  },
  {
    name: "version policies never move latest",
    policy: "major",
    images: ["myapp:latest"],
    digests: { "2.0.0": D1 },
    want: ["app=current-not-version->"],
  },
];

Deno.test("plan table: one listing", async (t) => {
  for (const c of pollCases) {
    await t.step(c.name, async () => {
      const w = readWorkload(
        kindNamed("Deployment")!,
        deployment({
          name: "web",
          policy: c.policy,
          annotations: c.annotations,
          containers: c.images.map((image, i) => ({ name: i === 0 ? "app" : `c${i}`, image })),
          initContainers: (c.init ?? []).map((image, i) => ({ name: `init${i}`, image })),
        }),
      );
      const { verdicts } = await listed(c.digests).r.plan(w);
      assert.deepEqual(
        verdicts.map((v) => `${v.container.name}=${v.reason}->${v.to ?? ""}`),
        c.want,
      );
    });
  }
});

Deno.test("plan: the state written records image, digest and push time in the same patch", async () => {
  const facts = new RepositoryFacts();
  facts.recordPush({
    repository: MYAPP,
    tag: "x",
    digest: D2,
    pushedAt: 20,
    source: "distribution",
  });
  const w = readWorkload(
    kindNamed("Deployment")!,
    deployment({ name: "web", policy: "all", containers: [{ name: "app", image: "myapp:1.0" }] }),
  );
  const plan = await reconcilerWith(facts, D2).plan(w);
  assert.deepEqual(JSON.parse(plan.annotations!["argoos.io/state"]!), {
    app: { image: `myapp:x@${D2}`, digest: D2, pushedAt: 20, written: true },
  });
  assert.equal(plan.source, "webhook");
});
