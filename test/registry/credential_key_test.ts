import assert from "node:assert/strict";
import {
  compareCredentialKeys,
  credentialKeyMatches,
  normalizeCredentialKey,
  parseCredentialKey,
} from "../../lib/registry/credential_key.ts";

const normalized: [string, string | undefined][] = [
  ["docker.io", "docker.io"],
  ["index.docker.io/v1/", "docker.io"],
  ["https://index.docker.io/v1/", "docker.io"],
  ["registry-1.docker.io", "docker.io"],
  ["https://registry-1.docker.io/v2/", "docker.io"],
  ["docker.io/library", "docker.io/library"],
  ["https://ghcr.io/org-b/", "ghcr.io/org-b"],
  ["http://Reg.Local:5000/", "reg.local:5000"],
  ["reg.local:5000/v2/team//app/", "reg.local:5000/team/app"],
  ["*.azurecr.io", "*.azurecr.io"],
  ["[::1]:5000/x", "[::1]:5000/x"],
  ["https://quay.io/org?x=1#y", "quay.io/org"],
  ["", undefined],
  ["https:///path", undefined],
];

for (const [key, want] of normalized) {
  Deno.test(`normalizeCredentialKey: "${key}" -> ${want}`, () => {
    assert.equal(normalizeCredentialKey(key), want);
  });
}

const matches: [string, string, string | undefined, boolean][] = [
  ["ghcr.io", "ghcr.io", "org-a/app", true],
  ["ghcr.io", "ghcr.io", undefined, true],
  ["ghcr.io/org-b", "ghcr.io", "org-b/app", true],
  ["ghcr.io/org-b", "ghcr.io", "org-b", true],
  ["ghcr.io/org-b", "ghcr.io", "org-a/app", false],
  ["ghcr.io/org", "ghcr.io", "org-b/app", false], // prefix only at a segment boundary
  ["ghcr.io/org-b", "ghcr.io", undefined, false], // no path: host-wide keys only
  ["ghcr.io/org-b/team", "ghcr.io", "org-b/app", false],
  ["*.azurecr.io", "x.azurecr.io", "app", true],
  ["*.azurecr.io", "azurecr.io", "app", false],
  ["*.azurecr.io", "a.b.azurecr.io", "app", false],
  ["*.*.io", "x.azurecr.io", "app", true],
  ["prefix-*.example.com", "prefix-eu.example.com", "app", true],
  ["prefix-*.example.com", "other.example.com", "app", false],
  ["*.azurecr.io/team", "x.azurecr.io", "team/app", true],
  ["*.azurecr.io/team", "x.azurecr.io", "teammate/app", false],
  ["reg.local:5000", "reg.local:5000", "app", true],
  ["reg.local:5000", "reg.local", "app", false],
  ["reg.local", "reg.local:5000", "app", false],
  ["https://index.docker.io/v1/", "docker.io", "library/nginx", true],
  ["docker.io", "index.docker.io", "library/nginx", true],
  ["registry-1.docker.io", "registry-1.docker.io", "library/nginx", true],
  ["GHCR.io", "ghcr.io", "x", true],
  ["ghcr.io.evil.com", "ghcr.io", "x", false],
];

for (const [key, host, path, want] of matches) {
  Deno.test(`credentialKeyMatches: ${key} ${want ? "covers" : "misses"} ${host} ${path}`, () => {
    assert.equal(credentialKeyMatches(parseCredentialKey(key)!, host, path), want);
  });
}

Deno.test("compareCredentialKeys: longer path first, then fewer wildcards, ties stay", () => {
  const keys = ["*.azurecr.io", "x.azurecr.io", "*.azurecr.io/team/app", "x.azurecr.io/team"];
  const sorted = keys.map((k) => parseCredentialKey(k)!).sort(compareCredentialKeys);
  assert.deepEqual(sorted.map((k) => `${k.host}/${k.path}`), [
    "*.azurecr.io/team/app",
    "x.azurecr.io/team",
    "x.azurecr.io/",
    "*.azurecr.io/",
  ]);
  assert.equal(compareCredentialKeys(parseCredentialKey("a.io")!, parseCredentialKey("b.io")!), 0);
});
