/**
 * Tag schemes end to end (issue 9): a variant image, CI tags with a timestamp under `newest`, and
 * a semver range, followed through the real registry by its notifications and by the poll.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ORDER, SEMVER_RANGE, SORT_BY, TAG_PATTERN } from "../../lib/policy/rules.ts";
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
} from "./harness.ts";

/** linuxserver/CI style: `main-<short sha>-<unix seconds>`, ordered by the seconds. */
const CI_TAGS = {
  [TAG_PATTERN]: "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$",
  [SORT_BY]: "ts",
  [ORDER]: "numerical",
};
/** Any 1.x from 1.4 on, never 2. */
const ONE_X = { [SEMVER_RANGE]: ">=1.4 <2" };

/** The three workloads every mode follows, on registry `host`. */
function workloads(host: string) {
  const one = (name: string, policy: string, image: string, annotations = {}) =>
    deployment({
      name,
      policy,
      annotations,
      containers: [{ name: "app", image: `${host}/${image}` }],
    });
  return [
    one("web", "minor", "nginx:1.25.3-alpine"),
    one("ci", "newest", "ci:main-1a2b3c4-1732800000", CI_TAGS),
    one("lib", "major", "lib:1.4.0", ONE_X),
  ];
}

realRegistryTest("tag schemes e2e: webhook", async (t) => {
  const cluster = await startFakeCluster();
  const { argoos } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "0"]);
  const registry = await startRealRegistry({
    notifyUrl: `${argoos.url}/event`,
    token: TOKEN,
    notifyBackoff: "200ms",
  });
  const host = registry.host;
  const push = (repository: string, tag: string) => pushImage({ registry: host, repository, tag });
  const landsOn = (name: string, tag: string) =>
    waitFor(
      () => imageOf(cluster.fake, name)?.startsWith(`${host}/${tag}`),
      `${name} on ${tag}`,
      E2E_TIMEOUT_MS,
    );
  try {
    await argoos.cache.synced;
    await seedWorkloads(cluster.fake, argoos, ...workloads(host));

    await t.step("an -alpine workload takes the next -alpine tag, not the plain one", async () => {
      await push("nginx", "1.25.4");
      await push("nginx", "1.26.0");
      await push("nginx", "1.25.4-alpine");
      await landsOn("web", "nginx:1.25.4-alpine");
      await push("nginx", "1.26.1");
      await push("nginx", "1.26.1-alpine");
      await landsOn("web", "nginx:1.26.1-alpine");
      // Plain tags were delivered first each time and never written.
      assert.equal(patchCount(cluster.fake, "web"), 2);
    });

    await t.step("newest follows CI pushes by their timestamp", async () => {
      await push("ci", "main-5d6e7f8-1732900000");
      await landsOn("ci", "ci:main-5d6e7f8-1732900000");
      // Outside the pattern, and a late push of an older build: neither is taken.
      await push("ci", "pr-12-1733000000");
      await push("ci", "main-0a0a0a0-1732850000");
      await push("ci", "main-9abcdef-1733100000");
      await landsOn("ci", "ci:main-9abcdef-1733100000");
      assert.equal(patchCount(cluster.fake, "ci"), 2);
    });

    await t.step("a range stops at its bound", async () => {
      await push("lib", "1.5.0");
      await landsOn("lib", "lib:1.5.0");
      await push("lib", "2.0.0");
      await push("lib", "1.6.0");
      // Had 2.0.0 been taken, 1.6.0 would be a downgrade and never written.
      await landsOn("lib", "lib:1.6.0");
      assert.equal(patchCount(cluster.fake, "lib"), 2);
    });
  } finally {
    await registry.stop();
    await argoos.stop();
    await cluster.stop();
  }
});

realRegistryTest("tag schemes e2e: poll", async (t) => {
  const cluster = await startFakeCluster();
  const registry = await startRealRegistry();
  const host = registry.host;
  const push = (repository: string, tag: string) => pushImage({ registry: host, repository, tag });
  const { argoos } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "1h"]);
  let clock = Date.now();
  const cycle = () => argoos.poller!.cycle(clock += 3_600_000);
  try {
    await argoos.cache.synced;
    for (const tag of ["1.25.3-alpine", "1.25.4", "1.26.0", "1.25.4-alpine", "1.26.0-alpine"]) {
      await push("nginx", tag);
    }
    for (const tag of ["main-1a2b3c4-1732800000", "main-5d6e7f8-1732900000", "pr-12-1733000000"]) {
      await push("ci", tag);
    }
    for (const tag of ["1.4.0", "1.5.0", "1.9.1", "2.0.0"]) await push("lib", tag);
    await seedWorkloads(cluster.fake, argoos, ...workloads(host));

    await t.step("one cycle: each workload on the greatest tag its scheme allows", async () => {
      await cycle();
      await waitFor(
        () =>
          imageOf(cluster.fake, "web") === `${host}/nginx:1.26.0-alpine` &&
          imageOf(cluster.fake, "ci") === `${host}/ci:main-5d6e7f8-1732900000` &&
          imageOf(cluster.fake, "lib") === `${host}/lib:1.9.1`,
        "every workload moved",
        E2E_TIMEOUT_MS,
      );
    });

    await t.step("a later CI build is followed; nothing else moves", async () => {
      await push("ci", "main-9abcdef-1733100000");
      await push("nginx", "1.27.0");
      await cycle();
      await waitFor(
        () => imageOf(cluster.fake, "ci") === `${host}/ci:main-9abcdef-1733100000`,
        "ci on the later build",
        E2E_TIMEOUT_MS,
      );
      assert.equal(imageOf(cluster.fake, "web"), `${host}/nginx:1.26.0-alpine`);
      assert.equal(imageOf(cluster.fake, "lib"), `${host}/lib:1.9.1`);
      assert.deepEqual(["web", "ci", "lib"].map((n) => patchCount(cluster.fake, n)), [1, 2, 1]);
    });
  } finally {
    await argoos.stop();
    await registry.stop();
    await cluster.stop();
  }
});
