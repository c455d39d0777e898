/**
 * README.md stays in step with the code: every option `--help` lists has its row in the
 * options table, with the same environment variable and default.
 *
 * @module
 */

import assert from "node:assert/strict";
import { OPTIONS } from "../../cli/options.ts";

const README = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

Deno.test("README: every option has a row with its environment variable and default", () => {
  const rows = new Map<string, string[]>();
  for (const line of README.split("\n")) {
    const name = line.match(/^\| `--([a-z-]+)`/)?.[1];
    if (name) rows.set(name, line.split("|").slice(2, 4).map((cell) => cell.trim()));
  }
  for (const option of OPTIONS) {
    const row = rows.get(option.name);
    assert.ok(row, `README.md has no row for --${option.name}`);
    assert.deepEqual(
      row,
      [option.env ? `\`${option.env}\`` : "", option.default ? `\`${option.default}\`` : ""],
      `--${option.name}`,
    );
  }
});

Deno.test("README: the two commands on a fresh machine come first", () => {
  const firstBlock = README.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "";
  assert.match(firstBlock, /^npx -y deno@2\.9\.6 task start/m);
  assert.match(firstBlock, /^npx -y deno@2\.9\.6 task test/m);
});

Deno.test("README: every tag-scheme example is a valid workload configuration", async () => {
  const { parse } = await import("yaml");
  const { loadParsersFor, rulesFor } = await import("../../lib/policy/rules.ts");
  const section = README.slice(README.indexOf("## Tag schemes"), README.indexOf("## Webhook:"));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]));
  assert.ok(blocks.length >= 5, "one example per scheme");
  for (const { metadata } of blocks) {
    const source = {
      policyLabel: metadata.labels["argoos.io/policy"],
      annotations: metadata.annotations ?? {},
    };
    await loadParsersFor([source]);
    const r = rulesFor(source, "app");
    assert.ok(r.ok, r.ok ? "" : `${JSON.stringify(source)}: ${r.error.key}: ${r.error.reason}`);
  }
});
