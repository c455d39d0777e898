import assert from "node:assert/strict";
import { DIGESTS_ANNOTATION } from "../../lib/poll/baselines.ts";
import {
  currentTag,
  digestsNeeded,
  pollVerdicts,
  type RepositoryOffer,
} from "../../lib/poll/poll_verdicts.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";

const MYAPP = "docker.io/library/myapp";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const TAGS = ["1.2.4", "1.3.0", "2.0.0"];

function workload(
  policy: string,
  images: string[],
  annotations?: Record<string, string>,
  initImages: string[] = [],
): Workload {
  return readWorkload(
    kindNamed("Deployment")!,
    deployment({
      name: "web",
      policy,
      annotations,
      containers: images.map((image, i) => ({ name: i === 0 ? "app" : `c${i}`, image })),
      initContainers: initImages.map((image, i) => ({ name: `init${i}`, image })),
    }),
  );
}

function offer(tags: string[], digests: Record<string, string> = {}): RepositoryOffer {
  return { tags, digests: new Map(Object.entries(digests)) };
}

function baseline(container: string, image: string, digest: string): Record<string, string> {
  return { [DIGESTS_ANNOTATION]: JSON.stringify({ [container]: { image, digest } }) };
}

interface Case {
  name: string;
  w: Workload;
  offers: Record<string, RepositoryOffer>;
  /** `container reason [to]` per verdict. */
  want: string[];
  /** digestsNeeded for MYAPP over its offered tags. */
  needed: string[];
}

