/**
 * Table test of the webhook rule per container: which containers a push concerns, and what
 * each should run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { pushVerdicts } from "../../lib/webhook/push_verdicts.ts";
import { deployment } from "../support/workload_object.ts";

const OLD = "sha256:" + "a".repeat(64);
const NEW = "sha256:" + "b".repeat(64);
const MYAPP = "docker.io/library/myapp";

interface Case {
  name: string;
  policy: string;
  containers: { name: string; image: string }[];
  initContainers?: { name: string; image: string }[];
  push: { repository: string; tag: string; digest?: string };
  /** `container=reason->to` per verdict, in order (init containers first). */
  want: string[];
}

const cases: Case[] = [
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

Deno.test("pushVerdicts table", async (t) => {
  for (const c of cases) {
    await t.step(c.name, () => {
      const workload = readWorkload(
        kindNamed("Deployment")!,
        deployment({
          name: "web",
          policy: c.policy,
          containers: c.containers,
          initContainers: c.initContainers,
        }),
      );
      const verdicts = pushVerdicts(workload, { digest: NEW, ...c.push });
      assert.deepEqual(
        verdicts.map((v) => `${v.container.name}=${v.reason}->${v.to ?? ""}`),
        c.want,
      );
      for (const v of verdicts) assert.equal(v.policy, c.policy);
    });
  }
});
