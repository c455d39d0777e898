/**
 * Routing (`argoos.io/notify`) and "one notification per decision": the event recorder tells
 * the notifier of an Event once, not of its repeats.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventRecorder, type WorkloadEvent } from "../../lib/events/recorder.ts";
import { Notifier } from "../../lib/notify/notifier.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { capture } from "../support/capture_log.ts";
import { startFakeCluster } from "../support/fake_cluster.ts";
import { deployment } from "../support/workload_object.ts";

const workloadWith = (name: string, annotations: Record<string, string> = {}): Workload =>
  readWorkload(
    kindNamed("Deployment")!,
    {
      ...deployment({
        name,
        policy: "patch",
        annotations,
        containers: [{ name: "app", image: "a:1" }],
      }),
      metadata: {
        name,
        namespace: "default",
        uid: `uid-${name}`,
        resourceVersion: "1",
        labels: { "argoos.io/policy": "patch" },
        annotations,
      },
    } as Parameters<typeof readWorkload>[1],
  );

/** A notifier whose sinks' requests are kept, by URL host. */
function notifierTo(...names: string[]) {
  const sent: { sink: string; body: string }[] = [];
  const log = capture();
  const notifier = new Notifier(
    names.map((name) => ({
      name,
      format: "cloudevents" as const,
      url: `https://${name}.example/`,
    })),
    {
      source: "argoos/test",
      logger: log.logger,
      fetch: (input) => {
        sent.push({ sink: new URL(String(input)).hostname.split(".")[0], body: "" });
        return Promise.resolve(new Response("ok"));
      },
    },
  );
  return { notifier, sent, log };
}

const applied = (workload: Workload, message = "app: a:1 → a:2"): WorkloadEvent => ({
  workload,
  reason: "ImageUpdated",
  type: "Normal",
  message,
});

Deno.test("every sink gets every event unless the workload names its sinks", async () => {
  const { notifier, sent, log } = notifierTo("ops", "chat", "audit");
  notifier.notify(applied(workloadWith("all")));
  notifier.notify(applied(workloadWith("some", { "argoos.io/notify": "chat, audit" })));
  notifier.notify(applied(workloadWith("typo", { "argoos.io/notify": "chta" })));
  notifier.notify(applied(workloadWith("none", { "argoos.io/notify": "" })));
  await notifier.idle();
  assert.deepEqual(sent.map((s) => s.sink).sort(), ["audit", "audit", "chat", "chat", "ops"]);
  // A name that is no sink is told in the log, by name, once (not on every notification).
  assert.ok(log.lines.some((l) => l.includes('"sink":"chta"')));
  for (let i = 0; i < 5; i++) {
    notifier.notify(applied(workloadWith("typo", { "argoos.io/notify": "chta" }), `m${i}`));
  }
  await notifier.idle();
  assert.equal(log.lines.filter((l) => l.includes('"sink":"chta"')).length, 1);
  await notifier.stop();
});

Deno.test("a repeated Event (counted again) notifies nobody; a new decision does", async () => {
  const cluster = await startFakeCluster();
  const told: WorkloadEvent[] = [];
  try {
    for (const write of [true, false]) {
      told.length = 0;
      const events = new EventRecorder(cluster.client, {
        instance: "a",
        write,
        onFirst: (ev) => told.push(ev),
      });
      const w = workloadWith(`web-${write}`);
      events.record(applied(w)); // a decision
      events.record(applied(w)); // the same one again (a redelivery, the next cycle)
      events.record(applied(w, "app: a:2 → a:3")); // another decision
      await events.flush();
      assert.deepEqual(
        told.map((e) => e.message),
        ["app: a:1 → a:2", "app: a:2 → a:3"],
        `write ${write}`,
      );
    }
    // Written as Events (count 2 on the repeat) only when writing.
    const written = cluster.fake.list("v1", "Event") as { count: number; message: string }[];
    assert.deepEqual(written.map((e) => [e.message, e.count]).sort(), [
      ["app: a:1 → a:2", 2],
      ["app: a:2 → a:3", 1],
    ]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("two replicas recording one decision (a refusal each saw): one Event, one notification", async () => {
  const cluster = await startFakeCluster();
  const told: string[] = [];
  try {
    const [a, b] = ["a", "b"].map((instance) =>
      new EventRecorder(cluster.client, { instance, onFirst: () => told.push(instance) })
    );
    const refused: WorkloadEvent = {
      workload: workloadWith("locked"),
      reason: "UpdateRejected",
      type: "Warning",
      message: "app: a:1 → a:2 refused by the API server: frozen",
    };
    a.record(refused);
    await a.flush();
    b.record(refused);
    await b.flush();
    b.record(refused); // and b's retry
    await b.flush();
    assert.deepEqual(told, ["a"]);
    const written = cluster.fake.list("v1", "Event") as {
      count: number;
      reportingInstance: string;
    }[];
    assert.deepEqual(written.map((e) => [e.reportingInstance, e.count]), [["a", 3]]);
  } finally {
    await cluster.stop();
  }
});
