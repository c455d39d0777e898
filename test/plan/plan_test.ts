/**
 * `argoos plan`: workloads from manifests, plan rows against a stub registry, the
 * table, and the command end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { workloadsFromManifests } from "../../cli/plan.ts";
import { formatPlan, type PlanRow, planWorkloads } from "../../lib/plan/plan.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { MAIN, runCli } from "../cli/run_cli.ts";
import { closedPort } from "../registry/stub_registry.ts";
import { startTagRegistry } from "../service/tag_registry.ts";
import { PLAN_TAGS, planManifest } from "./manifests.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

const noCredentials = () => Promise.resolve(new Map());

Deno.test("workloadsFromManifests keeps labelled workloads of every kind, in order", () => {
  const found = workloadsFromManifests([planManifest("reg:5000"), "", "---\n"]);
  assert.deepEqual(
    found.map((w) => ({
      workload: `${w.kind.type.kind} ${w.namespace}/${w.name}`,
      policy: w.policyLabel,
      images: w.containers.map((c) => `${c.name}=${c.image}`),
    })),
    [
      {
        workload: "Deployment default/web",
        policy: "minor",
        images: ["app=reg:5000/myapp:1.2.3", "tools=reg:5000/myapp:latest"],
      },
      {
        workload: "CronJob jobs/nightly",
        policy: "patch",
        images: ["migrate=reg:5000/myapp:1.2.3", "job=reg:5000/batch:2.0.0"],
      },
      {
        workload: "StatefulSet default/odd",
        policy: "weekly",
        images: ["db=reg:5000/myapp:1.2.3"],
      },
    ],
  );
});

Deno.test("planWorkloads: current, newest, would-run and reason per container", async () => {
  const reg = startTagRegistry(PLAN_TAGS);
  const down = `127.0.0.1:${closedPort()}`;
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const workloads = workloadsFromManifests([
      planManifest(reg.host),
      `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, labels: { argoos.io/policy: major } }
spec: { template: { spec: { containers: [{ name: agent, image: "${down}/agent:1.0.0" }] } } }
`,
    ]);
    const rows = await planWorkloads(workloads, registry, noCredentials);
    const r = reg.host;
    const row = (
      workload: string,
      container: string,
      policy: string,
      current: string,
      newest: string,
      next: string,
      reason: string,
    ): PlanRow => ({ workload, container, policy, current, newest, next, reason });
    const agent = rows.pop()!;
    assert.deepEqual(rows, [
      row(
        "Deployment default/web",
        "app",
        "minor",
        `${r}/myapp:1.2.3`,
        "2.0.0",
        `${r}/myapp:1.3.0`,
        "update",
      ),
      row(
        "Deployment default/web",
        "tools",
        "minor",
        `${r}/myapp:latest`,
        "2.0.0",
        "-",
        "current-not-version",
      ),
      row(
        "CronJob jobs/nightly",
        "migrate",
        "patch",
        `${r}/myapp:1.2.3`,
        "2.0.0",
        `${r}/myapp:1.2.4`,
        "update",
      ),
      row("CronJob jobs/nightly", "job", "patch", `${r}/batch:2.0.0`, "2.0.0", "-", "no-candidate"),
      row(
        "StatefulSet default/odd",
        "db",
        "weekly",
        `${r}/myapp:1.2.3`,
        "2.0.0",
        "-",
        "invalid-policy",
      ),
    ]);
    assert.equal(agent.workload, "DaemonSet default/agent");
    assert.equal(agent.newest, "-");
    assert.equal(agent.next, "-");
    assert.match(agent.reason, /^registry unavailable: /);
    // One listing per repository, whatever the number of containers using it.
    assert.equal(reg.listings("myapp"), 1);
    assert.equal(reg.listings("batch"), 1);
  } finally {
    registry.close();
    await reg.close();
  }
});

Deno.test("formatPlan aligns every column under its heading", () => {
  const rows: PlanRow[] = [
    {
      workload: "Deployment default/web",
      container: "app",
      policy: "minor",
      current: "myapp:1.2.3",
      newest: "2.0.0",
      next: "myapp:1.3.0",
      reason: "update",
    },
    {
      workload: "CronJob jobs/n",
      container: "migrate",
      policy: "patch",
      current: "reg.example.com:5000/team/myapp:1.2.3",
      newest: "-",
      next: "-",
      reason: "no-candidate",
    },
  ];
  const lines = formatPlan(rows).split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.length, 3);
  const head = lines[0];
  const headings = ["WORKLOAD", "CONTAINER", "POLICY", "CURRENT", "NEWEST", "WOULD RUN", "REASON"];
  const keys = ["workload", "container", "policy", "current", "newest", "next", "reason"] as const;
  headings.forEach((h, i) => {
    const at = head.indexOf(h);
    assert.ok(at >= 0, h);
    rows.forEach((row, j) => assert.equal(lines[j + 1].indexOf(row[keys[i]], at), at, h));
  });
  for (const line of lines) assert.equal(line, line.trimEnd());
  assert.equal(formatPlan([]), `${headings.join("  ")}\n`);
});

Deno.test("argoos plan -f prints the table and changes nothing", async () => {
  const reg = startTagRegistry(PLAN_TAGS);
  const dir = await Deno.makeTempDir();
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const file = `${dir}/app.yaml`;
    await Deno.writeTextFile(file, planManifest(reg.host));
    const { code, stdout, stderr } = await runCli(MAIN, [
      "plan",
      "-f",
      file,
      "--registry-insecure",
      reg.host,
    ]);
    assert.equal(code, 0, stderr);
    const expected = formatPlan(
      await planWorkloads(
        workloadsFromManifests([planManifest(reg.host)]),
        registry,
        noCredentials,
      ),
    );
    assert.equal(stdout, expected);
    assert.match(
      stdout,
      /^WORKLOAD\s+CONTAINER\s+POLICY\s+CURRENT\s+NEWEST\s+WOULD RUN\s+REASON\n/,
    );
    assert.ok(reg.requests.every((q) => q.method === "GET" || q.method === "HEAD"));
  } finally {
    registry.close();
    await reg.close();
    await Deno.remove(dir, { recursive: true });
  }
});
