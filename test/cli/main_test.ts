/**
 * The `argoos` process: `--help`, usage errors and a missing cluster, with their exit codes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { OPTIONS } from "../../cli/options.ts";
import { MAIN, runCli } from "./run_cli.ts";

Deno.test("argoos --help prints every option and exits 0", async () => {
  const { code, stdout, stderr } = await runCli(MAIN, ["--help"]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^argoos: roll out Kubernetes workloads/);
  for (const o of OPTIONS) assert.ok(stdout.includes(`--${o.name}`), o.name);
});

Deno.test("argoos with a bad flag exits 2 pointing to --help", async () => {
  const { code, stdout, stderr } = await runCli(MAIN, ["serve", "--frobnicate"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^argoos: .*frobnicate.*\nTry 'argoos --help'\.\n$/);
});

Deno.test("argoos serve without a cluster exits 1 with one line naming what was tried", async () => {
  const missing = `${await Deno.makeTempDir()}/no-such-kubeconfig`;
  try {
    const { code, stdout, stderr } = await runCli(MAIN, ["serve", "--listen", "127.0.0.1:0"], {
      KUBECONFIG: missing,
    });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /^argoos: no Kubernetes cluster found: /);
    assert.ok(lines[0].includes("no KUBE_MASTER_URL"), lines[0]);
    assert.ok(lines[0].includes("KUBERNETES_SERVICE_HOST unset"), lines[0]);
    assert.ok(lines[0].includes(`no kubeconfig at ${missing}`), lines[0]);
  } finally {
    await Deno.remove(missing.slice(0, missing.lastIndexOf("/")), { recursive: true });
  }
});
