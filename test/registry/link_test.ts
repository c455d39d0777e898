import assert from "node:assert/strict";
import { nextPageUrl } from "../../lib/registry/link.ts";

const base = new URL("http://127.0.0.1:5000/v2/x/tags/list?n=2");

const cases: [string, string | null, string | undefined][] = [
  ["absent", null, undefined],
  [
    "relative",
    '</v2/x/tags/list?last=b&n=2>; rel="next"',
    "http://127.0.0.1:5000/v2/x/tags/list?last=b&n=2",
  ],
  [
    "distribution catalog, escaped",
    '</v2/_catalog?last=mirror%2Fapp&n=1>; rel="next"',
    "http://127.0.0.1:5000/v2/_catalog?last=mirror%2Fapp&n=1",
  ],
  [
    "absolute",
    '<https://reg.example/v2/x/tags/list?last=b>; rel="next"',
    "https://reg.example/v2/x/tags/list?last=b",
  ],
  [
    "unquoted rel",
    "</v2/x/tags/list?last=c>; rel=next",
    "http://127.0.0.1:5000/v2/x/tags/list?last=c",
  ],
  ["rel case", '</p?last=c>; REL="Next"', "http://127.0.0.1:5000/p?last=c"],
  ["rel list", '</p?last=d>; rel="prefetch next"', "http://127.0.0.1:5000/p?last=d"],
  ["only prev", '</p?last=a>; rel="prev"', undefined],
  [
    "prev then next",
    '</p?last=a>; rel="prev", </p?last=z>; rel="next"',
    "http://127.0.0.1:5000/p?last=z",
  ],
  ["no rel", "</p?last=a>", undefined],
  ["garbage", "nonsense", undefined],
];

for (const [name, header, want] of cases) {
  Deno.test(`nextPageUrl: ${name}`, () => {
    assert.equal(nextPageUrl(header, base)?.href, want);
  });
}
