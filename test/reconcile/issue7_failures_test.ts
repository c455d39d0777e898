/**
 * The seven failures of issue 7, each against the whole service (fake API server, stub
 * registry), each failing on the code before the reconciler.
 *
 * @module
 */

import assert from "node:assert/strict";
import { KubeClient, type PatchType } from "../../lib/kube/client.ts";
import type { ResourceType } from "../../lib/kube/resource.ts";
import { fakeDigest, startStubRegistry } from "../../bench/stub_registry.ts";
import { clientFor, launchArgoos, type Service, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import { seedPods } from "../support/pods.ts";
import { pushEnvelope } from "../service/push_envelope.ts";

const REG = "127.0.0.1:5000";
const D1 = fakeDigest(0xd1);
const OCI = "application/vnd.oci.image.manifest.v1+json";
const D2 = fakeDigest(0xd2);

const web = (policy: string, image: string) =>
  deployment({ name: "web", policy, containers: [{ name: "app", image: `${REG}/${image}` }] });

const imageOf = (svc: { fake: Service["fake"] }) =>
  imagesOf(svc.fake.get("apps/v1", "Deployment", "default", "web"))[0];

const imageWrites = (svc: { fake: Service["fake"] }) =>
  svc.fake.requests.filter((r) =>
    r.method === "PATCH" &&
    (r.body as { op: string; path: string }[]).some((o) =>
      o.op === "replace" && o.path.endsWith("/image")
    )
  ).length;

async function withService(
  seed: Parameters<typeof startService>[0],
  fn: (svc: Service) => Promise<void>,
): Promise<void> {
  const svc = await startService(seed);
  try {
    await svc.argoos.cache.synced;
    await fn(svc);
  } finally {
    await svc.stop();
  }
}

const post = (svc: Service, tag: string, extra: { digest?: string; timestamp?: string } = {}) =>
  svc.post(pushEnvelope({ host: REG, repository: "app", tag, ...extra }));

/** A client whose first PATCH waits until released: a slow API server for one replica. */
class SlowFirstPatch extends KubeClient {
  readonly started = Promise.withResolvers<void>();
  readonly release = Promise.withResolvers<void>();
  #first = true;

  override async patch<T>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    patchType: PatchType,
  ): Promise<T> {
    if (this.#first) {
      this.#first = false;
      this.started.resolve();
      await this.release.promise;
    }
    return await super.patch<T>(type, namespace, name, patch, patchType);
  }
}

