import assert from "node:assert/strict";
import { isLoopbackHost, registryBaseUrl } from "../../lib/registry/endpoint.ts";

const loopback: [string, boolean][] = [
  ["localhost", true],
  ["localhost:5000", true],
  ["LOCALHOST:5000", true],
  ["127.0.0.1", true],
  ["127.0.0.1:5000", true],
  ["127.1.2.3:80", true],
  ["[::1]", true],
  ["[::1]:5000", true],
  ["128.0.0.1", false],
  ["127.example.com", false],
  ["localhost.example.com", false],
  ["registry.lan:5000", false],
  ["docker.io", false],
];

for (const [host, want] of loopback) {
  Deno.test(`isLoopbackHost: ${host} -> ${want}`, () => {
    assert.equal(isLoopbackHost(host), want);
  });
}

const bases: [string, string[], string][] = [
  ["docker.io", [], "https://registry-1.docker.io"],
  ["docker.io", ["docker.io"], "https://registry-1.docker.io"],
  ["index.docker.io", [], "https://registry-1.docker.io"],
  ["Registry-1.Docker.io", [], "https://registry-1.docker.io"],
  ["ghcr.io", [], "https://ghcr.io"],
  ["Reg.Lan:5000", [], "https://reg.lan:5000"],
  ["reg.lan:5000", ["REG.LAN:5000"], "http://reg.lan:5000"],
  ["reg.lan", ["reg.lan:5000"], "https://reg.lan"],
  ["localhost:5000", [], "http://localhost:5000"],
  ["127.0.0.1:5000", [], "http://127.0.0.1:5000"],
  ["[::1]:5000", [], "http://[::1]:5000"],
];

for (const [host, insecure, want] of bases) {
  Deno.test(`registryBaseUrl: ${host} insecure=${insecure} -> ${want}`, () => {
    assert.equal(registryBaseUrl(host, insecure), want);
  });
}
