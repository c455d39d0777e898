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
    // The table, then how each workload's rollouts are judged.
    assert.equal(`${plan.stdout.split("\n\n")[0]}\n`, formatPlan(rows));
    assert.match(plan.stdout, /\n\nFailed without progress after:\n/);

    // A tag pattern runs on the linear-time engine the bundle is started with; without it the
    // pattern is refused with a one-line reason, and the rest of the plan still prints.
    const patterned = `${dir}/patterned.yaml`;
    await Deno.writeTextFile(
      patterned,
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: pinned
  labels: { argoos.io/policy: minor }
  annotations: { argoos.io/tag-pattern: '^1\\.2\\.[0-9]+$' }
spec: { template: { spec: { containers: [{ name: app, image: "${reg.host}/myapp:1.2.3" }] } } }
`,
    );
    const linear = await runCli(bundle, ["plan", "-f", patterned], {}, dir);
    assert.equal(linear.code, 0, linear.stderr);
    assert.match(linear.stdout, /myapp:1\.2\.4\s+update\n/);
    const plain = await runCli(bundle, ["plan", "-f", patterned], {}, dir, false);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /invalid-policy\n/);
    assert.match(
      plain.stdout,
      /\n {4}argoos\.io\/tag-pattern=.*: patterns need V8's linear-time regexp engine; start Argoos with --v8-flags=--enable-experimental-regexp-engine\n\n/,
    );
  } finally {
    registry.close();
    await reg.close();
    await Deno.remove(dir, { recursive: true });
  }
});
