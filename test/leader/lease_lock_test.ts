/**
 * LeaseLock against the fake API server: acquire, hold while renewing, hand over on
 * release, take over from a crashed holder after the lease duration, survive a 409.
 *
 * @module
 */

import assert from "node:assert/strict";
import { KubeClient } from "../../lib/kube/client.ts";
import { LeaseLock, type LeaseLockOptions } from "../../lib/leader/lease_lock.ts";
import { capture, type FakeCluster, startFakeCluster, waitFor } from "../support/fake_cluster.ts";

const DURATION_MS = 1_000;
const RETRY_MS = 100;

// deno-lint-ignore no-explicit-any
type Json = any;

function lock(client: KubeClient, identity: string, extra: Partial<LeaseLockOptions> = {}) {
  return new LeaseLock(client, {
    namespace: "default",
    name: "argoos-poller",
    identity,
    leaseDurationMs: DURATION_MS,
    retryPeriodMs: RETRY_MS,
    ...extra,
  });
}

const leaseOf = (cluster: FakeCluster): Json =>
  cluster.fake.get("coordination.k8s.io/v1", "Lease", "default", "argoos-poller");

Deno.test("the first replica acquires; the second waits while the first renews", async () => {
  const cluster = await startFakeCluster();
  const changesOfB: boolean[] = [];
  const a = lock(cluster.client, "a");
  const b = lock(cluster.client, "b", { onChange: (l) => changesOfB.push(l) });
  try {
    a.start();
    await waitFor(() => a.isLeader(), "a leads");
    const acquired = leaseOf(cluster).spec;
    assert.equal(acquired.holderIdentity, "a");
    assert.equal(acquired.leaseDurationSeconds, 1);
    assert.equal(acquired.leaseTransitions, 0);
    assert.match(acquired.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    b.start();
    // Twice the lease duration of renewals seen by b, and b never took it.
    const until = Date.now() + 2 * DURATION_MS;
    await waitFor(() => Date.parse(leaseOf(cluster).spec.renewTime) > until, "a renewing", 10_000);
    assert.equal(b.isLeader(), false);
    assert.deepEqual(changesOfB, []);
    assert.equal(a.isLeader(), true);
    assert.equal(leaseOf(cluster).spec.acquireTime, acquired.acquireTime);
  } finally {
    await a.stop();
    await b.stop();
    await cluster.stop();
  }
});

Deno.test("a replica that stops releases the Lease and the other takes it", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  // A long lease: only the release can hand over within the test.
  const a = lock(cluster.client, "a", { leaseDurationMs: 60_000, logger: log.logger });
  const b = lock(cluster.client, "b", { leaseDurationMs: 60_000 });
  try {
    a.start();
    await waitFor(() => a.isLeader(), "a leads");
    b.start();
    await waitFor(
      () =>
        cluster.fake.requests.filter((r) => r.path.endsWith("/leases/argoos-poller")).length > 4,
      "b looking at the Lease",
    );
    assert.equal(b.isLeader(), false);

    await a.stop();
    assert.equal(a.isLeader(), false);
    assert.ok(log.records().some((r) => r.msg === "released lease"));
    const released = leaseOf(cluster).spec.holderIdentity;
    assert.ok(released === "" || released === "b", `holder after release: ${released}`);

    await waitFor(() => b.isLeader(), "b leads after the release");
    const spec = leaseOf(cluster).spec;
    assert.equal(spec.holderIdentity, "b");
    assert.equal(spec.leaseTransitions, 1);
  } finally {
    await a.stop();
    await b.stop();
    await cluster.stop();
  }
});

/** A client that loses the API server when told to, as a crashed or partitioned pod would. */
class CrashableClient extends KubeClient {
  crashed = false;
  override get<T>(...args: Parameters<KubeClient["get"]>): Promise<T> {
    if (this.crashed) return Promise.reject(new TypeError("connection refused"));
    return super.get<T>(...args);
  }
}

Deno.test("a crashed holder loses the Lease to the other after the lease duration", async () => {
  const cluster = await startFakeCluster();
  const aClient = new CrashableClient(cluster.client.connection);
  const aChanges: boolean[] = [];
  const a = lock(aClient, "a", { onChange: (l) => aChanges.push(l) });
  const b = lock(cluster.client, "b");
  try {
    a.start();
    await waitFor(() => a.isLeader(), "a leads");
    b.start();
    const renewals = cluster.fake.requests.length;
    await waitFor(() => cluster.fake.requests.length > renewals + 4, "b looking at the Lease");
    assert.equal(b.isLeader(), false);

    aClient.crashed = true; // a can neither renew nor release
    await waitFor(() => b.isLeader(), "b takes over", 10_000);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(aChanges, [true, false]);
    const spec = leaseOf(cluster).spec;
    assert.equal(spec.holderIdentity, "b");
    assert.equal(spec.leaseTransitions, 1);
  } finally {
    await a.stop();
    await b.stop();
    await cluster.stop();
  }
});

Deno.test("a 409 on create means another replica won: no leadership, try again", async () => {
  const cluster = await startFakeCluster();
  const log = capture();
  const changes: boolean[] = [];
  const a = lock(cluster.client, "a", { logger: log.logger, onChange: (l) => changes.push(l) });
  cluster.fake.fail({ method: "POST", path: "/leases", status: 409, reason: "AlreadyExists" });
  try {
    a.start();
    await waitFor(() => a.isLeader(), "a leads on its second try");
    const creates = cluster.fake.requests.filter((r) => r.method === "POST");
    assert.equal(creates.length, 2);
    assert.deepEqual(changes, [true]);
    assert.ok(!log.records().some((r) => r.level === "warn"), "a 409 is not a failure");
  } finally {
    await a.stop();
    await cluster.stop();
  }
});

Deno.test("replicas racing to create the Lease end with exactly one leader", async () => {
  const cluster = await startFakeCluster();
  const locks = ["a", "b", "c"].map((id) => lock(cluster.client, id));
  try {
    for (const l of locks) l.start();
    await waitFor(() => locks.some((l) => l.isLeader()), "a leader");
    const holder = leaseOf(cluster).spec.holderIdentity;
    // Several more retry periods: still the same single leader.
    const until = Date.now() + 5 * RETRY_MS;
    await waitFor(() => Date.parse(leaseOf(cluster).spec.renewTime) > until, "renewals");
    assert.deepEqual(locks.map((l) => l.isLeader()), ["a", "b", "c"].map((id) => id === holder));
    assert.equal(leaseOf(cluster).spec.holderIdentity, holder);
  } finally {
    for (const l of locks) await l.stop();
    await cluster.stop();
  }
});
