import assert from "node:assert/strict";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { imageIdDigest, runningDigests } from "../../lib/workloads/running.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { deployment, startFakeCluster, type WorkloadSpec } from "../support/fake_cluster.ts";
import { seedPods } from "../support/pods.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const C = `sha256:${"c".repeat(64)}`;

Deno.test("imageIdDigest: the runtimes' imageID forms", () => {
  const table: [imageID: string | undefined, want: string | undefined][] = [
    [`docker.io/library/nginx@${A}`, A], // containerd, CRI-O
    [`docker-pullable://nginx@${A}`, A], // dockershim
    [`127.0.0.1:5000/team/app@${A}`, A],
    [A, undefined], // containerd image ID of an image loaded without a registry
    [`docker://${A}`, undefined], // dockershim image ID
    ["", undefined], // not pulled yet
    [undefined, undefined],
    [`nginx@sha256:${"a".repeat(63)}`, undefined],
  ];
  for (const [imageID, want] of table) assert.equal(imageIdDigest(imageID), want, imageID);
});

/** A stored workload of the spec, read back as Argoos reads it. */
function store(
  fake: Awaited<ReturnType<typeof startFakeCluster>>["fake"],
  spec: WorkloadSpec,
): { obj: Record<string, unknown>; workload: Workload } {
  const obj = fake.put(deployment(spec));
  return { obj, workload: readWorkload(kindNamed(spec.kind ?? "Deployment")!, obj) };
}

const repo = (digest: string) => `docker.io/library/myapp@${digest}`;

Deno.test("runningDigests: a Deployment's pods through its ReplicaSet, in two LISTs", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const { obj, workload } = store(fake, {
      name: "web",
      namespace: "shop",
      containers: [{ name: "app", image: "myapp:1.2.3" }],
    });
    seedPods(fake, obj, { imageID: repo(A), count: 3 });
    const before = fake.requests.length;
    assert.deepEqual(await runningDigests(client, workload), new Map([["app", A]]));
    const lists = fake.requests.slice(before);
    assert.deepEqual(lists.map((r) => `${r.method} ${r.path}`), [
      "GET /apis/apps/v1/namespaces/shop/replicasets",
      "GET /api/v1/namespaces/shop/pods",
    ]);
    assert.ok(lists.every((r) => r.query.get("labelSelector") === "app=web"));
  } finally {
    await stop();
  }
});

Deno.test("runningDigests: pods of another owner with the same labels are not counted", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const { obj, workload } = store(fake, {
      name: "web",
      containers: [{ name: "app", image: "myapp:1.2.3" }],
    });
    seedPods(fake, obj, { imageID: repo(A) });
    // A second Deployment whose pods carry the same app=web label (overlapping selectors).
    const twin = deployment({
      name: "web-twin",
      containers: [{ name: "app", image: "myapp:1.2.3" }],
    });
    const twinSpec = twin.spec as { template: { metadata: { labels: Record<string, string> } } };
    twinSpec.template.metadata.labels = { app: "web" };
    seedPods(fake, fake.put(twin), { imageID: repo(B), revision: "2" });
    // And a bare pod with the label, owned by nothing.
    fake.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "stray", namespace: "default", labels: { app: "web" } },
      spec: { containers: [{ name: "app", image: "myapp:1.2.3" }] },
      status: { containerStatuses: [{ name: "app", imageID: repo(C) }] },
    });
    assert.deepEqual(await runningDigests(client, workload), new Map([["app", A]]));
  } finally {
    await stop();
  }
});

Deno.test("runningDigests: only pods whose spec image is the workload's current image", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const { obj, workload } = store(fake, {
      name: "web",
      containers: [{ name: "app", image: "myapp:1.2.4" }, { name: "proxy", image: "envoy:1" }],
    });
    // The old ReplicaSet still has pods on 1.2.3 (rollout under way): they do not count.
    const envoy = `docker.io/library/envoy@${C}`;
    seedPods(fake, obj, {
      imageID: { app: repo(A), proxy: envoy },
      images: { app: "myapp:1.2.3" },
      revision: "1",
    });
    seedPods(fake, obj, { imageID: { app: repo(B), proxy: envoy }, revision: "2" });
    assert.deepEqual(
      await runningDigests(client, workload),
      new Map([["app", B], ["proxy", C]]),
    );
  } finally {
    await stop();
  }
});

