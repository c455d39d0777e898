import assert from "node:assert/strict";
import { type Challenge, parseChallenges } from "../../lib/registry/challenge.ts";

const cases: [string, string | null, Challenge[]][] = [
  ["absent", null, []],
  ["empty", "", []],
  ["basic from distribution 2.8.2", 'Basic realm="regcap-realm"', [
    { scheme: "basic", params: { realm: "regcap-realm" } },
  ]],
  [
    "docker hub bearer",
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
    [{
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/nginx:pull",
      },
    }],
  ],
  ["comma inside quotes", 'Bearer realm="r",scope="repository:a/b:pull,push"', [
    { scheme: "bearer", params: { realm: "r", scope: "repository:a/b:pull,push" } },
  ]],
  ["spaces around = and ,", 'bearer realm = "r" ,  service= "s"', [
    { scheme: "bearer", params: { realm: "r", service: "s" } },
  ]],
  ["scheme and names case-insensitive", 'BEARER Realm="R"', [
    { scheme: "bearer", params: { realm: "R" } },
  ]],
  ["escaped quote", 'Basic realm="say \\"hi\\""', [
    { scheme: "basic", params: { realm: 'say "hi"' } },
  ]],
  ["two challenges", 'Bearer realm="https://a/token",service="reg", Basic realm="x"', [
    { scheme: "bearer", params: { realm: "https://a/token", service: "reg" } },
    { scheme: "basic", params: { realm: "x" } },
  ]],
  ["bare scheme then another", 'Negotiate, Basic realm="x"', [
    { scheme: "negotiate", params: {} },
    { scheme: "basic", params: { realm: "x" } },
  ]],
  ["token68", 'Negotiate abc+/d==, Basic realm="x"', [
    { scheme: "negotiate", params: {}, token68: "abc+/d==" },
    { scheme: "basic", params: { realm: "x" } },
  ]],
  ["unquoted url value", "Bearer realm=https://auth.example/token,service=reg", [
    { scheme: "bearer", params: { realm: "https://auth.example/token", service: "reg" } },
  ]],
  ["error param", 'Bearer realm="r",error="insufficient_scope"', [
    { scheme: "bearer", params: { realm: "r", error: "insufficient_scope" } },
  ]],
];

for (const [name, header, want] of cases) {
  Deno.test(`parseChallenges: ${name}`, () => {
    assert.deepEqual(parseChallenges(header), want);
  });
}