Deno.test("1. all, two replicas, a slow PATCH: the newest push wins, written once", async () => {
  const cluster = await startFakeCluster();
  const stub = startStubRegistry();
  const y = stub.push("app", "y");
  const x = stub.push("app", "x");
  cluster.fake.put(web("all", "app:1.0"));
  const slow = new SlowFirstPatch(cluster.client.connection);
  const args = ["serve", "--poll-interval", "0", "--token", "t"];
  const a = await launchArgoos(slow, args, {}, clientFor(stub));
  const b = await launchArgoos(cluster.client, args, {}, clientFor(stub));
  const send = (url: string, tag: string, timestamp: string) =>
    fetch(`${url}/event`, {
      method: "POST",
      headers: { "x-argoos-token": "t" },
      body: pushEnvelope({ host: REG, repository: "app", tag, timestamp }),
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
  try {
    await Promise.all([a.argoos.cache.synced, b.argoos.cache.synced]);
    // Y at A; its PATCH outlasts the registry's timeout, so Y is retried at B, then X comes.
    const atA = send(a.argoos.url, "y", "2026-12-01T10:00:00Z");
    await slow.started.promise;
    assert.equal((await send(b.argoos.url, "y", "2026-12-01T10:00:00Z")).status, 200);
    assert.equal((await send(b.argoos.url, "x", "2026-12-01T10:00:05Z")).status, 200);
    assert.equal(imageOf(cluster), `app=${REG}/app:x@${x}`);
    slow.release.resolve();
    assert.equal((await atA).status, 200);
    // A's guarded patch failed; A re-read and saw that X (pushed later) is what runs.
    assert.equal(imageOf(cluster), `app=${REG}/app:x@${x}`);
    assert.notEqual(y, x);
    assert.equal(imageWrites(cluster), 3, "B: y, B: x, A: its held y refused by the API server");
  } finally {
    slow.release.resolve();
    await a.argoos.stop();
    await b.argoos.stop();
    await cluster.stop();
    await stub.close();
  }
});

Deno.test("2. a push before the watch delivers the workload is rolled out when it arrives", async () => {
  await withService({ seed: (_c, reg) => reg.push("app", "1.2.4") }, async (svc) => {
    const early = await post(svc, "1.2.4");
    assert.equal(early.status, 200);
    assert.deepEqual(JSON.parse(early.text).applied, 0);
    svc.fake.put(web("patch", "app:1.2.3"));
    await waitFor(() => imageOf(svc) === `app=${REG}/app:1.2.4`, "rolled out once seen");
  });
});

Deno.test("3. forged tags and digests: refused, or checked with the registry", async () => {
  await withService({
    seed: ({ fake }, reg) => {
      for (const tag of ["1.2.3", "1.2.5"]) reg.push("app", tag);
      fake.put(web("patch", "app:1.2.3"));
    },
  }, async (svc) => {
    const badTag = await post(svc, "1.0 bad");
    assert.equal(badTag.status, 400);
    assert.match(JSON.parse(badTag.text).error, /tag "1.0 bad" breaks the reference grammar/);
    const badDigest = await post(svc, "1.2.5", { digest: "x" });
    assert.equal(badDigest.status, 400);
    assert.match(JSON.parse(badDigest.text).error, /digest "x" breaks/);
    // A tag never pushed: nothing written, logged.
    assert.equal((await post(svc, "1.2.9")).status, 200);
    assert.equal(imageOf(svc), `app=${REG}/app:1.2.3`);
    assert.ok(
      svc.log.records().some((r) => r.msg === "tag not served by the registry, not written"),
    );
    // A made-up greater version does not block the real release behind it.
    assert.equal((await post(svc, "1.2.99999")).status, 200);
    assert.equal((await post(svc, "1.2.5")).status, 200);
    assert.equal(imageOf(svc), `app=${REG}/app:1.2.5`);
    assert.equal(imageWrites(svc), 1);
  });
});

Deno.test("4. identical content re-pushed restarts nothing: the pods already run it", async () => {
  await withService({
    seed: ({ fake }, reg) => {
      reg.push("app", "latest", D1);
      const obj = fake.put(web("all", "app:latest"));
      seedPods(fake, obj, { imageID: `${REG}/app@${D1}`, count: 2 });
    },
  }, async (svc) => {
    assert.equal((await post(svc, "latest", { digest: D1 })).status, 200);
    assert.equal(imageOf(svc), `app=${REG}/app:latest`);
    assert.equal(imageWrites(svc), 0);
    // New content under the same tag is rolled out, pinned.
    svc.registry.push("app", "latest", D2);
    assert.equal((await post(svc, "latest", { digest: D2 })).status, 200);
    assert.equal(imageOf(svc), `app=${REG}/app:latest@${D2}`);
  });
});

Deno.test("5. a re-push made while Argoos was stopped is rolled out by the first poll", async () => {
  await withService({
    args: ["--poll-interval", "1h"],
    seed: ({ fake }, reg) => {
      // The pods run D1; while Argoos was down, latest moved to D2.
      const obj = fake.put(web("all", "app:latest"));
      seedPods(fake, obj, { imageID: `${REG}/app@${D1}` });
      reg.push("app", "latest", D2);
    },
  }, async (svc) => {
    await waitFor(() => imageOf(svc) === `app=${REG}/app:latest@${D2}`, "the re-push rolled out");
  });
});

Deno.test("6. signatures, Helm charts and build caches are never written", async () => {
  const sig = `sha256-${"c".repeat(64)}.sig`;
  await withService({
    seed: ({ fake }, reg) => {
      reg.push("app", sig, D1, {
        mediaType: OCI,
        body: {
          schemaVersion: 2,
          config: {
            mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
            digest: D1,
            size: 1,
          },
          layers: [],
        },
      });
      reg.push("app", "chart", D2, {
        mediaType: OCI,
        body: {
          schemaVersion: 2,
          artifactType: "application/vnd.cncf.helm.chart.v1",
          config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: D2, size: 1 },
          layers: [],
        },
      });
      reg.push("app", "2.0");
      fake.put(web("all", "app:1.0"));
    },
  }, async (svc) => {
    assert.equal((await post(svc, sig)).status, 200);
    assert.equal((await post(svc, "chart")).status, 200);
    assert.equal(imageOf(svc), `app=${REG}/app:1.0`);
    assert.ok(svc.log.records().some((r) => r.msg === "tag is not an image, not written"));
    assert.equal(imageWrites(svc), 0);
    assert.equal((await post(svc, "2.0")).status, 200);
    assert.match(imageOf(svc), new RegExp(`^app=${REG}/app:2\\.0@sha256:`));
  });
});

Deno.test("7. all takes a pre-release alike from the poll and from the webhook", async () => {
  await withService({
    args: ["--poll-interval", "1h"],
    seed: ({ fake }, reg) => {
      for (const tag of ["1.2.3", "1.3.0-rc.1"]) reg.push("app", tag);
      fake.put(web("all", "app:1.2.3"));
    },
  }, async (svc) => {
    const rc = svc.registry.digestOf("app", "1.3.0-rc.1");
    await waitFor(() => imageOf(svc) === `app=${REG}/app:1.3.0-rc.1@${rc}`, "the poll takes it");
  });
  await withService({
    seed: ({ fake }, reg) => {
      reg.push("app", "1.3.0-rc.1");
      fake.put(web("all", "app:1.2.3"));
    },
  }, async (svc) => {
    assert.equal((await post(svc, "1.3.0-rc.1")).status, 200);
    const rc = svc.registry.digestOf("app", "1.3.0-rc.1");
    assert.equal(imageOf(svc), `app=${REG}/app:1.3.0-rc.1@${rc}`);
  });
});
