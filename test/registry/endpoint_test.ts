import assert from "node:assert/strict";
import { registryBaseUrl } from "../../lib/registry/endpoint.ts";

const bases: [string, string[], string][] = [
  ["docker.io", [], "https://registry-1.docker.io"],
  ["docker.io", ["docker.io"], "https://registry-1.docker.io"],
  ["index.docker.io", [], "https://registry-1.docker.io"],
  ["Registry-1.Docker.io", [], "https://registry-1.docker.io"],
  ["ghcr.io", [], "https://ghcr.io"],
  ["Reg.Lan:5000", [], "https://reg.lan:5000"],
  ["reg.lan:5000", ["REG.LAN:5000"], "http://reg.lan:5000"],
  ["reg.lan", ["reg.lan:5000"], "https://reg.lan"],
  ["localhost:5000", [], "https://localhost:5000"],
  ["localhost:5000", ["localhost:*"], "http://localhost:5000"],
  ["127.0.0.1:5000", [], "https://127.0.0.1:5000"],
  ["127.0.0.1:5000", ["127.0.0.1:*"], "http://127.0.0.1:5000"],
  ["[::1]:5000", [], "https://[::1]:5000"],
  ["[::1]:5000", ["[::1]:*"], "http://[::1]:5000"],
  ["reg.lan:5000", ["*.lan:*"], "http://reg.lan:5000"],
  ["a.reg.lan:5000", ["*.lan:*"], "https://a.reg.lan:5000"],
];

for (const [host, insecure, want] of bases) {
  Deno.test(`registryBaseUrl: ${host} insecure=${insecure} -> ${want}`, () => {
    assert.equal(registryBaseUrl(host, insecure), want);
  });
}
