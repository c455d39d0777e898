/**
 * The manifest media types that make an image version: what a registry sends
 * in a push notification and what we accept when asking for a digest.
 *
 * @module
 */

/**
 * Docker v2 manifest and manifest list, OCI manifest and index.
 *
 * @example
 * ```ts
 * import { MANIFEST_MEDIA_TYPES } from "./media_types.ts";
 * MANIFEST_MEDIA_TYPES.includes("application/vnd.oci.image.index.v1+json"); // true
 * ```
 */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
];
