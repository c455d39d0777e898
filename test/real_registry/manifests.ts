/**
 * Registry API calls the truth-check tests need beside `skopeo`: delete a manifest by digest
 * (the test registry runs with `storage.delete.enabled: true`) and push an OCI artifact (a
 * manifest whose config is not an image config) by hand, the way `helm push` or `oras push`
 * store one.
 *
 * @module
 */

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function expect(res: Response, status: number, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status}: ${text}`);
}

/**
 * `DELETE /v2/<repository>/manifests/<digest>`: removes the manifest and every tag pointing at
 * it (the registry answers 202).
 *
 * @example
 * ```ts ignore
 * import { deleteManifest } from "./manifests.ts";
 * await deleteManifest("127.0.0.1:5000", "myapp", "sha256:…");
 * ```
 */
export async function deleteManifest(
  registry: string,
  repository: string,
  digest: string,
): Promise<void> {
  const url = `http://${registry}/v2/${repository}/manifests/${digest}`;
  await expect(await fetch(url, { method: "DELETE" }), 202, `DELETE ${url}`);
}

/** Monolithic blob upload: POST to open the upload, PUT the bytes with the digest. */
async function uploadBlob(
  registry: string,
  repository: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const digest = await sha256(bytes);
  const start = await fetch(`http://${registry}/v2/${repository}/blobs/uploads/`, {
    method: "POST",
  });
  await expect(start, 202, "start blob upload");
  const location = new URL(start.headers.get("location")!, `http://${registry}`);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: bytes,
  });
  await expect(put, 201, "finish blob upload");
  return digest;
}

/**
 * Pushes an OCI manifest with the given config and single layer media types (e.g. a Helm
 * chart: `application/vnd.cncf.helm.config.v1+json`) under `tag`; returns its digest.
 *
 * @example
 * ```ts ignore
 * import { pushArtifact } from "./manifests.ts";
 * await pushArtifact("127.0.0.1:5000", "charts/web", "0.1.0", {
 *   configMediaType: "application/vnd.cncf.helm.config.v1+json",
 *   layerMediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
 * });
 * ```
 */
export async function pushArtifact(
  registry: string,
  repository: string,
  tag: string,
  types: { configMediaType: string; layerMediaType: string },
): Promise<string> {
  const encode = (s: string) => new TextEncoder().encode(s);
  const config = encode('{"name":"web","version":"0.1.0","apiVersion":"v2"}');
  const layer = encode(`artifact ${repository}:${tag}`);
  const manifest = encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: types.configMediaType,
      digest: await uploadBlob(registry, repository, config),
      size: config.length,
    },
    layers: [{
      mediaType: types.layerMediaType,
      digest: await uploadBlob(registry, repository, layer),
      size: layer.length,
    }],
  }));
  const url = `http://${registry}/v2/${repository}/manifests/${tag}`;
  const res = await fetch(url, {
    method: "PUT",
    headers: { "Content-Type": OCI_MANIFEST },
    body: manifest,
  });
  await expect(res, 201, `PUT ${url}`);
  return sha256(manifest);
}
