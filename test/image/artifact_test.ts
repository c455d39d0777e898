import assert from "node:assert/strict";
import { isArtifactTag, notAnImage } from "../../lib/image/artifact.ts";

const HEX = "0123456789abcdef".repeat(4);
const d = (c: string) => `sha256:${c.repeat(64)}`;

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

Deno.test("isArtifactTag: cosign tag scheme with any suffix, nothing else", () => {
  const table: [tag: string, want: boolean][] = [
    [`sha256-${HEX}.sig`, true],
    [`sha256-${HEX}.att`, true],
    [`sha256-${HEX}.sbom`, true],
    [`sha256-${HEX}`, true],
    [`sha256-${HEX}.anything-else`, true],
    [`sha256-${HEX.toUpperCase()}.sig`, true],
    [`sha256-${HEX.slice(1)}`, false], // 63 hex digits
    ["sha256-abc.sig", false],
    ["1.2.3", false],
    ["latest", false],
    [`v1-sha256-${HEX}`, false],
  ];
  for (const [tag, want] of table) assert.equal(isArtifactTag(tag), want, tag);
});

/** A single manifest of the shape `mediaType` + config + layers. */
function single(
  mediaType: string,
  configType: string,
  layerTypes: string[],
  extra: Record<string, unknown> = {},
) {
  return {
    schemaVersion: 2,
    mediaType,
    ...extra,
    config: { mediaType: configType, digest: d("c"), size: 7023 },
    layers: layerTypes.map((mediaType, i) => ({ mediaType, digest: d(String(i)), size: 32654 })),
  };
}

function index(mediaType: string, children: Record<string, unknown>[], extra = {}) {
  return { schemaVersion: 2, mediaType, ...extra, manifests: children };
}

const amd64 = { architecture: "amd64", os: "linux" };

