/**
 * `--dry-run`: the webhook and the poll loop decide and log what they would do, and
 * the API server sees no PATCH and no Event.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "./push_envelope.ts";

Deno.test("dry run: webhook and poll decide and log, nothing is written", async () => {
  const reg = { host: "127.0.0.1:5000" };
  const svc = await startService({
    args: ["--dry-run", "--poll-interval", "1h"],
    seed: ({ fake }, registry) => {
      for (const tag of ["1.2.3", "1.2.4"]) registry.push("myapp", tag);
      for (const tag of ["1.2.3", "1.2.4", "1.3.0"]) registry.push("svc", tag);
      fake.put(deployment({
        name: "hooked",
        policy: "patch",
        containers: [{ name: "app", image: `${reg.host}/myapp:1.2.3` }],
      }));
      fake.put(deployment({
        name: "polled",
        policy: "minor",
        containers: [{ name: "app", image: `${reg.host}/svc:1.2.3` }],
      }));
    },
  });
  const { argoos, fake, log } = svc;
  const wouldRollOut = (workload: string, source: string) =>
    log.records().find((r) =>
      r.msg === "dry-run: would roll out" && r.workload === workload && r.source === source
    );
  try {
    await argoos.cache.synced;
    const { status, text } = await svc.post(
      pushEnvelope({ host: reg.host, repository: "myapp", tag: "1.2.4" }),
    );
    assert.equal(status, 200);
    assert.equal(JSON.parse(text).applied, 1);
    assert.deepEqual(wouldRollOut("Deployment default/hooked", "webhook")?.changes, [
      { container: "app", from: `${reg.host}/myapp:1.2.3`, to: `${reg.host}/myapp:1.2.4` },
    ]);

    const polled = await waitFor(
      () => wouldRollOut("Deployment default/polled", "poll"),
      "poll dry-run line",
    );
    assert.ok(polled);
    assert.deepEqual(polled.changes, [
      { container: "app", from: `${reg.host}/svc:1.2.3`, to: `${reg.host}/svc:1.3.0` },
    ]);
    assert.equal(
      argoos.metrics.rollouts.value({
        policy: "minor",
        kind: "Deployment",
        outcome: "dry-run",
      }),
      1,
    );
  } finally {
    await svc.stop();
  }
  const writes = fake.requests.filter((r) =>
    r.method === "PATCH" || r.method === "PUT" || r.path.endsWith("/events")
  );
  assert.deepEqual(writes, []);
  assert.deepEqual(imagesOf(fake.get("apps/v1", "Deployment", "default", "hooked")), [
    `app=${reg.host}/myapp:1.2.3`,
  ]);
  assert.deepEqual(imagesOf(fake.get("apps/v1", "Deployment", "default", "polled")), [
    `app=${reg.host}/svc:1.2.3`,
  ]);
});
