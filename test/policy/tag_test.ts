import assert from "node:assert/strict";
import { readTag, sameForm } from "../../lib/policy/tag.ts";

type Read = [
  prerelease: (string | number)[],
  variant: string,
  vPrefix: boolean,
  parts: 2 | 3,
];

const rows: [name: string, tag: string, want: Read | undefined][] = [
  ["plain", "1.25.3", [[], "", false, 3]],
  ["variant", "1.25.3-alpine", [[], "alpine", false, 3]],
  ["variant with dashes", "3.12.1-slim-bookworm", [[], "slim-bookworm", false, 3]],
  ["variant with dots", "1.25.3-alpine3.18", [[], "alpine3.18", false, 3]],
  ["variant jdk", "17.0.9-jdk", [[], "jdk", false, 3]],
  ["two-part version with variant", "16.1-alpine", [[], "alpine", false, 2]],
  ["v prefix, two parts, variant", "v16.1-alpine", [[], "alpine", true, 2]],
  ["build counter is a variant", "v0.2.0-ls3", [[], "ls3", true, 3]],
  ["word that starts like a pre-release word is a variant", "1.0.0-devel", [[], "devel", false, 3]],
  ["musl is not m", "1.0.0-musl", [[], "musl", false, 3]],
  ["variant keeps its case", "1.0.0-Alpine", [[], "Alpine", false, 3]],
  ["semver example x-y is a variant", "1.0.0-x-y.7.z-1", [[], "x-y.7.z-1", false, 3]],
  ["variant with build metadata", "1.0.0-alpine+b.1", [[], "alpine", false, 3]],
  ["rc.1", "1.3.0-rc.1", [["rc", 1], "", false, 3]],
  ["rc1", "1.3.0-rc1", [["rc1"], "", false, 3]],
  ["beta2, two parts", "1.3-beta2", [["beta2"], "", false, 2]],
  ["upper-case M3", "v2.0.0-M3", [["M3"], "", true, 3]],
  ["upper-case RC", "1.0.0-RC.2", [["RC", 2], "", false, 3]],
  ["all digits", "1.0.0-0", [[0], "", false, 3]],
  ["all digits with more", "1.0.0-20240501.1", [[20240501, 1], "", false, 3]],
  ["alpha.beta", "1.0.0-alpha.beta", [["alpha", "beta"], "", false, 3]],
  ["every word: pre", "1.0.0-pre", [["pre"], "", false, 3]],
  ["every word: preview.1", "1.0.0-preview.1", [["preview", 1], "", false, 3]],
  ["every word: dev", "1.0.0-dev", [["dev"], "", false, 3]],
  ["every word: SNAPSHOT", "1.0.0-SNAPSHOT", [["SNAPSHOT"], "", false, 3]],
  ["every word: canary.3", "1.0.0-canary.3", [["canary", 3], "", false, 3]],
  ["every word: nightly", "1.0.0-nightly", [["nightly"], "", false, 3]],
  ["every word: next.0", "1.0.0-next.0", [["next", 0], "", false, 3]],
  ["every word: ea", "21.0.0-ea", [["ea"], "", false, 3]],
  ["every word: m1", "1.0.0-m1", [["m1"], "", false, 3]],
  ["numbered with dash stays pre-release", "1.0.0-rc-1", [["rc-1"], "", false, 3]],
  ["pre-release of a variant", "1.26.0-rc.1-alpine", [["rc", 1], "alpine", false, 3]],
  ["pre-release of a dashed variant", "1.26.0-beta2-slim-bookworm", [
    ["beta2"],
    "slim-bookworm",
    false,
    3,
  ]],
  ["pre-release with build", "1.3.0-rc.1+sha.abc", [["rc", 1], "", false, 3]],
  ["not a version: word", "latest", undefined],
  ["not a version: build counter", "1.2.3.4-ls3", undefined],
  ["not a version: date", "2024-05-01", undefined],
];

for (const [name, tag, want] of rows) {
  Deno.test(`readTag: ${name} (${tag})`, () => {
    const got = readTag(tag);
    if (want === undefined) return assert.equal(got, undefined);
    assert.ok(got, `${tag} is a version`);
    assert.deepEqual([got.prerelease, got.variant, got.vPrefix, got.parts], want);
    assert.equal(got.tag, tag);
  });
}

Deno.test("readTag: release numbers come from the version", () => {
  const v = readTag("v16.1-alpine")!;
  assert.deepEqual([v.major, v.minor, v.patch], [16, 1, 0]);
});

const forms: [a: string, b: string, want: boolean][] = [
  ["1.2.3", "1.3.0", true],
  ["v1.2.3", "v1.3.0", true],
  ["1.2", "1.3", true],
  ["v1.2", "v1.3-alpine", true],
  ["1.2.3", "v1.3.0", false],
  ["1.2", "1.3.0", false],
  ["v1.2", "1.3", false],
];

for (const [a, b, want] of forms) {
  Deno.test(`sameForm(${a}, ${b}) is ${want}`, () => {
    assert.equal(sameForm(readTag(a)!, readTag(b)!), want);
  });
}
