/**
 * The `argoos` process: `--help`, usage errors and a missing cluster, with their exit codes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { OPTIONS } from "../../cli/options.ts";
import { startFakeCluster } from "../support/fake_cluster.ts";
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

Deno.test("argoos serve with an unreachable API server exits 1 with one line naming it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}`;
  listener.close(); // nothing listens there now
  const { code, stdout, stderr } = await runCli(MAIN, ["serve", "--listen", "127.0.0.1:0"], {
    KUBE_MASTER_URL: url,
  });
  assert.equal(code, 1, stderr);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `argoos: cannot reach the Kubernetes API at ${url} (from KUBE_MASTER_URL): connection refused\n`,
  );
});

Deno.test("argoos serve with a refused exec section exits 1 with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/config`,
      `clusters: [{ name: c, cluster: { server: "http://127.0.0.1:9" } }]
users: [{ name: u, user: { exec: { command: aws, apiVersion: client.authentication.k8s.io/v1alpha1 } } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    const { code, stderr } = await runCli(MAIN, ["serve", "--listen", "127.0.0.1:0"], {
      KUBECONFIG: `${dir}/config`,
    });
    assert.equal(code, 1, stderr);
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0],
      /^argoos: kubeconfig .*\/config context x: exec plugin aws: unsupported apiVersion/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("argoos serve on an address in use, or with a bad SERVER_CERT, exits 1 with one line", async () => {
  const cluster = await startFakeCluster();
  const dir = await Deno.makeTempDir();
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await Deno.writeTextFile(
      `${dir}/config`,
      `clusters: [{ name: c, cluster: { server: "${cluster.fake.url}" } }]
users: [{ name: u, user: { token: "${cluster.fake.token}" } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    const inUse = await runCli(MAIN, ["serve", "--listen", `127.0.0.1:${held.addr.port}`], {
      KUBECONFIG: `${dir}/config`,
      TOKEN: "s3cret",
    });
    assert.equal(inUse.code, 1, inUse.stderr);
    assert.equal(
      inUse.stderr,
      `argoos: cannot serve on 127.0.0.1:${held.addr.port}: address in use\n`,
    );

    await Deno.writeTextFile(`${dir}/cert.pem`, "not a certificate\n");
    const badCert = await runCli(MAIN, ["serve", "--listen", "127.0.0.1:0"], {
      KUBECONFIG: `${dir}/config`,
      TOKEN: "s3cret",
      SERVER_CERT: `${dir}/cert.pem`,
      SERVER_KEY: `${dir}/cert.pem`,
    });
    assert.equal(badCert.code, 1, badCert.stderr);
    const lines = badCert.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, badCert.stderr);
    assert.match(lines[0], /^argoos: .*SERVER_CERT/);
  } finally {
    held.close();
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("argoos approve and reject: a target that is not KIND/NAME exits 2 pointing to --help", async () => {
  for (const verb of ["approve", "reject"]) {
    const { code, stdout, stderr } = await runCli(MAIN, [verb, "pod/web", "-n", "team"]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(
      stderr,
      /^argoos: "pod\/web" is not kind\/name \(deployment, .*\nTry 'argoos --help'\.\n$/,
    );
  }
});
