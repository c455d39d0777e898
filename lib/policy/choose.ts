/**
 * Poll rule for callers that know only the policy label (no annotations); the full rule, with
 * patterns, ranges and the candidates considered, is {@linkcode import("./candidates.ts").chooseTag}.
 *
 * @module
 */

import { chooseTag as choose } from "./candidates.ts";
import type { Policy } from "./policy.ts";

/**
 * Poll: the preferred listed tag that is an update for `currentTag` under `policy` alone, or
 * undefined. Under `all`, the greatest listed version of the current tag's variant above it,
 * pre-releases included; nothing when `currentTag` is not a version (digest following is done
 * elsewhere). Never assumes `tags` is sorted. Among tags of the same version (`1.3`, `1.3.0`,
 * `v1.3.0`) the one in the current tag's form wins, else the first in code-point order.
 *
 * @example
 * ```ts
 * import { chooseTag } from "./choose.ts";
 * const tags = ["1.2.4", "latest", "1.3.0", "1.2.10", "2.0.0", "1.2.11-rc.1"];
 * chooseTag("patch", "1.2.3", tags); // "1.2.10"
 * chooseTag("minor", "1.2.3", tags); // "1.3.0"
 * chooseTag("all", "1.2.3", tags); // "2.0.0"
 * chooseTag("major", "latest", tags); // undefined
 * ```
 */
export function chooseTag(
  policy: Policy,
  currentTag: string | undefined,
  tags: readonly string[],
): string | undefined {
  return choose({ policy }, currentTag, tags).tag;
}
