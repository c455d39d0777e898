/**
 * One notification per decision across replicas: two Argoos services on one API server, with
 * leader election, each handed the same push (a registry's redelivery, a load balancer) and
 * each running a poll cycle; the receiver gets the rollout once, and nothing for the no-ops.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startStubRegistry } from "../../bench/stub_registry.ts";
import { clientFor, launchArgoos, type LaunchedArgoos } from "../support/argoos_service.ts";
import { deployment, imagesOf, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";
import { startReceiver } from "./receiver.ts";

const REGISTRY = "127.0.0.1:5000";
const TOKEN = "t";

Deno.test("no duplicates from two replicas: one notification per decision, none for no-ops", async () => {
  const cluster = await startFakeCluster();
  const registry = startStubRegistry();
  const receiver = startReceiver();
  const replicas: LaunchedArgoos[] = [];
  try {
    const digest = registry.push("myapp", "1.2.4");
    cluster.fake.put(deployment({
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: `${REGISTRY}/myapp:1.2.3` }],
    }));
    for (const identity of ["a", "b"]) {
      replicas.push(
        await launchArgoos(
          cluster.client,
          [
            "serve",
            ...["--poll-interval", "1h", "--token", TOKEN, "--identity", identity],
            ...["--leader-elect", "--lease-duration", "1s", "--notify", `ops=${receiver.url}/hook`],
          ],
          {},
          clientFor(registry),
        ),
      );
    }
    for (const { argoos } of replicas) {
      await argoos.cache.synced;
      await waitFor(() => argoos.cache.all().length === 1, "web cached");
    }
    await waitFor(() => replicas.some(({ argoos }) => argoos.lease?.isLeader()), "a leader");

    const deliver = (url: string) =>
      fetch(`${url}/event`, {
        method: "POST",
        headers: {
          "content-type": "application/vnd.docker.distribution.events.v1+json",
          "x-argoos-token": TOKEN,
        },
        body: pushEnvelope({ host: REGISTRY, repository: "myapp", tag: "1.2.4", digest }),
      }).then((r) => r.text());
    // The same push delivered to both replicas at once, and again (a redelivery).
    await Promise.all(replicas.map(({ argoos }) => deliver(argoos.url)));
    await Promise.all(replicas.map(({ argoos }) => deliver(argoos.url)));
    const web = () => cluster.fake.get("apps/v1", "Deployment", "default", "web");
    assert.deepEqual(imagesOf(web()), [`app=${REGISTRY}/myapp:1.2.4`]);
    // Each replica polls too (only the leader acts), twice.
    for (let i = 1; i <= 2; i++) {
      await Promise.all(
        replicas.map(({ argoos }) => argoos.poller!.cycle(Date.now() + i * 3_600_000)),
      );
    }
    await waitFor(() => receiver.received.length >= 1, "the rollout notified");

    // Stopping flushes Events and cuts what a sink still holds: counted as dropped or failed.
    for (const { argoos } of replicas) await argoos.stop();
    const counts = (outcome: string) =>
      replicas.reduce(
        (n, { argoos }) => n + argoos.metrics.notifications.value({ sink: "ops", outcome }),
        0,
      );
    assert.equal(counts("dropped") + counts("failed"), 0, "nothing was left unsent");
    assert.equal(counts("delivered"), 1);
    assert.equal(receiver.received.length, 1);
    const ev = JSON.parse(receiver.received[0].body);
    assert.equal(ev.type, "io.argoos.rollout.applied");
    assert.equal(ev.subject, "default/deployment/web");
    assert.equal(ev.data.to, `${REGISTRY}/myapp:1.2.4`);
    assert.equal(ev.data.digest, digest);
    // Logs name the sink, never its URL.
    for (const { log } of replicas) {
      assert.ok(log.lines.some((l) => l.includes('"notify":["ops (cloudevents)"]')));
      assert.ok(!log.lines.some((l) => l.includes(receiver.url.slice("http://".length))));
    }
    const applied = (cluster.fake.list("v1", "Event") as { reason: string; count: number }[])
      .filter((e) => e.reason === "ImageUpdated");
    assert.deepEqual(applied.map((e) => e.count), [1]);
  } finally {
    for (const { argoos } of replicas) await argoos.stop();
    await receiver.close();
    await registry.close();
    await cluster.stop();
  }
});
