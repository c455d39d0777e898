/**
 * Hosted registries through a mirror, end to end: with REGISTRY_MIRRORS pointing docker.io,
 * quay.io and ghcr.io at a real local registry, a Docker Hub, a Quay and a GitHub payload each
 * roll out the workload that names the public image, as far as the mirror really holds the
 * tag; a payload naming a tag the mirror does not hold rolls out nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { githubSignature } from "../../lib/webhook/auth.ts";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { deployment, startFakeCluster } from "../support/fake_cluster.ts";
import { fixture } from "../webhook/sources/fixture.ts";
import { imageOf, launchArgoos, patchCount, seedWorkloads, TOKEN } from "./harness.ts";

// Fixtures are edited in place: their shape is the vendor's, checked by the parser tests.
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** Docker Hub's documented payload, for another repository and tag. */
function dockerHub(repoName: string, tag: string): string {
  const body = fixture("dockerhub/push.json") as Json;
  body.repository.repo_name = repoName;
  body.push_data.tag = tag;
  return JSON.stringify(body);
}

/** Quay's documented `repo_push`, for another image and tag. */
function quay(dockerUrl: string, tag: string): string {
  const body = fixture("quay/repo_push.json") as Json;
  body.docker_url = dockerUrl;
  body.updated_tags = [tag];
  return JSON.stringify(body);
}

/** GitHub's documented `package` `published` event, for another package, tag and digest. */
function github(namespace: string, name: string, tag: string, digest: string): string {
  const body = fixture("github/package_published.json") as Json;
  body.package.namespace = namespace;
  body.package.name = name;
  body.package.package_version.package_url = `ghcr.io/${namespace}/${name}:${tag}`;
  body.package.package_version.container_metadata.tag = { name: tag, digest };
  return JSON.stringify(body);
}

realRegistryTest(
  "mirrors e2e: Docker Hub, Quay and GitHub payloads roll out what the mirror holds",
  async () => {
    const registry = await startRealRegistry();
    const host = registry.host;
    const cluster = await startFakeCluster();
    const { argoos } = await launchArgoos(cluster.client, [
      "serve",
      "--poll-interval",
      "0",
      "--registry-mirror",
      `docker.io=${host},quay.io=${host},ghcr.io=${host}`,
    ]);
    const send = async (path: string, body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${argoos.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      return { status: res.status, text: await res.text() };
    };
    try {
      // The mirror holds these (the repository path each public name maps to).
      await pushImage({ registry: host, repository: "library/nginx", tag: "1.25.3" });
      await pushImage({ registry: host, repository: "quayorg/app", tag: "1.0.1" });
      const gh = await pushImage({ registry: host, repository: "ghorg/app", tag: "1.0.1" });
      await argoos.cache.synced;
      await seedWorkloads(
        cluster.fake,
        argoos,
        ...[
          ["hub", "nginx:1.25.2"],
          ["quay", "quay.io/quayorg/app:1.0.0"],
          ["ghcr", "ghcr.io/ghorg/app:1.0.0"],
        ].map(([name, image]) =>
          deployment({ name, policy: "patch", containers: [{ name: "app", image }] })
        ),
      );

      // Tags the mirror does not hold: answered 200 (nothing to retry), nothing written.
      const notHeld = await send(`/event/dockerhub/${TOKEN}`, dockerHub("library/nginx", "1.25.4"));
      assert.equal(notHeld.status, 200, notHeld.text);
      const notHeldQuay = await send(`/event/quay/${TOKEN}`, quay("quay.io/quayorg/app", "1.0.2"));
      assert.equal(notHeldQuay.status, 200, notHeldQuay.text);
      assert.equal(imageOf(cluster.fake, "hub"), "nginx:1.25.2");
      assert.equal(imageOf(cluster.fake, "quay"), "quay.io/quayorg/app:1.0.0");
      assert.equal(patchCount(cluster.fake, "hub") + patchCount(cluster.fake, "quay"), 0);

      const hub = await send(`/event/dockerhub/${TOKEN}`, dockerHub("nginx", "1.25.3"));
      assert.equal(hub.status, 200, hub.text);
      assert.equal(JSON.parse(hub.text).applied, 1, hub.text);
      assert.equal(imageOf(cluster.fake, "hub"), "nginx:1.25.3");

      const q = await send(`/event/quay/${TOKEN}`, quay("quay.io/quayorg/app", "1.0.1"));
      assert.equal(q.status, 200, q.text);
      assert.equal(imageOf(cluster.fake, "quay"), "quay.io/quayorg/app:1.0.1");

      const body = github("ghorg", "app", "1.0.1", gh.digest);
      const g = await send("/event/github", body, {
        "x-github-event": "package",
        "x-hub-signature-256": await githubSignature(TOKEN, body),
      });
      assert.equal(g.status, 200, g.text);
      assert.equal(imageOf(cluster.fake, "ghcr"), "ghcr.io/ghorg/app:1.0.1");
      for (const name of ["hub", "quay", "ghcr"]) assert.equal(patchCount(cluster.fake, name), 1);
    } finally {
      await argoos.stop();
      await cluster.stop();
      await registry.stop();
    }
  },
);
