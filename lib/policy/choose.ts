/**
 * Poll rule: among the tags a registry lists, the one a workload should move to.
 *
 * @module
 */

import { judgeVersion, type Policy } from "./policy.ts";
import { compareVersions, parseVersion, type Version } from "./version.ts";

/** Versions of a tag list, parsed once per list object: a poll cycle asks about one list per
 * repository for every workload that uses it. */
const parsedLists = new WeakMap<readonly string[], Version[]>();

function versionsOf(tags: readonly string[]): Version[] {
  let versions = parsedLists.get(tags);
  if (!versions) {
    versions = [];
    for (const tag of tags) {
      const v = parseVersion(tag);
      if (v !== undefined) versions.push(v);
    }
    parsedLists.set(tags, versions);
  }
  return versions;
}

/**
 * Poll: the greatest listed tag that is an update for `currentTag` under `policy`, or undefined.
 * For `all`: when `currentTag` is a version, the greatest listed version above it (pre-releases
 * only as the pre-release rule allows, i.e. judged like `major`); when it is not a version,
 * undefined (digest following is done elsewhere). Never assumes `tags` is sorted; ignores
 * non-versions. Among tags of equal precedence (`1.3`, `1.3.0`, `v1.3.0`) the lowest in string
 * order wins, so the result does not depend on the listing order.
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
  const current = currentTag === undefined ? undefined : parseVersion(currentTag);
  if (current === undefined) return undefined;
  const judgedAs = policy === "all" ? "major" : policy;
  let best: Version | undefined;
  for (const candidate of versionsOf(tags)) {
    if (judgeVersion(judgedAs, current, candidate) !== "update") continue;
    if (best === undefined) {
      best = candidate;
      continue;
    }
    const order = compareVersions(candidate, best);
    if (order > 0 || (order === 0 && candidate.tag < best.tag)) best = candidate;
  }
  return best?.tag;
}
