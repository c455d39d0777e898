/**
 * Argoos's own write reconciles nothing again (neither its PATCH answer nor its watch event,
 * whichever arrives first), while a change by someone else still enqueues the workload.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { seedPods } from "../support/pods.ts";
import { pushEnvelope } from "../service/push_envelope.ts";

const REG = "127.0.0.1:5000";

Deno.test("a write by Argoos is reconciled once; an outside change enqueues again", async () => {
  const svc = await startService({
    seed: (cluster, registry) => {
      const running = registry.push("app", "1.0.0");
      registry.push("app", "1.0.1");
      const web = cluster.fake.put(deployment({
        name: "web",
        policy: "patch",
        containers: [{ name: "app", image: `${REG}/app:1.0.0` }],
      }));
      seedPods(cluster.fake, web, { imageID: `${REG}/app@${running}` });
    },
  });
  // Every reconcile that finds a fact for the workload logs one decision for its container.
  const decisions = () =>
    svc.log.records().filter((r) =>
      r.msg === "decision" && r.workload === "Deployment default/web"
    );
  try {
    await svc.argoos.cache.synced;
    const digest = svc.registry.digestOf("app", "1.0.1");
    const answer = await svc.post(
      pushEnvelope({ host: REG, repository: "app", tag: "1.0.1", digest }),
    );
    assert.equal(answer.status, 200, answer.text);
    const [image] = imagesOf(svc.fake.get("apps/v1", "Deployment", "default", "web"));
    assert.match(image, /app:1\.0\.1/);

    // Someone else relabels it: the watch must enqueue it, and that reconcile (policy minor)
    // runs after any reconcile the write itself caused, which would have logged policy patch.
    await svc.client.patch(DEPLOYMENTS, "default", "web", {
      metadata: { labels: { "argoos.io/policy": "minor" } },
    }, "merge");
    await waitFor(
      () => decisions().some((r) => r.policy === "minor"),
      "the reconcile of the outside change",
    );
    assert.deepEqual(decisions().map((r) => r.policy), ["patch", "minor"]);
    assert.equal(svc.fake.requests.filter((r) => r.method === "PATCH").length, 2);
  } finally {
    await svc.stop();
  }
});
