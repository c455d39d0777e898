/**
 * Webhook end to end: the real registry notifies an in-process Argoos, configured as users are
 * told to (endpoint url + `X-Argoos-Token` header), images are pushed with skopeo, and the
 * workloads in a fake API server end up where the policies say.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import {
  E2E_TIMEOUT_MS,
  imageOf,
  launchArgoos,
  patchCount,
  seedWorkloads,
  TOKEN,
  waitForRollouts,
} from "./harness.ts";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

realRegistryTest("webhook e2e: real registry pushes roll out labelled Deployments", async (t) => {
  const cluster = await startFakeCluster();
  const { argoos, log } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "0"]);
  const registry = await startRealRegistry({
    notifyUrl: `${argoos.url}/event`,
    token: TOKEN,
    notifyBackoff: "200ms",
  });
  const host = registry.host;
  const push = (
    repository: string,
    tag: string,
    extra: { content?: string; multiarch?: boolean } = {},
  ) => pushImage({ registry: host, repository, tag, ...extra });
  const seed = (...objs: Record<string, unknown>[]) => seedWorkloads(cluster.fake, argoos, ...objs);
  try {
    await argoos.cache.synced;

    await t.step("patch/minor/major/all each land where their policy says", async () => {
      const app = { name: "app", image: `${host}/myapp:1.2.3` };
      const sidecar = { name: "sidecar", image: `${host}/sidecar:1.2.3` };
      cluster.fake.put(deployment({ name: "unlabelled", containers: [app] }));
      await seed(
        ...["patch", "minor", "major", "all"].map((policy) =>
          deployment({ name: `on-${policy}`, policy, containers: [app, sidecar] })
        ),
      );

      let last = "";
      for (const tag of ["1.2.4", "1.3.0", "2.0.0"]) last = (await push("myapp", tag)).digest;

      // `all` pins what was pushed, so a repeat of the push decides "same image".
      const expected = {
        patch: "1.2.4",
        minor: "1.3.0",
        major: "2.0.0",
        all: `2.0.0@${last}`,
      };
      await waitFor(
        () =>
          Object.entries(expected).every(([policy, tag]) =>
            imageOf(cluster.fake, `on-${policy}`) === `${host}/myapp:${tag}`
          ),
        "every policy's final tag",
        E2E_TIMEOUT_MS,
      );
      for (const policy of Object.keys(expected)) {
        assert.equal(imageOf(cluster.fake, `on-${policy}`, "sidecar"), sidecar.image);
      }
      assert.equal(imageOf(cluster.fake, "unlabelled"), app.image);
      assert.equal(patchCount(cluster.fake, "unlabelled"), 0);
      // patch moves once, minor twice, major and all on every push.
      assert.deepEqual(
        ["patch", "minor", "major", "all"].map((p) => patchCount(cluster.fake, `on-${p}`)),
        [1, 2, 3, 3],
      );
    });

    await t.step("a multi-arch index push is acted on once; its children are ignored", async () => {
      await seed(deployment({
        name: "multi",
        policy: "minor",
        containers: [{ name: "app", image: `${host}/multi:1.0.0` }],
      }));

      const pushed = await push("multi", "1.1.0", { multiarch: true });
      assert.equal(pushed.mediaType, OCI_INDEX);

      await waitFor(
        () => imageOf(cluster.fake, "multi") === `${host}/multi:1.1.0`,
        "multi on 1.1.0",
        E2E_TIMEOUT_MS,
      );
      assert.equal(patchCount(cluster.fake, "multi"), 1);
      // The two platform manifests go out before the index, so they were delivered already.
      const byDigest = log.records().filter((r) =>
        r.msg === "event ignored" && String(r.reason).endsWith(": push by digest")
      );
      assert.ok(byDigest.length >= 2, `children ignored: ${byDigest.length}`);
    });

    await t.step("a nested repository is matched by its full path", async () => {
      await seed(
        deployment({
          name: "team-app",
          policy: "patch",
          containers: [{ name: "app", image: `${host}/team/app:1.0.0` }],
        }),
        deployment({
          name: "plain-app",
          policy: "patch",
          containers: [{ name: "app", image: `${host}/app:1.0.0` }],
        }),
      );

      await push("team/app", "1.0.1");

      await waitFor(
        () => imageOf(cluster.fake, "team-app") === `${host}/team/app:1.0.1`,
        "team/app on 1.0.1",
        E2E_TIMEOUT_MS,
      );
      assert.equal(imageOf(cluster.fake, "plain-app"), `${host}/app:1.0.0`);
    });

    await t.step("`latest` pushed again under `all` is pinned to the new digest", async () => {
      await seed(deployment({
        name: "edge",
        policy: "all",
        containers: [{ name: "app", image: `${host}/edge:latest` }],
      }));

      const first = await push("edge", "latest", { content: "edge build 1" });
      await waitFor(
        () => imageOf(cluster.fake, "edge") === `${host}/edge:latest@${first.digest}`,
        "edge pinned to the first push",
        E2E_TIMEOUT_MS,
      );

      const second = await push("edge", "latest", { content: "edge build 2" });
      assert.notEqual(second.digest, first.digest);
      await waitFor(
        () => imageOf(cluster.fake, "edge") === `${host}/edge:latest@${second.digest}`,
        "edge pinned to the second push",
        E2E_TIMEOUT_MS,
      );
      assert.deepEqual(await waitForRollouts(log, "Deployment default/edge", 2), [
        "webhook",
        "webhook",
      ]);
      // Nothing pushed since touched the multi-arch workload again.
      assert.equal(patchCount(cluster.fake, "multi"), 1);
    });
  } finally {
    await argoos.stop();
    await registry.stop();
    await cluster.stop();
  }
});

realRegistryTest("webhook e2e: a wrong registry token is refused until it matches", async () => {
  const cluster = await startFakeCluster();
  let { argoos, log } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "0"]);
  const registry = await startRealRegistry({
    notifyUrl: `${argoos.url}/event`,
    token: "not-the-token",
    notifyBackoff: "200ms",
  });
  try {
    await seedWorkloads(
      cluster.fake,
      argoos,
      deployment({
        name: "web",
        policy: "patch",
        containers: [{ name: "app", image: `${registry.host}/myapp:1.2.3` }],
      }),
    );

    await pushImage({ registry: registry.host, repository: "myapp", tag: "1.2.4" });

    // The registry keeps retrying the refused delivery (and queues the rest behind it).
    await waitFor(
      () =>
        log.records().filter((r) => r.msg === "delivery refused: missing or wrong token").length >=
          3,
      "three refused deliveries",
      E2E_TIMEOUT_MS,
    );
    assert.equal(imageOf(cluster.fake, "web"), `${registry.host}/myapp:1.2.3`);
    assert.equal(patchCount(cluster.fake, "web"), 0);

    // Once the tokens match (here: Argoos restarted on the same address with the registry's
    // token), the retried delivery goes through and nothing was lost.
    const listen = new URL(argoos.url).host;
    await argoos.stop();
    ({ argoos, log } = await launchArgoos(cluster.client, [
      "serve",
      "--poll-interval",
      "0",
      "--listen",
      listen,
      "--token",
      "not-the-token",
    ]));
    await waitFor(
      () => imageOf(cluster.fake, "web") === `${registry.host}/myapp:1.2.4`,
      "web on 1.2.4 after the fix",
      E2E_TIMEOUT_MS,
    );
    assert.deepEqual(await waitForRollouts(log, "Deployment default/web", 1), ["webhook"]);
  } finally {
    await argoos.stop();
    await registry.stop();
    await cluster.stop();
  }
});
