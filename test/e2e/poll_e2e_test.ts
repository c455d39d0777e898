/**
 * Poll end to end: Argoos asks the real registry (htpasswd auth, no notifications) what exists,
 * with credentials from the workloads' imagePullSecrets, and rolls out what the policies allow.
 *
 * @module
 */

import assert from "node:assert/strict";
import { STATE_ANNOTATION } from "../../lib/policy/state.ts";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import {
  E2E_TIMEOUT_MS,
  imageOf,
  launchArgoos,
  patchCount,
  rolloutSources,
  seedWorkloads,
  TOKEN,
  waitForRollouts,
} from "./harness.ts";

const CREDS = { username: "argoos", password: "pull-s3cret" };
const PULL_SECRET = "regcred";

/** A kubernetes.io/dockerconfigjson Secret holding the registry's credentials. */
function pullSecret(host: string): Record<string, unknown> {
  const auth = btoa(`${CREDS.username}:${CREDS.password}`);
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name: PULL_SECRET, namespace: "default" },
    data: { ".dockerconfigjson": btoa(JSON.stringify({ auths: { [host]: { auth } } })) },
  };
}

realRegistryTest("poll e2e: an authenticated registry without notifications", async (t) => {
  const cluster = await startFakeCluster();
  const registry = await startRealRegistry({ auth: CREDS });
  const host = registry.host;
  const push = (repository: string, tag: string, content?: string) =>
    pushImage({ registry: host, repository, tag, content, creds: CREDS });
  /** A Deployment pulling `image` with the pull secret (unless `secret` is false). */
  const workload = (name: string, policy: string, image: string, secret = true) =>
    deployment({
      name,
      policy,
      containers: [{ name: "app", image: `${host}/${image}` }],
      podSpec: secret ? { imagePullSecrets: [{ name: PULL_SECRET }] } : {},
    });
  cluster.fake.put(pullSecret(host));

  // A long interval, so only the cycles this test runs do anything after the first.
  let { argoos, log } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "1h"]);
  // Each manual cycle is an hour after the last, so every repository is due.
  let clock = Date.now();
  const cycle = () => argoos.poller!.cycle(clock += 3_600_000);
  const seed = (...objs: Record<string, unknown>[]) => seedWorkloads(cluster.fake, argoos, ...objs);
  try {
    await argoos.cache.synced;

    await t.step("credentials come from the workload's imagePullSecrets", async () => {
      await seed(
        workload("private", "patch", "private:1.0.0"),
        workload("no-secret", "patch", "nosecret:1.0.0", false),
      );
      await push("private", "1.0.1");
      await push("nosecret", "1.0.1");

      const stats = await cycle();

      assert.equal(imageOf(cluster.fake, "private"), `${host}/private:1.0.1`);
      assert.equal(imageOf(cluster.fake, "no-secret"), `${host}/nosecret:1.0.0`);
      assert.equal(stats.failedRepositories, 1);
      assert.deepEqual(rolloutSources(log, "Deployment default/private"), ["poll"]);
    });

    await t.step("`minor` picks the greatest allowed listed tag", async () => {
      await seed(workload("minor", "minor", "minor-app:1.2.3"));
      for (const tag of ["1.2.3", "1.2.4", "1.3.0", "2.0.0"]) await push("minor-app", tag);

      await cycle();

      assert.equal(imageOf(cluster.fake, "minor"), `${host}/minor-app:1.3.0`);
      assert.equal(patchCount(cluster.fake, "minor"), 1);
    });

    await t.step("`latest` re-pushed under `all` ends pinned to the new digest", async () => {
      const first = await push("edge", "latest", "edge build 1");
      await seed(workload("edge", "all", "edge:latest"));

      await cycle();
      const seen = cluster.fake.get("apps/v1", "Deployment", "default", "edge");
      const annotations = (seen?.metadata as { annotations?: Record<string, string> }).annotations;
      assert.ok(annotations?.[STATE_ANNOTATION]?.includes(first.digest), "what runs recorded");
      assert.equal(imageOf(cluster.fake, "edge"), `${host}/edge:latest`);

      const second = await push("edge", "latest", "edge build 2");
      assert.notEqual(second.digest, first.digest);
      await cycle();
      assert.equal(imageOf(cluster.fake, "edge"), `${host}/edge:latest@${second.digest}`);

      // One PATCH recorded the first digest (pods unknown), one rolled out the second.
      await cycle();
      assert.equal(patchCount(cluster.fake, "edge"), 2);
    });

    await t.step("poll-only mode: no webhook, health served, rollouts happen", async () => {
      await argoos.stop();
      ({ argoos, log } = await launchArgoos(cluster.client, ["poll", "--poll-interval", "1s"]));
      await seed(workload("poll-only", "minor", "pollonly:1.0.0"));

      const event = await fetch(`${argoos.url}/event`, {
        method: "POST",
        headers: { "X-Argoos-Token": TOKEN },
        body: '{"events":[]}',
      });
      await event.body?.cancel();
      assert.equal(event.status, 404);
      const health = await fetch(`${argoos.url}/healtz`);
      await health.body?.cancel();
      assert.equal(health.status, 200);

      await push("pollonly", "1.1.0");
      await waitFor(
        () => imageOf(cluster.fake, "poll-only") === `${host}/pollonly:1.1.0`,
        "poll-only on 1.1.0",
        E2E_TIMEOUT_MS,
      );
      assert.deepEqual(await waitForRollouts(log, "Deployment default/poll-only", 1), ["poll"]);
    });
  } finally {
    await argoos.stop();
    await registry.stop();
    await cluster.stop();
  }
});

realRegistryTest("poll e2e: a push made while Argoos was down is rolled out at start", async () => {
  const cluster = await startFakeCluster();
  let { argoos, log } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "1h"]);
  const registry = await startRealRegistry({
    notifyUrl: `${argoos.url}/event`,
    token: TOKEN,
    notifyBackoff: "200ms",
  });
  const host = registry.host;
  try {
    await seedWorkloads(
      cluster.fake,
      argoos,
      deployment({
        name: "web",
        policy: "minor",
        containers: [{ name: "app", image: `${host}/myapp:1.0.0` }],
      }),
    );
    await pushImage({ registry: host, repository: "myapp", tag: "1.0.1" });
    await waitFor(
      () => imageOf(cluster.fake, "web") === `${host}/myapp:1.0.1`,
      "web on 1.0.1 by webhook",
      E2E_TIMEOUT_MS,
    );

    await argoos.stop();
    // Its notification goes to the stopped address and is never answered.
    await pushImage({ registry: host, repository: "myapp", tag: "1.1.0" });
    ({ argoos, log } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "1h"]));

    // With an hour between cycles, only the first cycle after start can have done this.
    await waitFor(
      () => imageOf(cluster.fake, "web") === `${host}/myapp:1.1.0`,
      "web on 1.1.0 by the first poll",
      E2E_TIMEOUT_MS,
    );
    assert.deepEqual(await waitForRollouts(log, "Deployment default/web", 1), ["poll"]);
  } finally {
    await argoos.stop();
    await registry.stop();
    await cluster.stop();
  }
});
