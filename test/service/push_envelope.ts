/**
 * Notification envelopes shaped like the registry's real ones
 * (test/fixtures/bodies/manifest-push-oci.json), for any repository and tag.
 *
 * @module
 */

/** One tagged manifest push. */
export interface Push {
  /** `request.host` the pusher used, e.g. `127.0.0.1:5000`. */
  host: string;
  repository: string;
  tag: string;
  /** Default: a fixed OCI manifest digest. */
  digest?: string;
  /** Event id; default a random UUID. */
  id?: string;
  /** The registry's time of the event (RFC 3339); default now. */
  timestamp?: string;
}

const DIGEST = "sha256:8a5f599fbfc33e327cb9728ee08bbd5ac2b4afb96b4ed9719a593344cfdaf65f";

/**
 * The JSON body of one delivery holding these pushes.
 *
 * @example
 * ```ts
 * import { pushEnvelope } from "./push_envelope.ts";
 * JSON.parse(pushEnvelope({ host: "127.0.0.1:5000", repository: "myapp", tag: "1.2.4" }))
 *   .events[0].target.tag; // "1.2.4"
 * ```
 */
export function pushEnvelope(...pushes: Push[]): string {
  return JSON.stringify({
    events: pushes.map((p) => {
      const digest = p.digest ?? DIGEST;
      return {
        id: p.id ?? crypto.randomUUID(),
        timestamp: p.timestamp ?? new Date().toISOString(),
        action: "push",
        target: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          size: 401,
          digest,
          length: 401,
          repository: p.repository,
          url: `http://${p.host}/v2/${p.repository}/manifests/${digest}`,
          tag: p.tag,
        },
        request: {
          id: crypto.randomUUID(),
          addr: "127.0.0.1:40722",
          host: p.host,
          method: "PUT",
          useragent: "skopeo/1.9.3",
        },
        actor: {},
        source: { addr: "vm:5000", instanceID: "1743fb8a-12e7-48e8-972d-c4865b8276b1" },
      };
    }),
  });
}
