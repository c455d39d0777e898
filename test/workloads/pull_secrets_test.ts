import assert from "node:assert/strict";
import { PullSecrets } from "../../lib/workloads/pull_secrets.ts";
import type { CredentialMap } from "../../lib/registry/credentials.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import {
  capture,
  deployment,
  type FakeCluster,
  startFakeCluster,
} from "../support/fake_cluster.ts";

function workload(name: string, podSpec: Record<string, unknown> = {}): Workload {
  return readWorkload(
    kindNamed("Deployment")!,
    deployment({ name, policy: "minor", containers: [{ name: "app", image: "a:1.0.0" }], podSpec }),
  );
}

function auths(entries: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(entries).map(([host, user]) => [host, { auth: btoa(`${user}:pw-${user}`) }]),
  );
}

/** A `kubernetes.io/dockerconfigjson` secret, data base64-encoded as the API returns it. */
function putPullSecret(cluster: FakeCluster, name: string, entries: Record<string, string>) {
  cluster.fake.put({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "default" },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": btoa(JSON.stringify({ auths: auths(entries) })) },
  });
}

function putServiceAccount(cluster: FakeCluster, name: string, secrets: string[]) {
  cluster.fake.put({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace: "default" },
    imagePullSecrets: secrets.map((s) => ({ name: s })),
  });
}

function users(creds: CredentialMap): Record<string, string | undefined> {
  return Object.fromEntries([...creds].map(([host, c]) => [host, c.username]));
}

function gets(cluster: FakeCluster, path: string): number {
  return cluster.fake.requests.filter((r) => r.method === "GET" && r.path === path).length;
}

const SECRET_PATH = "/api/v1/namespaces/default/secrets";
const ACCOUNT_PATH = "/api/v1/namespaces/default/serviceaccounts";