const table: [name: string, manifest: unknown, mediaType: string, want: RegExp | undefined][] = [
  // OCI image-spec, manifest.md "Example Image Manifest".
  [
    "OCI image manifest",
    single(OCI_MANIFEST, OCI_CONFIG, [OCI_LAYER_GZIP, OCI_LAYER_GZIP, OCI_LAYER_GZIP]),
    OCI_MANIFEST,
    undefined,
  ],
  // OCI manifest without its optional mediaType field: the served Content-Type decides.
  [
    "OCI manifest, mediaType only in the header",
    { schemaVersion: 2, config: { mediaType: OCI_CONFIG }, layers: [] },
    OCI_MANIFEST,
    undefined,
  ],
  // distribution docs, manifest-v2-2.md "Image Manifest Field Descriptions" example.
  [
    "Docker v2 schema 2 manifest",
    single(DOCKER_MANIFEST, "application/vnd.docker.container.image.v1+json", [
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    ]),
    DOCKER_MANIFEST,
    undefined,
  ],
  // zstd layers (OCI image-spec layer.md media types).
  [
    "OCI manifest with zstd and non-distributable layers",
    single(OCI_MANIFEST, OCI_CONFIG, [
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    ]),
    OCI_MANIFEST,
    undefined,
  ],
  // distribution docs, manifest-v2-2.md "Manifest List" example (ppc64le + amd64).
  [
    "Docker manifest list",
    index(DOCKER_LIST, [
      { mediaType: DOCKER_MANIFEST, digest: d("1"), size: 7143, platform: amd64 },
      {
        mediaType: DOCKER_MANIFEST,
        digest: d("2"),
        size: 7682,
        platform: { architecture: "ppc64le", os: "linux" },
      },
    ]),
    DOCKER_LIST,
    undefined,
  ],
  // docker buildx build --push with default provenance: one image plus an attestation manifest
  // (platform unknown/unknown, annotation vnd.docker.reference.type=attestation-manifest).
  [
    "buildx image index with an attestation manifest",
    index(OCI_INDEX, [
      { mediaType: OCI_MANIFEST, digest: d("1"), size: 1054, platform: amd64 },
      {
        mediaType: OCI_MANIFEST,
        digest: d("2"),
        size: 840,
        annotations: {
          "vnd.docker.reference.digest": d("1"),
          "vnd.docker.reference.type": "attestation-manifest",
        },
        platform: { architecture: "unknown", os: "unknown" },
      },
    ]),
    OCI_INDEX,
    undefined,
  ],
  // helm.sh docs, "Use OCI-based registries": chart config and content media types.
  [
    "Helm chart",
    single(OCI_MANIFEST, "application/vnd.cncf.helm.config.v1+json", [
      "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
    ]),
    OCI_MANIFEST,
    /config media type application\/vnd\.cncf\.helm\.config\.v1\+json is not an image config/,
  ],
  // cosign specs/SIGNATURE_SPEC.md: image config type, one simplesigning layer per signature.
  [
    "cosign signature (tag-based scheme)",
    single(OCI_MANIFEST, OCI_CONFIG, ["application/vnd.dev.cosign.simplesigning.v1+json"], {
      annotations: {},
    }),
    OCI_MANIFEST,
    /layer media type application\/vnd\.dev\.cosign\.simplesigning\.v1\+json/,
  ],
  // OCI 1.1 referrer as cosign/oras push it: artifactType + empty config.
  [
    "sigstore bundle referrer (artifactType)",
    single(OCI_MANIFEST, "application/vnd.oci.empty.v1+json", [
      "application/vnd.dev.sigstore.bundle.v0.3+json",
    ], { artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json" }),
    OCI_MANIFEST,
    /artifactType application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json/,
  ],
  // OCI image-spec manifest.md "artifactType" on an index.
  [
    "index carrying artifactType",
    index(OCI_INDEX, [{ mediaType: OCI_MANIFEST, digest: d("1"), size: 1 }], {
      artifactType: "application/vnd.example.sbom.v1",
    }),
    OCI_INDEX,
    /artifactType application\/vnd\.example\.sbom\.v1/,
  ],
  // docker buildx --cache-to type=registry (oci-mediatypes=true): an index whose entries are the
  // cache layers and the buildkit cache config (moby/buildkit cache/remotecache).
  [
    "buildx registry cache (index form)",
    index(OCI_INDEX, [
      { mediaType: OCI_LAYER_GZIP, digest: d("1"), size: 1024 },
      { mediaType: OCI_LAYER_GZIP, digest: d("2"), size: 2048 },
      { mediaType: "application/vnd.buildkit.cacheconfig.v0", digest: d("3"), size: 512 },
    ]),
    OCI_INDEX,
    /index lists no image manifest \(first entry: application\/vnd\.oci\.image\.layer/,
  ],
  // docker buildx --cache-to type=registry,image-manifest=true: a manifest with the cache config.
  [
    "buildx registry cache (image-manifest form)",
    single(OCI_MANIFEST, "application/vnd.buildkit.cacheconfig.v0", [OCI_LAYER_GZIP]),
    OCI_MANIFEST,
    /application\/vnd\.buildkit\.cacheconfig\.v0 is not an image config/,
  ],
  // oci-wasm (wasmCloud): WASM component config and layer.
  [
    "WASM component",
    single(OCI_MANIFEST, "application/vnd.wasm.config.v0+json", ["application/wasm"]),
    OCI_MANIFEST,
    /application\/vnd\.wasm\.config\.v0\+json is not an image config/,
  ],
  [
    "empty index",
    index(OCI_INDEX, []),
    OCI_INDEX,
    /index lists no manifests/,
  ],
  [
    "index whose only image child carries artifactType",
    index(OCI_INDEX, [{ mediaType: OCI_MANIFEST, artifactType: "x/y", digest: d("1"), size: 1 }]),
    OCI_INDEX,
    /index lists no image manifest/,
  ],
  // distribution docs, manifest-v2-1.md (schema 1, signed).
  [
    "Docker schema 1",
    { schemaVersion: 1, name: "hello-world", tag: "latest", fsLayers: [], history: [] },
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    /Docker schema 1/,
  ],
  [
    "unknown media type",
    { schemaVersion: 2 },
    "application/octet-stream",
    /unknown manifest media type application\/octet-stream/,
  ],
  ["no config", { schemaVersion: 2, layers: [] }, OCI_MANIFEST, /no config media type/],
  ["not an object", [1, 2], OCI_MANIFEST, /not a JSON object/],
];

for (const [name, manifest, mediaType, want] of table) {
  Deno.test(`notAnImage: ${name}`, () => {
    const got = notAnImage(manifest, mediaType);
    if (want === undefined) assert.equal(got, undefined);
    else assert.match(got ?? "(undefined)", want);
  });
}
