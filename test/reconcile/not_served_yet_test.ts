/**
 * A registry may notify a push before its tag resolves (distribution/distribution#2625): the
 * reconcile asks again shortly while the push is young, so the push is not lost.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";

const REG = "127.0.0.1:5000";

Deno.test("a push notified before the registry serves its tag is rolled out once it does", async () => {
  const svc = await startService({
    seed: (cluster) =>
      cluster.fake.put(
        deployment({
          name: "web",
          policy: "patch",
          containers: [{ name: "app", image: `${REG}/app:1.0.0` }],
        }),
      ),
  });
  try {
    await svc.argoos.cache.synced;
    const digest = `sha256:${"e".repeat(64)}`;
    // The notification arrives first: the tag is not served yet, nothing is written.
    const res = await svc.post(
      pushEnvelope({ host: REG, repository: "app", tag: "1.0.1", digest }),
    );
    assert.equal(res.status, 200, res.text);
    const web = () => svc.fake.get("apps/v1", "Deployment", "default", "web");
    assert.deepEqual(imagesOf(web()), [`app=${REG}/app:1.0.0`]);
    assert.ok(
      svc.log.records().some((r) =>
        r.msg === "tag not served by the registry, not written" && r.askAgainInMs
      ),
    );
    // Then the registry links the tag; no second delivery comes.
    svc.registry.push("app", "1.0.1", digest);
    await waitFor(() => imagesOf(web())[0] === `app=${REG}/app:1.0.1`, "rolled out", 10_000);
  } finally {
    await svc.stop();
  }
});
