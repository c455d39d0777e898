/**
 * The single-file artifact: `deno bundle` of the CLI runs on its own, away from the
 * source tree and its deno.json, for `--help` and for `plan -f`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { helpText } from "../../cli/config.ts";
import { workloadsFromManifests } from "../../cli/plan.ts";
import { formatPlan, planWorkloads } from "../../lib/plan/plan.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { cliEnv, MAIN, runCli } from "../cli/run_cli.ts";
import { PLAN_TAGS, planManifest } from "../plan/manifests.ts";
import { startTagRegistry } from "../service/tag_registry.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test("the bundle built like `deno task bundle` runs --help and plan -f", async () => {
  const dir = await Deno.makeTempDir();
  const reg = startTagRegistry(PLAN_TAGS);
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const bundle = `${dir}/argoos.js`;
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "-o", bundle, MAIN],
      cwd: ROOT,
      env: cliEnv(),
      clearEnv: true,
      stdin: "null",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));

    const help = await runCli(bundle, ["--help"], {}, dir);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(help.stdout, `${helpText()}\n`);

    const manifest = `${dir}/app.yaml`;
    await Deno.writeTextFile(manifest, planManifest(reg.host));
    const plan = await runCli(
      bundle,
      ["plan", "-f", manifest, "--registry-insecure", reg.host],
      {},
      dir,
    );
    assert.equal(plan.code, 0, plan.stderr);
    const rows = await planWorkloads(
      workloadsFromManifests([planManifest(reg.host)]),
      registry,
      () => Promise.resolve(new Map()),
    );
    assert.equal(plan.stdout, formatPlan(rows));
  } finally {
    registry.close();
    await reg.close();
    await Deno.remove(dir, { recursive: true });
  }
});
