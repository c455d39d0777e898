/**
 * `argoos plan -f` with the files operators actually have: `kubectl get -o yaml` output
 * (`kind: List`), and files that are missing or not YAML, which are usage errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { UsageError } from "../../cli/config.ts";
import { workloadsFromManifests } from "../../cli/plan.ts";
import { MAIN, runCli } from "../cli/run_cli.ts";

const deployment = (name: string, labels: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "apps", labels },
  spec: { template: { spec: { containers: [{ name: "app", image: "reg:5000/app:1.0.0" }] } } },
});

Deno.test("workloadsFromManifests unpacks a `kind: List`, as kubectl get -o yaml prints it", () => {
  const list = {
    apiVersion: "v1",
    kind: "List",
    metadata: { resourceVersion: "" },
    items: [
      deployment("web", { "argoos.io/policy": "minor" }),
      deployment("plain", {}),
      {
        apiVersion: "v1",
        kind: "List",
        items: [deployment("nested", { "argoos.io/policy": "all" })],
      },
    ],
  };
  const found = workloadsFromManifests([stringify(list), JSON.stringify(list)]);
  assert.deepEqual(found.map((w) => `${w.namespace}/${w.name}=${w.policyLabel}`), [
    "apps/web=minor",
    "apps/nested=all",
    "apps/web=minor",
    "apps/nested=all",
  ]);
  // Neither a List without items nor a bare YAML sequence is a workload.
  assert.deepEqual(workloadsFromManifests(["kind: List\n", "- just\n- a list\n"]), []);
});

Deno.test("workloadsFromManifests: invalid YAML is a one-line usage error naming the file", () => {
  assert.throws(
    () => workloadsFromManifests(["kind: Service\n", "a: [\n"], ["ok.yaml", "bad.yaml"]),
    (err: Error) =>
      err instanceof UsageError && /^bad\.yaml: .*line \d+, column \d+/.test(err.message) &&
      !err.message.includes("\n"),
  );
  assert.throws(() => workloadsFromManifests(["a: [\n"]), /^UsageError: manifest 1: /);
});

Deno.test("argoos plan -f: a missing or invalid file exits 2 with one line, no stack", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.yaml`, "a: [\n");
    for (const [file, why] of [["missing.yaml", /No such file/], ["bad.yaml", /line 2/]] as const) {
      const { code, stdout, stderr } = await runCli(MAIN, ["plan", "-f", file], {}, dir);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      const [line, hint, ...rest] = stderr.trimEnd().split("\n");
      assert.match(line, new RegExp(`^argoos: plan: (-f )?${file.replace(".", "\\.")}: `));
      assert.match(line, why);
      assert.equal(hint, "Try 'argoos --help'.");
      assert.deepEqual(rest, [], stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
