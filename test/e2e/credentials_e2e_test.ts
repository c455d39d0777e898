/**
 * Credentials a plugin mints, end to end: Docker Hub mirrored by a real registry that wants
 * a login; Argoos runs the kubelet credential provider plugin from its bin dir for the host it
 * really asks (the mirror's, as containerd does) and the Docker Hub payload rolls out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { deployment, startFakeCluster } from "../support/fake_cluster.ts";
import { imageOf, launchArgoos, seedWorkloads, TOKEN } from "./harness.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";

realRegistryTest(
  "credentials e2e: a provider plugin's login for the mirror host lets a Docker Hub push roll out",
  async () => {
    const login = { username: "mirror-user", password: "mirror-pw" };
    const registry = await startRealRegistry({ auth: login });
    const host = registry.host;
    const dir = await Deno.makeTempDir({ prefix: "argoos-plugin-e2e-" });
    const cluster = await startFakeCluster();
    const binDir = `${dir}/bin`;
    await Deno.mkdir(binDir);
    const answer = {
      apiVersion: V1,
      kind: "CredentialProviderResponse",
      cacheKeyType: "Registry",
      cacheDuration: "1m",
      auth: { [host]: login },
    };
    await Deno.writeTextFile(`${dir}/answer.json`, JSON.stringify(answer));
    await Deno.writeTextFile(
      `${binDir}/mirror-login`,
      `#!/bin/sh\ncat >> "${dir}/requests"; echo >> "${dir}/requests"; cat "${dir}/answer.json"\n`,
    );
    await Deno.chmod(`${binDir}/mirror-login`, 0o755);
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      [
        "apiVersion: kubelet.config.k8s.io/v1",
        "kind: CredentialProviderConfig",
        "providers:",
        "  - name: mirror-login",
        `    matchImages: ["${host}"]`,
        "    defaultCacheDuration: 1m",
        `    apiVersion: ${V1}`,
      ].join("\n"),
    );
    const { argoos } = await launchArgoos(cluster.client, [
      "serve",
      "--poll-interval",
      "0",
      "--registry-mirror",
      `docker.io=${host}`,
      "--image-credential-provider-config",
      `${dir}/config.yaml`,
      "--image-credential-provider-bin-dir",
      binDir,
    ]);
    try {
      await pushImage({ registry: host, repository: "library/app", tag: "1.0.1", creds: login });
      await argoos.cache.synced;
      await seedWorkloads(
        cluster.fake,
        argoos,
        deployment({
          name: "web",
          policy: "patch",
          containers: [{ name: "app", image: "app:1.0.0" }],
        }),
      );
      const res = await fetch(`${argoos.url}/event/dockerhub/${TOKEN}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          push_data: { pushed_at: 1_700_000_000, tag: "1.0.1" },
          repository: { repo_name: "app" },
        }),
      });
      assert.equal(res.status, 200, await res.text());
      assert.equal(imageOf(cluster.fake, "web"), "app:1.0.1");
      // The plugin was asked for the image on the mirror's host, the one Argoos contacts.
      const requests = (await Deno.readTextFile(`${dir}/requests`)).split("\n").filter(Boolean)
        .map((l) => JSON.parse(l));
      assert.deepEqual(requests.map((r) => r.image), [`${host}/library/app`]);
    } finally {
      await argoos.stop();
      await cluster.stop();
      await registry.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
