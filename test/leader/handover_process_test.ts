/**
 * Leader hand-over between two `argoos serve` processes sharing one (fake) cluster: the
 * leader polls; on SIGTERM it drains, releases the Lease and exits 0; the other takes
 * the Lease and polls.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startTagRegistry } from "../service/tag_registry.ts";
import { deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import { ArgoosProcess } from "./argoos_process.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("SIGTERM to the leader hands the Lease and the polling to the other process", async () => {
  const cluster = await startFakeCluster();
  const reg = startTagRegistry({ svc: ["1.0.0"] });
  cluster.fake.put(deployment({
    name: "svc",
    policy: "patch",
    containers: [{ name: "app", image: `${reg.host}/svc:1.0.0` }],
  }));
  const dir = await Deno.makeTempDir();
  const kubeconfig = `${dir}/kubeconfig`;
  await Deno.writeTextFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: cluster.fake.url } }],
      users: [{ name: "fake", user: { token: cluster.fake.token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
      "current-context": "fake",
    }),
  );
  const start = (identity: string) =>
    new ArgoosProcess([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--poll-interval",
      "1s",
      "--lease-namespace",
      "default",
      "--lease-duration",
      "2s",
      "--identity",
      identity,
    ], { KUBECONFIG: kubeconfig });
  const processes = [start("a"), start("b")];
  const holder = () =>
    (cluster.fake.get("coordination.k8s.io/v1", "Lease", "default", "argoos-poller") as Json)
      ?.spec?.holderIdentity;
  try {
    const leader = await waitFor(
      () => processes.find((p) => p.logged("became leader")),
      "a leader",
      30_000,
    );
    assert.ok(leader);
    const follower = processes.find((p) => p !== leader)!;
    const [leaderId, followerId] = leader === processes[0] ? ["a", "b"] : ["b", "a"];
    await waitFor(() => reg.listings("svc") >= 1, "the leader polling", 10_000);
    await waitFor(() => follower.logged("argoos started"), "the follower up", 30_000);
    assert.equal(holder(), leaderId);
    assert.equal(follower.logged("became leader"), false);

    assert.equal(await leader.terminate(), 0);
    assert.ok(leader.logged("released lease"), "the leader released the Lease");
    assert.ok(leader.logged("stopped"));
    // Released, not left to expire: the holder is cleared (or already the follower).
    const released = holder();
    assert.ok(released === "" || released === followerId, `holder after release: ${released}`);
    const listed = reg.listings("svc");

    await waitFor(() => follower.logged("became leader"), "the follower leading", 10_000);
    assert.equal(holder(), followerId);
    await waitFor(() => reg.listings("svc") > listed, "the new leader polling", 10_000);
  } finally {
    for (const p of processes) await p.terminate();
    await reg.close();
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
