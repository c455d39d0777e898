/**
 * REGISTRY_ALIASES parsing and choosing the registry name a push speaks for.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  parseRegistryAliases,
  registryNameOf,
} from "../../../lib/webhook/sources/registry_name.ts";

Deno.test("parseRegistryAliases reads from=to pairs", () => {
  const cases: [string, [string, string][]][] = [
    ["", []],
    ["127.0.0.1:5000=registry.example.com", [["127.0.0.1:5000", "registry.example.com"]]],
    [" a:5000 = b.example ,  c=d ,", [["a:5000", "b.example"], ["c", "d"]]],
    ["LocalHost:5000=Reg.Example.com", [["localhost:5000", "Reg.Example.com"]]],
  ];
  for (const [spec, pairs] of cases) {
    assert.deepEqual([...parseRegistryAliases(spec)], pairs, spec);
  }
});

Deno.test("parseRegistryAliases refuses malformed pairs", () => {
  for (const spec of ["a", "a=", "=b", "a=b=c", "x=y,broken"]) {
    assert.throws(() => parseRegistryAliases(spec), /REGISTRY_ALIASES/, spec);
  }
});

Deno.test("registryNameOf: header, then alias, then request.host", () => {
  const aliases = parseRegistryAliases("127.0.0.1:5000=registry.example.com");
  const cases: [string, string | null, string][] = [
    ["127.0.0.1:5000", null, "registry.example.com"],
    ["127.0.0.1:5000", "public.example.com", "public.example.com"],
    ["127.0.0.1:5000", "  public.example.com  ", "public.example.com"],
    ["127.0.0.1:5000", "   ", "registry.example.com"],
    ["127.0.0.1:5000", "", "registry.example.com"],
    ["localhost:5000", null, "localhost:5000"],
    ["LOCALHOST:5000", null, "LOCALHOST:5000"],
  ];
  for (const [host, header, want] of cases) {
    assert.equal(registryNameOf(host, header, aliases), want, `${host} ${header}`);
  }
  assert.equal(
    registryNameOf("VM:5000", null, parseRegistryAliases("vm:5000=reg.example")),
    "reg.example",
    "aliases match request hosts case-insensitively",
  );
});