Deno.test("runningDigests: disagreeing pods, image IDs and unstarted containers are unknown", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const { obj, workload } = store(fake, {
      name: "web",
      initContainers: [{ name: "migrate", image: "myapp:1.2.3" }],
      containers: [
        { name: "app", image: "myapp:1.2.3" },
        { name: "side", image: "side:1" },
        { name: "loaded", image: "local:dev" },
      ],
    });
    // Same tag, two contents: a re-push some nodes pulled and others did not.
    seedPods(fake, obj, {
      imageID: { migrate: repo(A), app: repo(A), side: repo(C), loaded: C },
      count: 2,
    });
    seedPods(fake, obj, { imageID: { migrate: repo(A), app: repo(B) }, revision: "2" });
    assert.deepEqual(
      await runningDigests(client, workload),
      new Map([["migrate", A], ["side", C]]),
    );
  } finally {
    await stop();
  }
});

Deno.test("runningDigests: a Deployment with no ReplicaSet yet costs one LIST and knows nothing", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const { workload } = store(fake, {
      name: "web",
      containers: [{ name: "app", image: "myapp:1.2.3" }],
    });
    const before = fake.requests.length;
    assert.deepEqual(await runningDigests(client, workload), new Map());
    assert.equal(fake.requests.length - before, 1);
  } finally {
    await stop();
  }
});

for (const kind of ["StatefulSet", "DaemonSet"] as const) {
  Deno.test(`runningDigests: a ${kind}'s own pods, in one LIST`, async () => {
    const { fake, client, stop } = await startFakeCluster();
    try {
      const { obj, workload } = store(fake, {
        kind,
        name: "db",
        containers: [{ name: "db", image: "myapp:1.2.3" }],
      });
      seedPods(fake, obj, { imageID: repo(A), count: 2 });
      const before = fake.requests.length;
      assert.deepEqual(await runningDigests(client, workload), new Map([["db", A]]));
      assert.equal(fake.requests.length - before, 1);
    } finally {
      await stop();
    }
  });
}

Deno.test("runningDigests: a CronJob's pods through its Jobs (by the Job uid label)", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const { obj, workload } = store(fake, {
      kind: "CronJob",
      name: "report",
      containers: [{ name: "report", image: "myapp:1.2.3" }],
    });
    seedPods(fake, obj, { imageID: repo(A), revision: "1" });
    seedPods(fake, obj, { imageID: repo(A), revision: "2" });
    // A Job of another CronJob in the namespace.
    const other = store(fake, {
      kind: "CronJob",
      name: "other",
      containers: [{ name: "report", image: "myapp:1.2.3" }],
    });
    seedPods(fake, other.obj, { imageID: repo(B) });
    const before = fake.requests.length;
    assert.deepEqual(await runningDigests(client, workload), new Map([["report", A]]));
    // The CronJob, the Jobs it runs by name (never a LIST of Jobs), one LIST of their pods.
    const reads = fake.requests.slice(before);
    assert.deepEqual(reads.map((r) => r.path), [
      "/apis/batch/v1/namespaces/default/cronjobs/report",
      "/apis/batch/v1/namespaces/default/jobs/report-29250001",
      "/apis/batch/v1/namespaces/default/jobs/report-29250002",
      "/api/v1/namespaces/default/pods",
    ]);
    assert.match(
      reads[3].query.get("labelSelector")!,
      /^batch\.kubernetes\.io\/controller-uid in \(/,
    );
  } finally {
    await stop();
  }
});

Deno.test("runningDigests: matchExpressions in the selector are sent as set-based requirements", async () => {
  const { fake, client, stop } = await startFakeCluster();
  try {
    const obj = deployment({ name: "web", containers: [{ name: "app", image: "myapp:1.2.3" }] });
    const spec = obj.spec as { selector: Record<string, unknown> };
    spec.selector = {
      matchLabels: { app: "web" },
      matchExpressions: [{ key: "tier", operator: "NotIn", values: ["batch"] }],
    };
    const stored = fake.put(obj);
    const workload = readWorkload(kindNamed("Deployment")!, stored);
    assert.equal(workload.selector, "app=web,tier notin (batch)");
    seedPods(fake, stored, { imageID: repo(A) });
    assert.deepEqual(await runningDigests(client, workload), new Map([["app", A]]));
  } finally {
    await stop();
  }
});
