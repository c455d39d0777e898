import assert from "node:assert/strict";
import { startStubRegistry } from "../../bench/stub_registry.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

Deno.test("bench stub registry: manifests by tag and digest, an artifact, and untag", async () => {
  const registry = startStubRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const digest = registry.push("team/app", "1.0.1");
    const image = await client.manifest(registry.host, "team/app", "1.0.1");
    assert.deepEqual(image, {
      digest,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    });
    assert.deepEqual(await client.manifest(registry.host, "team/app", digest), image);
    assert.equal(await client.headDigest(registry.host, "team/app", "1.0.1"), digest);
    assert.equal(registry.manifestGets(), 2);

    registry.push("charts/web", "0.1.0", undefined, {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      body: {
        schemaVersion: 2,
        config: { mediaType: "application/vnd.cncf.helm.config.v1+json" },
        layers: [],
      },
    });
    const chart = await client.manifest(registry.host, "charts/web", "0.1.0");
    assert.match(chart.notImage ?? "", /helm/);

    registry.untag("team/app", "1.0.1");
    const err = await client.manifest(registry.host, "team/app", "1.0.1").then(
      () => undefined,
      (e) => e,
    );
    assert.equal(err?.code, "MANIFEST_UNKNOWN");
  } finally {
    client.close();
    await registry.close();
  }
});
