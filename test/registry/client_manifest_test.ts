/**
 * `RegistryClient.manifest`: one GET, digest from the header or the bytes, media type, the
 * "not an image" verdict, the size cap, and not-found, against a stub registry on loopback.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MANIFEST_MEDIA_TYPES } from "../../lib/image/media_types.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { startStub } from "./stub_registry.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DIGEST = "sha256:515067bec0af45ec93a68e8e9bf89fb2dd608a89e7a1537710e833245f4e13c4";

/** The OCI manifest skopeo pushed in the captured transcripts (401 bytes, same shape). */
const IMAGE = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: `sha256:${"c".repeat(64)}`,
    size: 235,
  },
  layers: [{
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: `sha256:${"1".repeat(64)}`,
    size: 143,
  }],
});

async function sha256(text: string): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function rejection(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof RegistryError, `expected a RegistryError, got ${err}`);
  return err;
}

Deno.test("manifest: one GET accepting all four types; digest and media type from headers", async () => {
  const stub = startStub(() =>
    new Response(IMAGE, {
      headers: { "Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST },
    })
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.manifest(stub.host, "team/app", "1.2.3"), {
      digest: DIGEST,
      mediaType: OCI_MANIFEST,
    });
    assert.equal(stub.requests.length, 1);
    const [req] = stub.requests;
    assert.equal(req.method, "GET");
    assert.equal(req.target, "/v2/team/app/manifests/1.2.3");
    assert.deepEqual(req.headers.get("accept")!.split(",").map((s) => s.trim()), [
      ...MANIFEST_MEDIA_TYPES,
    ]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("manifest: without Docker-Content-Digest the digest is the sha256 of the bytes served", async () => {
  // Served with a generic content type: the manifest's own mediaType field is used instead.
  const stub = startStub(() =>
    new Response(IMAGE, { headers: { "Content-Type": "application/json" } })
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.manifest(stub.host, "app", "1.0.0"), {
      digest: await sha256(IMAGE),
      mediaType: OCI_MANIFEST,
    });
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("manifest: a Helm chart is reported as not an image", async () => {
  const helm = JSON.stringify({
    schemaVersion: 2,
    config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: DIGEST, size: 1 },
    layers: [{
      mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
      digest: DIGEST,
      size: 1,
    }],
  });
  const stub = startStub(() =>
    new Response(helm, {
      headers: { "Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST },
    })
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const info = await client.manifest(stub.host, "charts/web", "0.1.0");
    assert.match(info.notImage ?? "", /helm\.config.*not an image config/);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("manifest: an unknown tag is MANIFEST_UNKNOWN 404, not transient", async () => {
  // Body as distribution 2.8 sends it (test/fixtures/registry-api/head_unknown_tag.txt).
  const stub = startStub(() =>
    Response.json({
      errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "9.9.9" } }],
    }, { status: 404 })
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.manifest(stub.host, "myapp", "9.9.9"));
    assert.equal(err.status, 404);
    assert.equal(err.code, "MANIFEST_UNKNOWN");
    assert.equal(err.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("manifest: a body over the cap is refused, declared or streamed", async () => {
  const big = " ".repeat(2048) + IMAGE;
  const stub = startStub((req) => {
    if (req.url.pathname.endsWith("/declared")) return new Response(big);
    // A stream of unknown length, longer than the cap, sent in small chunks.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent++ > 100) return ctl.close();
        ctl.enqueue(new TextEncoder().encode(" ".repeat(64)));
      },
    });
    return new Response(body);
  });
  const client = new RegistryClient({ ...PLAIN_LOOPBACK, maxManifestBytes: 1024 });
  try {
    for (const tag of ["declared", "streamed"]) {
      const err = await rejection(client.manifest(stub.host, "app", tag));
      assert.equal(err.code, "TOO_LARGE", tag);
      assert.equal(err.transient, false);
      assert.match(err.message, /larger than 1024 bytes/);
    }
    // Under the cap it is read whole.
    const roomy = new RegistryClient({ ...PLAIN_LOOPBACK, maxManifestBytes: 1 << 20 });
    const info = await roomy.manifest(stub.host, "app", "declared");
    assert.equal(info.digest, await sha256(big));
    roomy.close();
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("manifest: a body that is not JSON, or a malformed digest header, is an error", async () => {
  const stub = startStub((req) =>
    req.url.pathname.endsWith("/text")
      ? new Response("<html>", { headers: { "Content-Type": "text/html" } })
      : new Response(IMAGE, { headers: { "Docker-Content-Digest": "md5" } })
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.match((await rejection(client.manifest(stub.host, "a", "text"))).message, /not JSON/);
    assert.match(
      (await rejection(client.manifest(stub.host, "a", "digest"))).message,
      /invalid Docker-Content-Digest/,
    );
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("manifest: asked by digest, content with another digest is an error", async () => {
  // No Docker-Content-Digest: the bytes are hashed, and they are not what was asked for.
  const stub = startStub(() => new Response(IMAGE, { headers: { "Content-Type": OCI_MANIFEST } }));
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.manifest(stub.host, "app", DIGEST));
    assert.match(err.message, new RegExp(`served sha256:[0-9a-f]{64} for digest ${DIGEST}`));
    assert.equal(err.transient, false);
    const own = await sha256(IMAGE);
    assert.equal((await client.manifest(stub.host, "app", own)).digest, own);
  } finally {
    client.close();
    await stub.close();
  }
});
