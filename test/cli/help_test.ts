/**
 * The first thing a newcomer types: `argoos --help` and `deno task start --help` print the help
 * and exit 0, with no token, cluster or other setting, and the help names every policy.
 *
 * @module
 */

import assert from "node:assert/strict";
import { helpText } from "../../cli/config.ts";
import { POLICIES } from "../../lib/policy/policy.ts";
import { cliEnv, MAIN, runCli } from "./run_cli.ts";

/** No token and no permission to serve without one: what a fresh shell has. */
const FRESH = { INSECURE_NO_TOKEN: "" };

for (const args of [["--help"], ["serve", "--help"], ["poll", "--help"], ["plan", "--help"]]) {
  Deno.test(`argoos ${args.join(" ")} prints the help without a token`, async () => {
    const { code, stdout, stderr } = await runCli(MAIN, args, FRESH);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trimEnd(), helpText().trimEnd());
    assert.equal(stderr, "");
  });
}

Deno.test("the same process without --help and without a token still refuses to serve", async () => {
  const { code, stderr } = await runCli(MAIN, ["serve"], FRESH);
  assert.equal(code, 2);
  assert.match(stderr, /no token/);
});

Deno.test("deno task start --help prints the help", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--help"],
    cwd: new URL("../../", import.meta.url).pathname,
    env: cliEnv(FRESH),
    clearEnv: true,
    stdin: "null",
  }).output();
  const [stdout, stderr] = [out.stdout, out.stderr].map((b) => new TextDecoder().decode(b));
  assert.equal(out.code, 0, stderr);
  assert.ok(stdout.includes(helpText().trimEnd()), stdout);
});

Deno.test("the help names every policy in its opening lines, before the options", () => {
  const opening = helpText().split("\noptions:")[0];
  for (const policy of POLICIES) assert.match(opening, new RegExp(`\\b${policy}\\b`), policy);
  assert.deepEqual([...POLICIES], ["patch", "minor", "major", "all", "newest"]);
});