Deno.test("PullSecrets: workload secrets, then its service account's, then docker config", async () => {
  const cluster = await startFakeCluster();
  try {
    putPullSecret(cluster, "regcred", { "reg.a": "workload" });
    putPullSecret(cluster, "sa-cred", { "reg.a": "account", "https://reg.b/v1/": "account" });
    putServiceAccount(cluster, "builder", ["sa-cred"]);
    const base = new Map([["reg.b", { username: "config" }], ["reg.c", { username: "config" }]]);
    const secrets = new PullSecrets(cluster.client, base);
    const creds = await secrets.forWorkload(
      workload("web", { imagePullSecrets: [{ name: "regcred" }], serviceAccountName: "builder" }),
    );
    assert.deepEqual(users(creds), { "reg.a": "workload", "reg.b": "account", "reg.c": "config" });
    assert.deepEqual(creds.get("reg.a"), { username: "workload", password: "pw-workload" });
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: the default service account's secrets count too", async () => {
  const cluster = await startFakeCluster();
  try {
    putPullSecret(cluster, "sa-cred", { "reg.a": "default-account" });
    putServiceAccount(cluster, "default", ["sa-cred"]);
    const creds = await new PullSecrets(cluster.client).forWorkload(workload("web"));
    assert.deepEqual(users(creds), { "reg.a": "default-account" });
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: legacy .dockercfg secrets are read", async () => {
  const cluster = await startFakeCluster();
  try {
    cluster.fake.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "old", namespace: "default" },
      type: "kubernetes.io/dockercfg",
      data: { ".dockercfg": btoa(JSON.stringify(auths({ "reg.a": "legacy" }))) },
    });
    const creds = await new PullSecrets(cluster.client).forWorkload(
      workload("web", { imagePullSecrets: [{ name: "old" }] }),
    );
    assert.deepEqual(users(creds), { "reg.a": "legacy" });
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: a missing secret is logged, not fatal", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  try {
    putPullSecret(cluster, "present", { "reg.a": "present" });
    const base = new Map([["reg.c", { username: "config" }]]);
    const creds = await new PullSecrets(cluster.client, base, log.logger).forWorkload(
      workload("web", { imagePullSecrets: [{ name: "missing" }, { name: "present" }] }),
    );
    assert.deepEqual(users(creds), { "reg.a": "present", "reg.c": "config" });
    const warnings = log.records().filter((r) => r.level === "warn");
    assert.deepEqual(warnings.map((r) => [r.msg, r.secret, r.component]), [
      ["cannot use pull secret", "default/missing", "pull-secrets"],
    ]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: a secret without docker config is logged and skipped", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  try {
    cluster.fake.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "opaque", namespace: "default" },
      type: "Opaque",
      data: { password: btoa("x") },
    });
    const creds = await new PullSecrets(cluster.client, undefined, log.logger).forWorkload(
      workload("web", { imagePullSecrets: [{ name: "opaque" }] }),
    );
    assert.equal(creds.size, 0);
    const warnings = log.records().filter((r) => r.level === "warn");
    assert.deepEqual(warnings.map((r) => [r.msg, r.secret, r.type]), [
      ["pull secret has no docker config", "default/opaque", "Opaque"],
    ]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: a missing service account is not an error", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  try {
    const creds = await new PullSecrets(cluster.client, undefined, log.logger).forWorkload(
      workload("web", { serviceAccountName: "nobody" }),
    );
    assert.equal(creds.size, 0);
    assert.deepEqual(log.records().filter((r) => r.level === "warn"), []);
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: an unreadable service account is logged, not fatal", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  try {
    cluster.fake.fail({ method: "GET", path: `${ACCOUNT_PATH}/builder`, status: 403 });
    putPullSecret(cluster, "regcred", { "reg.a": "workload" });
    const creds = await new PullSecrets(cluster.client, undefined, log.logger).forWorkload(
      workload("web", { imagePullSecrets: [{ name: "regcred" }], serviceAccountName: "builder" }),
    );
    assert.deepEqual(users(creds), { "reg.a": "workload" });
    const warnings = log.records().filter((r) => r.level === "warn");
    assert.deepEqual(warnings.map((r) => [r.msg, r.serviceAccount]), [
      ["cannot read service account", "default/builder"],
    ]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: each secret and service account read once per instance", async () => {
  const cluster = await startFakeCluster();
  try {
    putPullSecret(cluster, "regcred", { "reg.a": "v1" });
    putPullSecret(cluster, "sa-cred", { "reg.b": "account" });
    putServiceAccount(cluster, "builder", ["sa-cred"]);
    const spec = { imagePullSecrets: [{ name: "regcred" }], serviceAccountName: "builder" };
    const workloads = Array.from({ length: 5 }, (_, i) => workload(`w${i}`, spec));

    const first = new PullSecrets(cluster.client);
    await Promise.all(workloads.map((w) => first.forWorkload(w)));
    await first.forWorkload(workloads[0]);
    assert.equal(gets(cluster, `${SECRET_PATH}/regcred`), 1);
    assert.equal(gets(cluster, `${SECRET_PATH}/sa-cred`), 1);
    assert.equal(gets(cluster, `${ACCOUNT_PATH}/builder`), 1);

    // A new instance (next poll cycle) sees a rotated secret.
    putPullSecret(cluster, "regcred", { "reg.a": "v2" });
    const next = await new PullSecrets(cluster.client).forWorkload(workloads[0]);
    assert.equal(next.get("reg.a")?.username, "v2");
    assert.equal(gets(cluster, `${SECRET_PATH}/regcred`), 2);
  } finally {
    await cluster.stop();
  }
});

Deno.test("PullSecrets: a read that fails for a reason that passes rejects and is read again, never cached", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  try {
    putPullSecret(cluster, "regcred", { "reg.a": "workload" });
    putServiceAccount(cluster, "builder", ["regcred"]);
    const web = workload("web", { imagePullSecrets: [{ name: "regcred" }] });
    const built = workload("built", { serviceAccountName: "builder" });
    for (const [w, path] of [[web, SECRET_PATH], [built, ACCOUNT_PATH]] as const) {
      for (const status of [503, 429, 500, 504]) {
        const secrets = new PullSecrets(cluster.client, undefined, log.logger);
        cluster.fake.fail({ method: "GET", path, status });
        await assert.rejects(secrets.forWorkload(w), `${status} on ${path}`);
        // The same instance reads again: the failure was not kept as "no credentials".
        assert.deepEqual(users(await secrets.forWorkload(w)), { "reg.a": "workload" });
      }
    }
    assert.ok(log.records().some((r) => r.msg === "cannot read from the API server now, retried"));
  } finally {
    await cluster.stop();
  }
});
