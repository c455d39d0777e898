/**
 * The `Link` header used by registries to paginate `tags/list` and `_catalog`, e.g.
 * `</v2/myapp/tags/list?last=b&n=2>; rel="next"` (relative in distribution, absolute in
 * some other registries).
 *
 * @module
 */

/**
 * The URL of the `rel="next"` link, resolved against the URL of the response that carried it,
 * or `undefined` when there is no next page.
 *
 * @example
 * ```ts
 * import { nextPageUrl } from "./link.ts";
 * const base = new URL("http://localhost:5000/v2/x/tags/list?n=2");
 * nextPageUrl('</v2/x/tags/list?last=b&n=2>; rel="next"', base)?.href;
 * // "http://localhost:5000/v2/x/tags/list?last=b&n=2"
 * ```
 */
export function nextPageUrl(header: string | null, base: URL): URL | undefined {
  if (!header) return undefined;
  // Each link is `<uri> *( ";" param )`; a URI can't contain ">" so it delimits safely.
  for (const match of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const params = match[2].split(";").slice(1);
    const isNext = params.some((p) => {
      const [name, value = ""] = p.split("=", 2).map((x) => x.trim());
      return name.toLowerCase() === "rel" &&
        value.replace(/^"|"$/g, "").toLowerCase().split(/\s+/).includes("next");
    });
    if (isNext) {
      try {
        return new URL(match[1], base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