const cases: Case[] = [
  {
    name: "minor picks the greatest minor",
    w: workload("minor", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app update myapp:1.3.0"],
    needed: [],
  },
  {
    name: "patch stays within the minor",
    w: workload("patch", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app update myapp:1.2.4"],
    needed: [],
  },
  {
    name: "major takes the greatest version",
    w: workload("major", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app update myapp:2.0.0"],
    needed: [],
  },
  {
    name: "unsorted listing is ordered by version, not text",
    w: workload("patch", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(["2.0.0", "1.2.10", "latest", "1.3.0", "1.2.9", "1.2.4"]) },
    want: ["app update myapp:1.2.10"],
    needed: [],
  },
  {
    name: "pre-releases are not taken from a stable current",
    w: workload("minor", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(["1.3.0-rc.1", "1.2.4-rc.1"]) },
    want: ["app no-newer-tag"],
    needed: [],
  },
  {
    name: "a pre-release moves to the next pre-release of the same version",
    w: workload("minor", ["myapp:1.3.0-rc.1"]),
    offers: { [MYAPP]: offer(["1.3.0-rc.2", "1.2.9"]) },
    want: ["app update myapp:1.3.0-rc.2"],
    needed: [],
  },
  {
    name: "a pre-release moves to its stable release",
    w: workload("patch", ["myapp:1.3.0-rc.1"]),
    offers: { [MYAPP]: offer(["1.3.0-rc.2", "1.3.0"]) },
    want: ["app update myapp:1.3.0"],
    needed: [],
  },
  {
    name: "equal precedence is not an update",
    w: workload("minor", ["myapp:1.2"]),
    offers: { [MYAPP]: offer(["1.2.0", "v1.2.0", "1.1.9"]) },
    want: ["app no-newer-tag"],
    needed: [],
  },
  {
    name: "already on the greatest allowed version",
    w: workload("minor", ["myapp:1.3.0"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app no-newer-tag"],
    needed: [],
  },
  {
    name: "version policies never move latest",
    w: workload("major", ["myapp:latest"]),
    offers: { [MYAPP]: offer(TAGS, { latest: D1 }) },
    want: ["app current-not-version"],
    needed: [],
  },
  {
    name: "version policies never move a digest-only image",
    w: workload("minor", [`myapp@${D1}`]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app current-not-version"],
    needed: [],
  },
  {
    name: "all moves a version to the greatest version above it, pinned",
    w: workload("all", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer([...TAGS, "latest"], { "2.0.0": D2 }) },
    want: [`app update myapp:2.0.0@${D2}`],
    needed: ["2.0.0"],
  },
  {
    name: "all moving to a version whose digest is unknown waits",
    w: workload("all", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app digest-unknown"],
    needed: ["2.0.0"],
  },
  {
    name: "all on the greatest version follows its digest (first sight: baseline)",
    w: workload("all", ["myapp:2.0.0"]),
    offers: { [MYAPP]: offer(TAGS, { "2.0.0": D1 }) },
    want: ["app baseline"],
    needed: ["2.0.0"],
  },
  {
    name: "all on latest pinned to the listed digest: same image",
    w: workload("all", [`myapp:latest@${D1}`]),
    offers: { [MYAPP]: offer(["latest"], { latest: D1 }) },
    want: ["app same-image"],
    needed: ["latest"],
  },
  {
    name: "all on latest pinned to another digest: re-pushed, new digest pinned",
    w: workload("all", [`myapp:latest@${D1}`]),
    offers: { [MYAPP]: offer(["latest"], { latest: D2 }) },
    want: [`app repushed myapp:latest@${D2}`],
    needed: ["latest"],
  },
  {
    name: "all unpinned, first sight: baseline, nothing rolled out",
    w: workload("all", ["myapp:latest"]),
    offers: { [MYAPP]: offer(["latest"], { latest: D1 }) },
    want: ["app baseline"],
    needed: ["latest"],
  },
  {
    name: "all with no tag runs latest",
    w: workload("all", ["myapp"]),
    offers: { [MYAPP]: offer(["latest"], { latest: D1 }) },
    want: ["app baseline"],
    needed: ["latest"],
  },
  {
    name: "baseline for the same image, digest changed: re-pushed",
    w: workload("all", ["myapp:latest"], baseline("app", "myapp:latest", D1)),
    offers: { [MYAPP]: offer(["latest"], { latest: D2 }) },
    want: [`app repushed myapp:latest@${D2}`],
    needed: ["latest"],
  },
  {
    name: "baseline for the same image, digest equal: same image",
    w: workload("all", ["myapp:latest"], baseline("app", "myapp:latest", D1)),
    offers: { [MYAPP]: offer(["latest"], { latest: D1 }) },
    want: ["app same-image"],
    needed: ["latest"],
  },
  {
    name: "baseline recorded for another image is ignored",
    w: workload("all", ["myapp:latest"], baseline("app", "myapp:stable", D1)),
    offers: { [MYAPP]: offer(["latest", "stable"], { latest: D2 }) },
    want: ["app baseline"],
    needed: ["latest"],
  },
  {
    name: "baseline recorded for another container is ignored",
    w: workload("all", ["myapp:latest"], baseline("other", "myapp:latest", D1)),
    offers: { [MYAPP]: offer(["latest"], { latest: D2 }) },
    want: ["app baseline"],
    needed: ["latest"],
  },
  {
    name: "unreadable baseline annotation counts as none",
    w: workload("all", ["myapp:latest"], { [DIGESTS_ANNOTATION]: "{not json" }),
    offers: { [MYAPP]: offer(["latest"], { latest: D2 }) },
    want: ["app baseline"],
    needed: ["latest"],
  },
  {
    name: "all: digest of the current tag unknown",
    w: workload("all", ["myapp:latest"], baseline("app", "myapp:latest", D1)),
    offers: { [MYAPP]: offer(["latest"]) },
    want: ["app digest-unknown"],
    needed: ["latest"],
  },
  {
    name: "all: current tag no longer listed, digest unknown",
    w: workload("all", ["myapp:nightly"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app digest-unknown"],
    needed: ["nightly"],
  },
  {
    name: "all with a digest-only image is not followed by polling",
    w: workload("all", [`myapp@${D1}`]),
    offers: { [MYAPP]: offer(["latest"], { latest: D2 }) },
    want: ["app current-not-version"],
    needed: [],
  },
  {
    name: "pinned digest moving version: tag and its digest",
    w: workload("minor", [`myapp:1.2.3@${D1}`]),
    offers: { [MYAPP]: offer(TAGS, { "1.3.0": D2 }) },
    want: [`app update myapp:1.3.0@${D2}`],
    needed: ["1.3.0"],
  },
  {
    name: "pinned digest moving version, digest of the new tag unknown",
    w: workload("minor", [`myapp:1.2.3@${D1}`]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app digest-unknown"],
    needed: ["1.3.0"],
  },
  {
    name: "invalid policy is reported per matched container",
    w: workload("Minor", ["myapp:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app invalid-policy"],
    needed: [],
  },
  {
    name: "containers of other repositories are untouched",
    w: workload("minor", ["myapp:1.2.3", "envoyproxy/envoy:1.0.0", "myapp2:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app update myapp:1.3.0"],
    needed: [],
  },
  {
    name: "a repository without an offer (registry failed) gets no verdict",
    w: workload("minor", ["myapp:1.2.3"]),
    offers: {},
    want: [],
    needed: [],
  },
  {
    name: "every container and init container of the repository, each on its own tag",
    w: workload("minor", ["myapp:1.2.3", "myapp:1.3.0"], undefined, ["myapp:1.0.0"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["init0 update myapp:1.3.0", "app update myapp:1.3.0", "c1 no-newer-tag"],
    needed: [],
  },
  {
    name: "the written form is kept (host spelling, library path)",
    w: workload("patch", ["index.docker.io/library/myapp:1.2.3"]),
    offers: { [MYAPP]: offer(TAGS) },
    want: ["app update index.docker.io/library/myapp:1.2.4"],
    needed: [],
  },
];

for (const c of cases) {
  Deno.test(`pollVerdicts: ${c.name}`, () => {
    const verdicts = pollVerdicts(c.w, new Map(Object.entries(c.offers)));
    const got = verdicts.map((v) => [v.container.name, v.reason, v.to].filter(Boolean).join(" "));
    assert.deepEqual(got, c.want);
    for (const v of verdicts) assert.equal(v.policy, c.w.policyLabel);
  });
  Deno.test(`digestsNeeded: ${c.name}`, () => {
    const tags = c.offers[MYAPP]?.tags ?? TAGS;
    assert.deepEqual([...digestsNeeded(c.w, MYAPP, tags)].sort(), c.needed);
  });
}

Deno.test("pollVerdicts: a registry host with a port is its own repository", () => {
  const w = workload("minor", ["localhost:5000/team/app:1.2.3", "localhost/team/app:1.2.3"]);
  const offers = new Map([["localhost:5000/team/app", offer(TAGS)]]);
  const got = pollVerdicts(w, offers).map((v) => `${v.container.name} ${v.to}`);
  assert.deepEqual(got, ["app localhost:5000/team/app:1.3.0"]);
});

Deno.test("currentTag: the tag, latest when none, nothing for a digest-only image", () => {
  const [tagged, bare, digestOnly, pinned] = workload("all", [
    "myapp:1.2.3",
    "myapp",
    `myapp@${D1}`,
    `myapp:1.2.3@${D1}`,
  ]).containers;
  assert.equal(currentTag(tagged), "1.2.3");
  assert.equal(currentTag(bare), "latest");
  assert.equal(currentTag(digestOnly), undefined);
  assert.equal(currentTag(pinned), "1.2.3");
});

Deno.test("pollVerdicts: a container changed since the registry was asked is left to the next cycle", () => {
  const asked = workload("all", [`myapp:latest@${D1}`, "myapp:1.2.3"]);
  const fresh = workload("all", [`myapp:latest@${D2}`, "myapp:1.2.3"]);
  const offers = new Map([[MYAPP, offer(["latest", ...TAGS], { latest: D1, "2.0.0": D1 })]]);
  const verdicts = pollVerdicts(fresh, offers, asked);
  assert.deepEqual(verdicts.map((v) => `${v.container.name} ${v.reason}`), [
    "app changed-since-poll",
    "c1 update",
  ]);
  // A container that was not there when the registry was asked is not decided either.
  const grown = workload("all", [`myapp:latest@${D1}`, "myapp:1.2.3", "myapp:1.2.4"]);
  assert.equal(pollVerdicts(grown, offers, asked)[2].reason, "changed-since-poll");
});
