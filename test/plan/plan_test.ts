/**
 * `argoos plan`: workloads from manifests, plan rows against a stub registry, the
 * table, and the command end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { workloadsFromManifests } from "../../cli/plan.ts";
import { decodeRejected, encodeRejected, encodeRollout } from "../../lib/health/record.ts";
import { parseUpdateWindows } from "../../lib/gates/window.ts";
import { formatPlan, type PlanRow, planWorkloads } from "../../lib/plan/plan.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { MAIN, runCli } from "../cli/run_cli.ts";
import { closedPort } from "../registry/stub_registry.ts";
import { digestOf, startTagRegistry } from "../service/tag_registry.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";
import { PLAN_TAGS, planManifest } from "./manifests.ts";
import { loadParsers } from "../../lib/parse/on_demand.ts";

// The service loads them on first need; these tests call the pure functions directly.
await loadParsers({ semver: true, cron: true });

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
    ) => ({ workload, container, policy, current, newest, next, reason });
    const agent = rows.pop()!;
    assert.deepEqual(rows.map(({ variant: _v, considered: _c, ...r }) => r), [
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
      variant: "none",
      newest: "2.0.0",
      next: "myapp:1.3.0",
      reason: "update",
      considered: "chose 1.3.0: greatest version of 1 candidate(s)",
    },
    {
      workload: "CronJob jobs/n",
      container: "migrate",
      policy: "patch",
      current: "reg.example.com:5000/team/myapp:1.2.3",
      variant: "none",
      newest: "-",
      next: "-",
      reason: "no-candidate",
      considered: "",
    },
  ];
  const lines = formatPlan(rows).split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.length, 4);
  // The considered line sits indented under its row.
  assert.equal(lines.splice(2, 1)[0], "    chose 1.3.0: greatest version of 1 candidate(s)");
  const head = lines[0];
  const headings = [
    "WORKLOAD",
    "CONTAINER",
    "POLICY",
    "CURRENT",
    "VARIANT",
    "NEWEST",
    "WOULD RUN",
    "REASON",
  ];
  const keys = [
    "workload",
    "container",
    "policy",
    "current",
    "variant",
    "newest",
    "next",
    "reason",
  ] as const;
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
    // The table, then how each workload's rollouts are judged (and nothing else to report).
    const [table, health] = stdout.split("\n\n");
    assert.equal(`${table}\n`, expected);
    assert.match(
      health,
      /^Failed without progress after:\n {2}Deployment default\/web: progressDeadlineSeconds 600s/,
    );
    assert.match(
      stdout,
      /^WORKLOAD\s+CONTAINER\s+POLICY\s+CURRENT\s+VARIANT\s+NEWEST\s+WOULD RUN\s+REASON\n/,
    );
    assert.ok(reg.requests.every((q) => q.method === "GET" || q.method === "HEAD"));
  } finally {
    registry.close();
    await reg.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("argoos plan -f shows holds, rollouts in progress, rejected images and human changes after the table", async () => {
  const reg = startTagRegistry(PLAN_TAGS);
  const dir = await Deno.makeTempDir();
  try {
    const digest = `sha256:${"b".repeat(64)}`;
    const record = encodeRollout({
      containers: [{
        section: "containers",
        index: 0,
        name: "app",
        from: `${reg.host}/myapp:1.2.3`,
        to: `${reg.host}/myapp:1.2.4`,
      }],
      push: { repository: `${reg.host}/myapp`, tag: "1.2.4", digest, pushedAt: 0 },
      startedAt: Date.parse("2026-12-02T10:00:00Z"),
      deadline: Date.parse("2026-12-02T10:10:00Z"),
    });
    const rejected = encodeRejected(
      decodeRejected(encodeRejected([], {
        repository: `${reg.host}/myapp`,
        digest,
        tag: "1.2.5",
        at: Date.parse("2026-12-01T09:00:00Z"),
        reason: "crash-loop",
      })).value,
      {
        repository: `${reg.host}/myapp`,
        digest: `sha256:${"c".repeat(64)}`,
        tag: "1.2.6",
        at: Date.parse("2026-12-01T09:30:00Z"),
        reason: "manual",
      },
    );
    const manifest = planManifest(reg.host).replace(
      "  labels:\n    argoos.io/policy: minor\n",
      `  labels:\n    argoos.io/policy: minor\n  annotations:\n    argoos.io/rollout: '${record}'\n    argoos.io/rejected: '${rejected}'\n    argoos.io/hold: "true"\n    argoos.io/hold-reason: incident 123\n`,
    );
    assert.notEqual(manifest, planManifest(reg.host));
    const file = `${dir}/app.yaml`;
    await Deno.writeTextFile(file, manifest);
    const { code, stdout, stderr } = await runCli(MAIN, [
      "plan",
      "-f",
      file,
      "--registry-insecure",
      reg.host,
    ]);
    assert.equal(code, 0, stderr);
    const tail = stdout.slice(stdout.indexOf("\n\n") + 2);
    assert.equal(
      tail.slice(0, tail.indexOf("Failed without progress after:")),
      [
        "Held (Argoos writes nothing):",
        "  Deployment default/web: until released (incident 123)",
        "",
        "Rollouts in progress:",
        `  Deployment default/web: app: ${reg.host}/myapp:1.2.3 → ${reg.host}/myapp:1.2.4 (push 1.2.4 ${digest}), since 2026-12-02T10:00:00Z, health timeout 2026-12-02T10:10:00Z`,
        "",
        "Rejected images:",
        `  Deployment default/web: ${reg.host}/myapp@${digest} (1.2.5): crash-loop at 2026-12-01T09:00:00Z`,
        "",
        "Human changes kept (never written there again):",
        `  Deployment default/web: ${reg.host}/myapp@sha256:${
          "c".repeat(64)
        } (1.2.6): changed by hand at 2026-12-01T09:30:00Z`,
        "",
        "",
      ].join("\n"),
    );
  } finally {
    await reg.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("planWorkloads: refinements, variant, candidates considered and why one is chosen", async () => {
  const reg = startTagRegistry({
    nginx: ["1.25.3-alpine", "1.25.4", "1.25.4-alpine", "1.26.0-alpine", "1.26.0", "latest"],
    ci: ["main-1a2b3c4-1732800000", "main-5d6e7f8-1732900000", "pr-12-1733000000"],
    lib: ["1.4.0", "1.5.0", "1.9.0", "2.0.0"],
  });
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  const deployment = (name: string, policy: string, image: string, notes: string) =>
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { argoos.io/policy: ${policy} }
  annotations: { ${notes} }
spec: { template: { spec: { containers: [{ name: app, image: "${reg.host}/${image}" }] } } }
`;
  try {
    const workloads = workloadsFromManifests([
      deployment("web", "minor", "nginx:1.25.3-alpine", ""),
      deployment(
        "ci",
        "newest",
        "ci:main-1a2b3c4-1732800000",
        `argoos.io/tag-pattern: '^main-[0-9a-f]{7}-(?<ts>[0-9]+)$', argoos.io/sort-by: ts, ` +
          `argoos.io/order: numerical`,
      ),
      deployment("lib", "major", "lib:1.4.0", `argoos.io/semver-range: '<2'`),
      deployment("bad", "newest", "lib:1.4.0", ""),
    ]);
    const rows = await planWorkloads(workloads, registry, noCredentials);
    const pick = ({ policy, variant, next, reason, considered }: PlanRow) => ({
      policy,
      variant,
      next,
      reason,
      considered,
    });
    assert.deepEqual(rows.map(pick), [
      {
        policy: "minor",
        variant: "alpine",
        next: `${reg.host}/nginx:1.26.0-alpine`,
        reason: "update",
        considered: "chose 1.26.0-alpine: greatest version of 2 candidate(s) (1.25.4-alpine); " +
          "same-image: 1.25.3-alpine; variant-mismatch: 1.25.4, 1.26.0; " +
          "candidate-not-version: latest",
      },
      {
        policy: "newest pattern=^main-[0-9a-f]{7}-(?<ts>[0-9]+)$ sort-by=ts order=numerical",
        variant: "-",
        next: `${reg.host}/ci:main-5d6e7f8-1732900000`,
        reason: "update",
        considered: "chose main-5d6e7f8-1732900000: greatest group ts in numerical order of " +
          "1 candidate(s); same-image: main-1a2b3c4-1732800000; pattern-mismatch: pr-12-1733000000",
      },
      {
        policy: "major range=<2",
        variant: "none",
        next: `${reg.host}/lib:1.9.0`,
        reason: "update",
        considered: "chose 1.9.0: greatest version of 2 candidate(s) (1.5.0); " +
          "same-image: 1.4.0; outside-range: 2.0.0",
      },
      {
        policy: "newest",
        variant: "none",
        next: "-",
        reason: "invalid-policy",
        considered: 'argoos.io/tag-pattern="": newest needs a pattern to know which tags to order',
      },
    ]);
  } finally {
    registry.close();
    await reg.close();
  }
});

Deno.test("planWorkloads: each container's gates and when they may open", async () => {
  const reg = startTagRegistry({ myapp: ["1.2.3", "1.2.4"] });
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  const digest = await digestOf("myapp", "1.2.4");
  const pending = JSON.stringify({
    db: {
      image: `${reg.host}/myapp:1.2.4`,
      digest,
      since: "2026-12-10T12:00:00Z",
      gate: "approval",
    },
  });
  try {
    const workloads = workloadsFromManifests([`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { argoos.io/policy: patch }
  annotations:
    argoos.io/min-age: 24h
    argoos.io/approval.db: required
    argoos.io/approve: "${digest}"
    argoos.io/pending: '${pending}'
spec:
  template:
    spec:
      containers:
        - { name: app, image: "${reg.host}/myapp:1.2.3" }
        - { name: db, image: "${reg.host}/myapp:1.2.3" }
        - { name: done, image: "${reg.host}/myapp:1.2.4" }
`]);
    const rows = await planWorkloads(workloads, registry, noCredentials, {
      gates: { windows: parseUpdateWindows("0 2 * * 6 4h"), timeZone: "Europe/Paris" },
      now: Date.parse("2026-12-11T12:00:00Z"),
    });
    assert.deepEqual(rows.map((r) => [r.container, r.gates]), [
      [
        "app",
        "min age reached 2026-12-12T12:00:00Z; update window opens 2026-12-12T02:00:00+01:00" +
        " (if first seen now)",
      ],
      [
        "db",
        "approved; min age reached 2026-12-11T12:00:00Z; update window opens 2026-12-12T02:00:00+01:00",
      ],
      ["done", undefined],
    ]);
    assert.ok(formatPlan(rows).includes("\n    gates: min age reached 2026-12-12T12:00:00Z; "));
  } finally {
    registry.close();
    await reg.close();
  }
});

Deno.test("planWorkloads: approval is judged on the digest it would write, pending record or not", async () => {
  const reg = startTagRegistry({ myapp: ["1.2.3", "1.2.4"] });
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  const manifest = (approve: string) =>
    workloadsFromManifests([`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { argoos.io/policy: patch }
  annotations: { argoos.io/approval: required, argoos.io/approve: "${approve}" }
spec: { template: { spec: { containers: [{ name: app, image: "${reg.host}/myapp:1.2.3" }] } } }
`]);
  try {
    const digest = await digestOf("myapp", "1.2.4");
    const gatesOf = async (approve: string) =>
      (await planWorkloads(manifest(approve), registry, noCredentials))[0].gates;
    assert.equal(await gatesOf(digest), "approved");
    assert.equal(await gatesOf("sha256:" + "e".repeat(64)), "waiting for approval");
  } finally {
    registry.close();
    await reg.close();
  }
});

Deno.test("planWorkloads stops at a registry error, as the service does: no lower candidate as next", async () => {
  const reg = startTagRegistry({ myapp: ["1.2.3", "1.3.0", "1.4.0"] });
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  const denied = new RegistryError("denied: no pull access to 1.4.0", {
    host: reg.host,
    status: 403,
    transient: false,
  });
  const failing: Parameters<typeof planWorkloads>[1] = {
    listTags: (...a) => registry.listTags(...a),
    headDigest: (h, p, ref, ...rest) =>
      ref === "1.4.0" ? Promise.reject(denied) : registry.headDigest(h, p, ref, ...rest),
    manifest: (h, p, ref, ...rest) =>
      ref === "1.4.0" ? Promise.reject(denied) : registry.manifest(h, p, ref, ...rest),
  };
  try {
    const [w] = workloadsFromManifests([`apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { argoos.io/policy: minor } }
spec: { template: { spec: { containers: [{ name: app, image: "${reg.host}/myapp:1.2.3" }] } } }
`]);
    const [row] = await planWorkloads([w], failing, noCredentials);
    assert.equal(row.next, "-", "1.3.0 is not shown as next");
    assert.match(row.considered, /skipped 1\.4\.0: registry: denied: no pull access to 1\.4\.0/);
    assert.doesNotMatch(row.considered, /skipped 1\.3\.0/, "not asked about");
  } finally {
    registry.close();
    await reg.close();
  }
});

Deno.test("planWorkloads decides as the service does: a digest rejected on the workload is passed over", async () => {
  const reg = startTagRegistry({ myapp: ["1.2.3", "1.3.0", "1.4.0"] });
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const rejected = encodeRejected([], {
      repository: `${reg.host}/myapp`,
      digest: await digestOf("myapp", "1.4.0"),
      tag: "1.4.0",
      at: Date.parse("2026-12-06T10:00:00Z"),
      reason: "manual",
    });
    const [w] = workloadsFromManifests([`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { argoos.io/policy: minor }
  annotations: { argoos.io/rejected: '${rejected}' }
spec: { template: { spec: { containers: [{ name: app, image: "${reg.host}/myapp:1.2.3" }] } } }
`]);
    const [row] = await planWorkloads([w], registry, noCredentials);
    assert.equal(row.next, `${reg.host}/myapp:1.3.0`);
    assert.equal(row.reason, "update");
    assert.match(row.considered, /skipped 1\.4\.0: rejected here \(manual\)/);
    // The registry was asked about the candidates, as the service's truth check asks.
    assert.ok(reg.requests.some((q) => q.url.pathname === "/v2/myapp/manifests/1.4.0"));
    // A person rolled back from 1.4.0 under a version policy: a re-push of 1.4.0 (another
    // digest) is that release all the same, passed over as the service passes it over.
    const repushed = encodeRejected([], {
      repository: `${reg.host}/myapp`,
      digest: "sha256:" + "e".repeat(64),
      tag: "1.4.0",
      at: Date.parse("2026-12-06T10:00:00Z"),
      reason: "manual",
    });
    const [again] = await planWorkloads(
      [{ ...w, annotations: { "argoos.io/rejected": repushed } }],
      registry,
      noCredentials,
    );
    assert.equal(again.next, `${reg.host}/myapp:1.3.0`);
  } finally {
    registry.close();
    await reg.close();
  }
});
