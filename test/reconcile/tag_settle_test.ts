/**
 * A registry may notify a push before its tag resolves (CNCF distribution 2.8: a GET by tag
 * right after the notification answered 404 while the digest was served, about one push in
 * five). That is transient: retried with back-off, within bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeDigest, startStubRegistry, type StubRegistry } from "../../bench/stub_registry.ts";
import { DeadlineError, deliverPushes } from "../../lib/reconcile/deliver.ts";
import { RepositoryFacts } from "../../lib/reconcile/facts.ts";
import { WorkQueue } from "../../lib/reconcile/queue.ts";
import { Reconciler, type ReconcileResult } from "../../lib/reconcile/reconciler.ts";
import { TagNotYetServedError, TagVerifier } from "../../lib/registry/tag_verifier.ts";
import type { Rollout } from "../../lib/rollout/rollout.ts";
import type { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { clientFor, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";

const REG = "127.0.0.1:5000";
const web = deployment({
  name: "web",
  policy: "patch",
  containers: [{ name: "app", image: `${REG}/app:1.2.3` }],
});

/** Requests for `app`'s manifest by `tag` (HEAD or GET) the registry answered. */
const asksByTag = (stub: StubRegistry, tag: string) =>
  stub.requests.filter((r) => r.url.pathname === `/v2/app/manifests/${tag}`).length;

Deno.test("a pushed tag that resolves after its notification is rolled out, answered 200", async () => {
  const digest = fakeDigest(0x124);
  const svc = await startService({
    seed: (cluster, registry) => {
      cluster.fake.put(web);
      registry.push("app", "staging", digest); // the digest is served, tag 1.2.4 not yet
    },
  });
  try {
    await svc.argoos.cache.synced;
    const answer = svc.post(pushEnvelope({ host: REG, repository: "app", tag: "1.2.4", digest }));
    await waitFor(() => asksByTag(svc.registry, "1.2.4") > 0, "the tag asked for");
    svc.registry.push("app", "1.2.4", digest);
    const { status, text } = await answer;
    assert.equal(status, 200, text);
    assert.equal(JSON.parse(text).applied, 1);
    assert.deepEqual(imagesOf(svc.fake.get("apps/v1", "Deployment", "default", "web")), [
      `app=${REG}/app:1.2.4`,
    ]);
    assert.ok(asksByTag(svc.registry, "1.2.4") >= 2, "asked again after the 404");
  } finally {
    await svc.stop();
  }
});

Deno.test("a pushed tag that never resolves: nothing written, bounded retries, then dropped", async () => {
  const stub = startStubRegistry();
  const digest = stub.push("app", "staging");
  const registry = clientFor(stub);
  const workload = readWorkload(kindNamed("Deployment")!, web);
  const cache = {
    get: () => workload,
    byRepository: () => [workload],
  } as unknown as WorkloadCache;
  const written: string[] = [];
  let ended = 0;
  const rollout = {
    apply: (_w, plan) => {
      ended++;
      for (const v of plan.verdicts) if (v.to) written.push(v.to);
      return Promise.resolve(plan.verdicts.some((v) => v.to) ? "applied" : "unchanged");
    },
  } as Pick<Rollout, "apply"> as Rollout;
  const facts = new RepositoryFacts();
  const reconciler = new Reconciler({
    cache,
    facts,
    verifier: new TagVerifier(registry),
    rollout,
    credentialsOf: () => Promise.resolve(new Map()),
    runningDigestsOf: () => Promise.resolve(new Map()),
    tagSettleMs: 400,
  });
  const retries: unknown[] = [];
  const queue = new WorkQueue<ReconcileResult>({
    reconcile: (key) => reconciler.reconcile(key),
    baseDelayMs: 20,
    onRetry: (_key, _ms, cause) => retries.push(cause),
  });
  const push = {
    repository: `${REG}/app`,
    tag: "1.2.4",
    digest,
    pushedAt: Date.parse("2026-12-01T10:00:00Z"),
    source: "distribution",
  };
  try {
    // Within the bound, a delivery waits for the retries and is not answered before its deadline.
    await assert.rejects(deliverPushes({ facts, cache, queue }, [push], 150), DeadlineError);
    await waitFor(() => ended > 0, "a reconcile that ends, past the bound", 5_000);
    assert.equal(queue.length, 0, "nothing left to retry");
    const asked = asksByTag(stub, "1.2.4");
    // Back-off 20, 40, 80, 160, 320 ms: five retries fit in the 400 ms bound, then one drops it.
    assert.ok(asked >= 3 && asked <= 8, `asked ${asked} times`);
    // The same push delivered again after the bound changes nothing and is answered at once.
    assert.deepEqual(await deliverPushes({ facts, cache, queue }, [{ ...push }], 1_000), {
      applied: 0,
      unchanged: 1,
      refused: 0,
      rejected: 0,
    });
    assert.equal(queue.length, 0, "nothing left to retry");
    assert.deepEqual(written, []);
  } finally {
    await queue.stop();
    registry.close();
    await stub.close();
  }
});

Deno.test("TagVerifier: a tag still on its previous content while the pushed digest is served is not yet moved", async () => {
  const stub = startStubRegistry();
  const before = stub.push("app", "latest");
  const pushed = stub.push("app", "staging");
  const registry = clientFor(stub);
  const verifier = new TagVerifier(registry);
  const ask = (expectDigest: string) =>
    verifier.verify(REG, "app", "latest", new Map(), { expectDigest, notBefore: Date.now() });
  try {
    await assert.rejects(ask(pushed), TagNotYetServedError);
    // A claimed digest the registry does not serve is not waited for: the tag's is the answer.
    assert.equal((await ask(fakeDigest(0xbad)))?.digest, before);
    stub.push("app", "latest", pushed);
    assert.equal((await ask(pushed))?.digest, pushed);
  } finally {
    registry.close();
    await stub.close();
  }
});
