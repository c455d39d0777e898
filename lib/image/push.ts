/**
 * A push: a tag of a repository that came to name an image. Receivers record one per
 * notification, the reconcile rolls out from one, and a rollout's record keeps the one it came
 * from.
 *
 * @module
 */

/**
 * A tag pushed to a repository.
 *
 * @example
 * ```ts
 * import type { Push } from "./push.ts";
 * const push: Push = { repository: "docker.io/library/nginx", tag: "1.27.1", pushedAt: 0 };
 * ```
 */
export interface Push {
  /** Normalized host/path, e.g. `docker.io/library/nginx`. */
  repository: string;
  /** The tag pushed. */
  tag: string;
  /** `sha256:…`; absent when the source does not send one (hosted registries) and no registry said. */
  digest?: string;
  /** ms epoch: the registry's push time, else the time the notification was received. */
  pushedAt: number;
}

/**
 * A push a receiver turned a notification into, with the route it came from.
 *
 * @example
 * ```ts
 * import type { RecordedPush } from "./push.ts";
 * const push: RecordedPush = {
 *   repository: "docker.io/library/nginx",
 *   tag: "1.27.1",
 *   pushedAt: 0,
 *   source: "dockerhub",
 * };
 * ```
 */
export interface RecordedPush extends Push {
  /** The route it came from: "distribution", "dockerhub", "quay", ... */
  source: string;
}
