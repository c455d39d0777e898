/**
 * What is not a runnable image (spec: "Never an image"): signature, attestation and SBOM tags,
 * and manifests that describe an artifact (Helm chart, build cache, WASM module, signature)
 * rather than a container image. Pure functions over a tag or a parsed manifest.
 *
 * @module
 */

import { isObject } from "../parse/object.ts";

/** `sha256-<64 hex>` and anything after it (`.sig`, `.att`, `.sbom`, …): cosign's tag scheme. */
const ARTIFACT_TAG = /^sha256-[0-9a-fA-F]{64}/;

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const SINGLE = new Set([DOCKER_MANIFEST, OCI_MANIFEST]);
const LISTS = new Set([DOCKER_LIST, OCI_INDEX]);
const SCHEMA1 = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);
/** The only config media types of a container image. */
const IMAGE_CONFIGS = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);
/** Filesystem layers (gzip, zstd, plain tar, non-distributable, foreign) start with these. */
const LAYER_PREFIXES = ["application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs."];

/**
 * Whether a tag names a signature, attestation or SBOM (`sha256-<64 hex>` with or without a
 * suffix such as `.sig`, `.att`, `.sbom`); such tags are never deployed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isArtifactTag } from "./artifact.ts";
 * assert.equal(isArtifactTag(`sha256-${"ab".repeat(32)}.sig`), true);
 * assert.equal(isArtifactTag("1.2.3"), false);
 * ```
 */
export function isArtifactTag(tag: string): boolean {
  return ARTIFACT_TAG.test(tag);
}

/**
 * Why a manifest is not a runnable container image, or `undefined` when it is one.
 * `mediaType` is the Content-Type the registry served it with; the manifest's own `mediaType`
 * field is used when that header names no manifest type. Not an image: a manifest or index
 * carrying `artifactType`; a single manifest whose config is not an image config or that has
 * a layer that is not a filesystem layer; an index with no child that is an image manifest
 * (or index), such as a buildx registry cache; Docker schema 1 and unknown media types.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notAnImage } from "./artifact.ts";
 * const helm = {
 *   schemaVersion: 2,
 *   config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: "sha256:0", size: 1 },
 *   layers: [],
 * };
 * assert.equal(
 *   notAnImage(helm, "application/vnd.oci.image.manifest.v1+json"),
 *   "config media type application/vnd.cncf.helm.config.v1+json is not an image config",
 * );
 * ```
 */
export function notAnImage(manifest: unknown, mediaType: string): string | undefined {
  if (!isObject(manifest)) return "manifest is not a JSON object";
  const own = typeof manifest.mediaType === "string" ? manifest.mediaType : undefined;
  const type = [mediaType, own].find((t) => t && (SINGLE.has(t) || LISTS.has(t))) ??
    mediaType ?? own;
  if (typeof manifest.artifactType === "string" && manifest.artifactType) {
    return `manifest carries artifactType ${manifest.artifactType}`;
  }
  if (SINGLE.has(type)) return singleNotImage(manifest);
  if (LISTS.has(type)) return indexNotImage(manifest);
  if (SCHEMA1.has(type)) return "Docker schema 1 manifest (deprecated, not pulled by containerd 2)";
  return `unknown manifest media type ${type || "(none)"}`;
}

function singleNotImage(manifest: Record<string, unknown>): string | undefined {
  const config = isObject(manifest.config) ? manifest.config : undefined;
  const configType = typeof config?.mediaType === "string" ? config.mediaType : undefined;
  if (!configType) return "manifest has no config media type";
  if (!IMAGE_CONFIGS.has(configType)) {
    return `config media type ${configType} is not an image config`;
  }
  const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
  for (const layer of layers) {
    const layerType = isObject(layer) && typeof layer.mediaType === "string" ? layer.mediaType : "";
    if (!LAYER_PREFIXES.some((p) => layerType.startsWith(p))) {
      return `layer media type ${layerType || "(none)"} is not a filesystem layer`;
    }
  }
  return undefined;
}

function indexNotImage(manifest: Record<string, unknown>): string | undefined {
  const children = Array.isArray(manifest.manifests) ? manifest.manifests : [];
  const runnable = children.some((c) =>
    isObject(c) && typeof c.mediaType === "string" &&
    (SINGLE.has(c.mediaType) || LISTS.has(c.mediaType)) && !c.artifactType
  );
  if (runnable) return undefined;
  const first = children.find(isObject)?.mediaType;
  return children.length === 0
    ? "index lists no manifests"
    : `index lists no image manifest (first entry: ${
      typeof first === "string" ? first : "(none)"
    })`;
}
