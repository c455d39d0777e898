/**
 * `argoos hold` and `argoos release` against the fake API server through a kubeconfig, as a
 * user runs them: kubectl's `kind/name` and `-n`, `--for`, `--reason`; and what they refuse.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseTarget, readInvocation, UsageError } from "../../cli/config.ts";
import { runApproval } from "../../cli/approve.ts";
import { runHold } from "../../cli/hold.ts";
import { startFakeApiServer } from "../fake_apiserver/mod.ts";
import { deployment } from "../support/workload_object.ts";

/** A kubeconfig for the fake API server, as a user's (its context in `namespace`, if given). */
async function kubeconfig(url: string, token: string, namespace?: string): Promise<string> {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(
    path,
    `
clusters: [{ name: fake, cluster: { server: "${url}" } }]
users: [{ name: me, user: { token: ${token} } }]
contexts: [{ name: fake, context: { cluster: fake, user: me${
      namespace ? `, namespace: ${namespace}` : ""
    } } }]
current-context: fake
`,
  );
  return path;
}

Deno.test("parseTarget reads kubectl's kind/name for the four kinds and their short names", () => {
  const cases: [string, string][] = [
    ["deployment/web", "Deployment"],
    ["deployments/web", "Deployment"],
    ["deploy/web", "Deployment"],
    ["deployment.apps/web", "Deployment"],
    ["statefulset/db", "StatefulSet"],
    ["sts/db", "StatefulSet"],
    ["daemonset/agent", "DaemonSet"],
    ["ds/agent", "DaemonSet"],
    ["cronjob/nightly", "CronJob"],
    ["cj/nightly", "CronJob"],
  ];
  for (const [arg, kind] of cases) assert.equal(parseTarget(arg).kind.type.kind, kind, arg);
  for (const bad of ["web", "pod/web", "deployment/", "deployment/Web", "replicaset/x"]) {
    assert.throws(() => parseTarget(bad), UsageError, bad);
  }
});

Deno.test("hold and release need a workload; --for must be a duration; release takes no --for", async () => {
  const env = () => undefined;
  await assert.rejects(readInvocation(["hold"], env), /hold needs the workload/);
  await assert.rejects(readInvocation(["hold", "deploy/web", "--for", "soon"], env), /--for/);
  await assert.rejects(
    readInvocation(["release", "deploy/web", "--for", "1h"], env),
    /go with hold/,
  );
  await assert.rejects(readInvocation(["serve", "deploy/web"], env), /unknown command/);
  const inv = await readInvocation(
    ["hold", "sts/db", "-n", "team", "--for", "24h", "--reason", "incident 123"],
    env,
  );
  assert.deepEqual(
    [inv.target?.kind.type.kind, inv.target?.name, inv.target?.namespace, inv.target?.forMs],
    ["StatefulSet", "db", "team", 86_400_000],
  );
  // Without -n, the kubeconfig context decides (as kubectl), then `default`.
  assert.equal((await readInvocation(["release", "ds/agent"], env)).target?.namespace, undefined);
  assert.equal(inv.target?.reason, "incident 123");
});

Deno.test("argoos hold / release write and remove argoos.io/hold with the user's kubeconfig", async () => {
  const api = await startFakeApiServer();
  const config = await kubeconfig(api.url, api.token);
  const obj = deployment({
    name: "web",
    namespace: "team",
    policy: "patch",
    containers: [{ name: "app", image: "app:1" }],
  });
  api.put(obj);
  const annotations = () =>
    (api.get("apps/v1", "Deployment", "team", "web")?.metadata as {
      annotations?: Record<string, string>;
    }).annotations ?? {};
  const run = async (args: string[], now = Date.now) =>
    await runHold(
      await readInvocation([...args, "--kubeconfig", config], () => undefined),
      now,
    );
  try {
    const now = () => Date.parse("2026-12-06T10:00:00Z");
    assert.equal(
      await run(["hold", "deployment/web", "-n", "team", "--for", "24h", "--reason", "inc 1"], now),
      0,
    );
    assert.deepEqual(annotations(), {
      "argoos.io/hold": "2026-12-07T10:00:00Z",
      "argoos.io/hold-reason": "inc 1",
    });
    assert.equal(await run(["hold", "deploy/web", "-n", "team"]), 0);
    assert.deepEqual(annotations(), { "argoos.io/hold": "true" }, "the earlier reason goes");
    assert.equal(await run(["release", "deploy/web", "-n", "team"]), 0);
    assert.deepEqual(annotations(), {});
    // Not found (or forbidden: the user's RBAC decides): exit 1, nothing written.
    assert.equal(await run(["hold", "deploy/nope", "-n", "team"]), 1);
    const patches = api.requests.filter((r) => r.method === "PATCH");
    assert.equal(patches.length, 4);
    assert.ok(patches.every((r) => r.contentType === "application/merge-patch+json"));
  } finally {
    await api.stop();
    await Deno.remove(config);
  }
});

Deno.test("argoos hold without -n acts in the kubeconfig context's namespace", async () => {
  const api = await startFakeApiServer();
  const config = await kubeconfig(api.url, api.token, "team");
  api.put(deployment({
    name: "web",
    namespace: "team",
    policy: "patch",
    containers: [{ name: "app", image: "app:1" }],
  }));
  try {
    const inv = await readInvocation(
      ["hold", "deploy/web", "--kubeconfig", config],
      () => undefined,
    );
    assert.equal(await runHold(inv), 0);
    const stored = api.get("apps/v1", "Deployment", "team", "web")?.metadata as {
      annotations?: Record<string, string>;
    };
    assert.equal(stored.annotations?.["argoos.io/hold"], "true");
  } finally {
    await api.stop();
    await Deno.remove(config);
  }
});

Deno.test("argoos approve and reject read kind/name and the namespace as hold does (-n, else the context's)", async () => {
  const api = await startFakeApiServer();
  const config = await kubeconfig(api.url, api.token, "team");
  const digest = "sha256:" + "c".repeat(64);
  const pending = JSON.stringify({
    app: { image: "app:2", digest, since: "2026-12-06T10:00:00Z", gate: "approval" },
  });
  api.put(deployment({
    name: "web",
    namespace: "team",
    policy: "patch",
    annotations: { "argoos.io/pending": pending },
    containers: [{ name: "app", image: "app:1" }],
  }));
  const lines: string[] = [];
  const run = async (...args: string[]) =>
    runApproval(await readInvocation([...args, "--kubeconfig", config], () => undefined), {
      print: (l) => lines.push(l),
    });
  try {
    assert.equal(await run("approve", "deploy/web"), 0, "the context's namespace");
    const stored = api.get("apps/v1", "Deployment", "team", "web")?.metadata as {
      annotations?: Record<string, string>;
    };
    assert.equal(stored.annotations?.["argoos.io/approve"], digest);
    assert.deepEqual(lines, [`approved app:2 (${digest}) for app of deployment/web in team`]);
    assert.equal(await run("reject", "deployment.apps/web", "-n", "elsewhere"), 1, "-n wins");
    await assert.rejects(run("approve", "pod/web"), UsageError);
    await assert.rejects(run("reject", "deploy/web", "--for", "1h"), /go with hold, not reject/);
  } finally {
    await api.stop();
    await Deno.remove(config);
  }
});
