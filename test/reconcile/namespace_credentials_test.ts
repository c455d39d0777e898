/**
 * Credentials per namespace: a workload's tags and digests are read with what its own
 * namespace holds; what one namespace's pull secret can read never rolls out a workload in a
 * namespace without access to that repository.
 */

import assert from "node:assert/strict";
import { startService } from "../support/argoos_service.ts";
import { deployment, type FakeCluster, imagesOf, waitFor } from "../support/fake_cluster.ts";

const REG = "127.0.0.1:5000";
const REJECTED = "registry answer no retry can fix: not written, retried with back-off";
const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";

/** A `kubernetes.io/dockerconfigjson` Secret for REG, data base64-encoded as the API returns it. */
function pullSecret(namespace: string, username: string, password: string) {
  const auths = { [REG]: { auth: btoa(`${username}:${password}`) } };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "regcred", namespace },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": btoa(JSON.stringify({ auths })) },
  };
}

/** A `web` Deployment on the private repository, with or without the pull secret. */
function web(namespace: string, withSecret: boolean) {
  return deployment({
    name: "web",
    namespace,
    policy: "patch",
    containers: [{ name: "app", image: `${REG}/private:1.0.0` }],
    podSpec: withSecret ? { imagePullSecrets: [{ name: "regcred" }] } : {},
  });
}

const imageIn = (c: FakeCluster, namespace: string) =>
  imagesOf(c.fake.get("apps/v1", "Deployment", namespace, "web"))[0];

Deno.test("credentials per namespace: a private repository readable with ns A's secret rolls out nothing in ns B", async () => {
  let pushed = "";
  const svc = await startService({
    seed: (c, registry) => {
      registry.restrict("private", "alice", "s3cret");
      registry.push("private", "1.0.0");
      pushed = registry.push("private", "1.0.1");
      c.fake.put(pullSecret("team-a", "alice", "s3cret"));
      c.fake.put(web("team-a", true));
      c.fake.put(web("team-b", false));
      // Another namespace with its own, wrong, credentials for the same repository.
      c.fake.put(pullSecret("team-c", "mallory", "guess"));
      c.fake.put(web("team-c", true));
    },
  });
  try {
    await svc.argoos.cache.synced;
    const body = JSON.stringify({
      events: [{
        id: "3f1a7c36-0f3b-4a43-9d8e-4c8c9c6f6b7e",
        timestamp: new Date().toISOString(),
        action: "push",
        target: { mediaType: MANIFEST_TYPE, repository: "private", tag: "1.0.1", digest: pushed },
        request: { host: REG },
      }],
    });
    const res = await svc.post(body);
    assert.equal(res.status, 200, `a namespace without access does not stall: ${res.text}`);
    // Refused credentials are final for those two: answered 200, reported, retried with back-off.
    assert.deepEqual(JSON.parse(res.text), {
      applied: 1,
      unchanged: 0,
      refused: 0,
      rejected: 2,
      ignored: 0,
    });
    assert.equal(imageIn(svc, "team-a"), `app=${REG}/private:1.0.1`);
    assert.equal(imageIn(svc, "team-b"), `app=${REG}/private:1.0.0`, "no secret: not rolled out");
    assert.equal(
      imageIn(svc, "team-c"),
      `app=${REG}/private:1.0.0`,
      "wrong secret: not rolled out",
    );
    const refused = svc.log.records().filter((r) =>
      r.msg === REJECTED && r.reason === "credentials-refused"
    ).map((r) => String(r.workload)).sort();
    assert.deepEqual(refused, ["Deployment team-b/web", "Deployment team-c/web"]);
    // Only team-a's request carried team-a's credentials.
    const alice = `Basic ${btoa("alice:s3cret")}`;
    const withAlice = svc.registry.requests.filter((r) => r.headers.get("authorization") === alice);
    assert.ok(withAlice.length >= 1);
  } finally {
    await svc.stop();
  }
});

Deno.test("credentials per namespace: the poll's listing serves only namespaces with credentials for the repository", async () => {
  const svc = await startService({
    args: ["--poll-interval", "1h"],
    seed: (c, registry) => {
      registry.restrict("private", "alice", "s3cret");
      registry.push("private", "1.0.0");
      registry.push("private", "1.0.1");
      c.fake.put(pullSecret("team-a", "alice", "s3cret"));
      c.fake.put(web("team-a", true));
      c.fake.put(web("team-b", false));
    },
  });
  try {
    await waitFor(() => imageIn(svc, "team-a") === `app=${REG}/private:1.0.1`, "team-a polled");
    const told = svc.log.records().find((r) =>
      String(r.msg).startsWith("private repository listed for other namespaces only")
    );
    assert.deepEqual(told?.first, ["Deployment team-b/web"]);
    assert.equal(imageIn(svc, "team-b"), `app=${REG}/private:1.0.0`);
    // team-b was not reconciled from team-a's listing at all: its own read was never tried.
    assert.ok(
      !svc.log.records().some((r) => r.msg === REJECTED),
    );
  } finally {
    await svc.stop();
  }
});
