import assert from "node:assert/strict";
import { compare as semverCompare } from "semver";
import { compareVersions, parseVersion, type Version } from "../../lib/policy/version.ts";

type Parts = [major: number, minor: number, patch: number, prerelease?: (string | number)[]];

const versions: [name: string, tag: string, want: Parts][] = [
  ["plain", "1.2.3", [1, 2, 3]],
  ["zeros", "0.0.0", [0, 0, 0]],
  ["v prefix", "v1.2.3", [1, 2, 3]],
  ["two parts reads patch 0", "1.2", [1, 2, 0]],
  ["v prefix and two parts", "v1.2", [1, 2, 0]],
  ["large numbers", "10.200.3000", [10, 200, 3000]],
  ["pre-release", "1.3.0-rc.1", [1, 3, 0, ["rc", 1]]],
  ["pre-release with v", "v1.3.0-beta", [1, 3, 0, ["beta"]]],
  ["pre-release on two parts", "1.3-rc.1", [1, 3, 0, ["rc", 1]]],
  ["pre-release identifiers with dashes", "1.0.0-x-y.7.z-1", [1, 0, 0, ["x-y", 7, "z-1"]]],
  ["alphanumeric id starting with digit", "1.0.0-0a.1", [1, 0, 0, ["0a", 1]]],
  ["numeric pre-release 0", "1.0.0-0", [1, 0, 0, [0]]],
  ["build metadata", "1.2.3+build.5", [1, 2, 3]],
  ["build metadata with leading zeros", "1.2.3+001", [1, 2, 3]],
  ["pre-release and build", "1.2.3-rc.1+sha.abc", [1, 2, 3, ["rc", 1]]],
];

for (const [name, tag, [major, minor, patch, prerelease = []]] of versions) {
  Deno.test(`parseVersion: ${name} (${tag})`, () => {
    assert.deepEqual(parseVersion(tag), { major, minor, patch, prerelease, tag });
  });
}

const notVersions: [name: string, tag: string][] = [
  ["latest", "latest"],
  ["stable", "stable"],
  ["git sha", "sha-1a2b3c"],
  ["date", "2024-05-01"],
  ["single number", "1"],
  ["v and single number", "v1"],
  ["four parts", "1.2.3.4"],
  ["leading zero major", "01.2.3"],
  ["leading zero minor", "1.02.3"],
  ["leading zero patch", "1.2.03"],
  ["leading zero numeric pre-release", "1.2.3-rc.01"],
  ["empty pre-release", "1.2.3-"],
  ["empty pre-release identifier", "1.2.3-rc..1"],
  ["empty build", "1.2.3+"],
  ["upper-case V", "V1.2.3"],
  ["double v", "vv1.2.3"],
  ["equals prefix", "=1.2.3"],
  ["spaces", " 1.2.3"],
  ["trailing dot", "1.2."],
  ["word suffix without dash", "1.2.3rc1"],
  ["underscore suffix", "1.2.3_rc1"],
  ["empty", ""],
  ["beyond safe integers", "9007199254740993.0.0"],
  ["pre-release beyond safe integers", "1.0.0-9007199254740993"],
];

for (const [name, tag] of notVersions) {
  Deno.test(`parseVersion rejects: ${name} (${JSON.stringify(tag)})`, () => {
    assert.equal(parseVersion(tag), undefined);
  });
}

const v = (tag: string): Version => {
  const version = parseVersion(tag);
  assert.ok(version, `${tag} is a version`);
  return version;
};

const comparisons: [name: string, a: string, b: string, want: -1 | 0 | 1][] = [
  ["patch order", "1.2.3", "1.2.4", -1],
  ["numeric, not string order", "1.2.10", "1.2.9", 1],
  ["minor beats patch", "1.3.0", "1.2.99", 1],
  ["major beats minor", "2.0.0", "1.99.99", 1],
  ["two parts equals .0", "1.2", "1.2.0", 0],
  ["v prefix equals plain", "v1.2.0", "1.2.0", 0],
  ["v and two parts", "v1.2", "1.2.0", 0],
  ["build metadata ignored", "1.2.3+build.5", "1.2.3", 0],
  ["different builds equal", "1.2.3+a", "1.2.3+b", 0],
  ["pre-release below release", "1.3.0-rc.1", "1.3.0", -1],
  ["pre-release above previous release", "1.3.0-rc.1", "1.2.9", 1],
  ["numeric pre-release ids numerically", "1.0.0-rc.2", "1.0.0-rc.10", -1],
  ["numeric id below alphanumeric", "1.0.0-1", "1.0.0-alpha", -1],
  ["alphanumeric ids in ASCII order", "1.0.0-alpha", "1.0.0-beta", -1],
  ["ASCII: upper case first", "1.0.0-Beta", "1.0.0-alpha", -1],
  ["longer pre-release above its prefix", "1.0.0-alpha.1", "1.0.0-alpha", 1],
  ["equal pre-releases", "1.0.0-rc.1", "v1.0-rc.1", 0],
];

for (const [name, a, b, want] of comparisons) {
  Deno.test(`compareVersions: ${name} (${a} vs ${b})`, () => {
    assert.equal(Math.sign(compareVersions(v(a), v(b))), want);
    assert.equal(Math.sign(compareVersions(v(b), v(a))), -want || 0, "antisymmetric");
  });
}

Deno.test("compareVersions agrees with semver precedence on every pair", () => {
  const tags = [
    "0.0.1",
    "0.1.0",
    "1.0.0-0",
    "1.0.0-1",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.2.3",
    "1.2.10",
    "1.10.0",
    "2.0.0-rc.1",
    "2.0.0",
    "10.0.0",
  ];
  for (const a of tags) {
    for (const b of tags) {
      assert.equal(
        Math.sign(compareVersions(v(a), v(b))),
        semverCompare(a, b),
        `${a} vs ${b}`,
      );
    }
  }
});
