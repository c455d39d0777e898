/**
 * `RegistryClient.manifest` against the real distribution registry: what it reports for the
 * images `skopeo` pushes (OCI, Docker v2 schema 2, multi-arch index), for a Helm-style
 * artifact, and that a tag pushed then deleted is reported as not found.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RegistryClient } from "../../lib/registry/client.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { deleteManifest, pushArtifact } from "./manifests.ts";
import { pushImage } from "./push.ts";
import { realRegistryTest, startRealRegistry } from "./registry.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

realRegistryTest(
  "real registry: manifest() reports digest and media type of pushed images",
  async () => {
    const registry = await startRealRegistry();
    const client = new RegistryClient(PLAIN_LOOPBACK);
    try {
      const cases = [
        { tag: "1.0.0", format: "oci" as const, multiarch: false },
        { tag: "1.0.1", format: "v2s2" as const, multiarch: false },
        { tag: "1.0.2", format: "oci" as const, multiarch: true },
      ];
      for (const c of cases) {
        const pushed = await pushImage({ registry: registry.host, repository: "team/app", ...c });
        const info = await client.manifest(registry.host, "team/app", c.tag);
        assert.deepEqual(info, { digest: pushed.digest, mediaType: pushed.mediaType }, c.tag);
        assert.deepEqual(await client.manifest(registry.host, "team/app", pushed.digest), info);
      }
      // The registry sends Docker-Content-Digest on GET too, and it is the sha256 of the body.
      const res = await fetch(`http://${registry.host}/v2/team/app/manifests/1.0.0`, {
        headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      const hex = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(res.headers.get("docker-content-digest"), `sha256:${hex}`);
    } finally {
      client.close();
      await registry.stop();
    }
  },
);

realRegistryTest(
  "real registry: a Helm chart pushed as an OCI artifact is not an image",
  async () => {
    const registry = await startRealRegistry();
    const client = new RegistryClient(PLAIN_LOOPBACK);
    try {
      const digest = await pushArtifact(registry.host, "charts/web", "0.1.0", {
        configMediaType: "application/vnd.cncf.helm.config.v1+json",
        layerMediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
      });
      const info = await client.manifest(registry.host, "charts/web", "0.1.0");
      assert.equal(info.digest, digest);
      assert.match(info.notImage ?? "", /application\/vnd\.cncf\.helm\.config\.v1\+json/);
    } finally {
      client.close();
      await registry.stop();
    }
  },
);

realRegistryTest("real registry: a tag pushed then deleted is MANIFEST_UNKNOWN", async () => {
  const registry = await startRealRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const pushed = await pushImage({ registry: registry.host, repository: "myapp", tag: "2.0.0" });
    assert.equal((await client.manifest(registry.host, "myapp", "2.0.0")).digest, pushed.digest);
    await deleteManifest(registry.host, "myapp", pushed.digest);
    for (const ref of ["2.0.0", pushed.digest]) {
      const err = await client.manifest(registry.host, "myapp", ref).then(
        () => assert.fail(`${ref} still served after the delete`),
        (e) => e,
      );
      assert.ok(err instanceof RegistryError, String(err));
      assert.equal(err.status, 404, ref);
      assert.equal(err.code, "MANIFEST_UNKNOWN", ref);
      assert.equal(err.transient, false);
    }
  } finally {
    client.close();
    await registry.stop();
  }
});
