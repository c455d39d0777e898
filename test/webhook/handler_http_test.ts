/**
 * The webhook path end to end over real HTTP: the whole service started in-process against
 * the fake API server, fed the real registry notification bodies.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeRollout } from "../../lib/health/record.ts";
import { MAX_BODY_BYTES } from "../../lib/webhook/handler.ts";
import { findByKind } from "../fake_apiserver/resources.ts";
import { admissionPolicyDenied } from "../fake_apiserver/status.ts";
import { type Service, startService } from "../support/argoos_service.ts";
import { deployment, type FakeCluster, imagesOf, waitFor } from "../support/fake_cluster.ts";

const FIXTURES = new URL("../fixtures/bodies/", import.meta.url);
const PUSH_OCI = await Deno.readTextFile(new URL("manifest-push-oci.json", FIXTURES));
const RETAG = JSON.parse(
  await Deno.readTextFile(new URL("manifest-push-oci-retag-new-digest.json", FIXTURES)),
);
const REPUSHED_DIGEST: string = RETAG.events[0].target.digest;
const REG = "127.0.0.1:5000"; // request.host of the captures

let deliveries = 0;

/** The captured OCI manifest push, rewritten to another tag (and id, repository, digest). */
function push(
  tag: string,
  opts: { id?: string; repository?: string; digest?: string } = {},
): { id: string; body: string } {
  const body = JSON.parse(PUSH_OCI);
  const ev = body.events[0];
  ev.id = opts.id ?? `delivery-${++deliveries}`;
  ev.target.tag = tag;
  ev.target.repository = opts.repository ?? ev.target.repository;
  ev.target.digest = opts.digest ?? ev.target.digest;
  return { id: ev.id, body: JSON.stringify(body, null, 3) };
}

const image = (svc: FakeCluster, name: string, ns = "default") =>
  imagesOf(svc.fake.get("apps/v1", "Deployment", ns, name));

const patches = (svc: FakeCluster) => svc.fake.requests.filter((r) => r.method === "PATCH");

/** PATCHes that replace an image (not only Argoos's own annotations). */
const imagePatches = (svc: FakeCluster) =>
  patches(svc).filter((r) =>
    (r.body as { op: string; path: string }[]).some((o) =>
      o.op === "replace" && o.path.endsWith("/image")
    )
  );

/** The tags the registry serves for `myapp` (every host reaches the stub registry). */
function serveTags(svc: Service): void {
  for (const tag of ["1.2.2", "1.2.3", "1.2.4", "1.2.5", "2.0.0"]) {
    svc.registry.push("myapp", tag);
    svc.registry.push("library/myapp", tag);
  }
  svc.registry.push("myapp", "latest", REPUSHED_DIGEST);
}

/** Run `fn` against a synced service seeded by `seed`; always stops it. */
async function withService(
  seed: (cluster: FakeCluster) => void,
  fn: (svc: Service) => Promise<void>,
  env?: Record<string, string>,
): Promise<void> {
  const svc = await startService({ seed, env });
  try {
    serveTags(svc);
    await svc.argoos.cache.synced;
    await fn(svc);
  } finally {
    await svc.stop();
  }
}

const seedWeb = (policy = "patch", appImage = `${REG}/myapp:1.2.3`) => (c: FakeCluster) => {
  c.fake.put(deployment({
    name: "web",
    policy,
    containers: [
      { name: "app", image: appImage },
      { name: "sidecar", image: "envoyproxy/envoy:v1.30.0" },
    ],
  }));
};

Deno.test("webhook refuses unauthenticated, malformed and oversized deliveries", async () => {
  await withService(seedWeb(), async (svc) => {
    const good = push("1.2.4").body;
    const cases: [string, () => Promise<{ status: number; text: string }>, number, RegExp][] = [
      ["no token", () => svc.post(good, { "x-argoos-token": "" }), 401, /X-Argoos-Token/],
      ["wrong token", () => svc.post(good, { "x-argoos-token": "T" }), 401, /X-Argoos-Token/],
      ["longer token", () => svc.post(good, { "x-argoos-token": "tt" }), 401, /X-Argoos-Token/],
      ["not JSON", () => svc.post("{nope"), 400, /not JSON/],
      ["no events", () => svc.post('{"events":{}}'), 400, /"events" array/],
      ["event without id", () => svc.post(good.replace('"id"', '"xid"')), 400, /events\[0\]\.id/],
      ["over 1 MiB", () => svc.post(" ".repeat(MAX_BODY_BYTES + 1)), 413, /exceeds/],
      [
        "over 1 MiB, streamed without length",
        () =>
          svc.post(
            new ReadableStream({
              start(c) {
                c.enqueue(new Uint8Array(MAX_BODY_BYTES));
                c.enqueue(new Uint8Array(1));
                c.close();
              },
            }),
          ),
        413,
        /exceeds/,
      ],
    ];
    for (const [name, send, status, message] of cases) {
      const res = await send();
      assert.equal(res.status, status, name);
      assert.match(JSON.parse(res.text).error, message, name);
      assert.equal((await svc.get("/healtz")).status, 200, `still healthy after ${name}`);
    }
    assert.equal(patches(svc).length, 0);
    assert.deepEqual(image(svc, "web"), [
      `app=${REG}/myapp:1.2.3`,
      "sidecar=envoyproxy/envoy:v1.30.0",
    ]);
    // Exactly MAX_BODY_BYTES is accepted as far as size goes (then refused as not JSON).
    assert.equal((await svc.post(" ".repeat(MAX_BODY_BYTES))).status, 400);
  });
});

Deno.test("until the cache has listed, /readyz and /event answer 503; the redelivery applies", async () => {
  const svc = await startService({
    // The first lists fail, so the cache is not in sync while they are retried with backoff.
    seed: (c) => {
      seedWeb()(c);
      c.fake.fail({ method: "GET", path: "/apis/apps/v1/deployments", status: 500, times: 2 });
    },
  });
  try {
    serveTags(svc);
    const before = await svc.get("/readyz");
    assert.equal(before.status, 503);
    assert.match(before.text, /not in sync/);
    assert.equal((await svc.get("/healtz")).status, 200);
    // An empty cache would say "nothing to roll out": the delivery is deferred, not recorded.
    const delivery = push("1.2.4");
    const early = await svc.post(delivery.body);
    assert.equal(early.status, 503, early.text);
    assert.match(JSON.parse(early.text).error, /not in sync/);
    await svc.argoos.cache.synced;
    assert.equal((await svc.get("/readyz")).status, 200);
    const again = await svc.post(delivery.body);
    assert.equal(again.status, 200, again.text);
    assert.equal(JSON.parse(again.text).applied, 1);
    assert.equal(image(svc, "web")[0], `app=${REG}/myapp:1.2.4`);
  } finally {
    await svc.stop();
  }
});

Deno.test("a push no workload moves is answered 200 as unchanged", async () => {
  await withService(seedWeb("patch"), async (svc) => {
    const res = await svc.post(push("2.0.0").body);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), {
      applied: 0,
      unchanged: 1,
      refused: 0,
      rejected: 0,
      ignored: 0,
    });
    assert.equal(patches(svc).length, 0);
  });
});

Deno.test("a push rolls out the matching labelled Deployment, and only it", async () => {
  const seed = (c: FakeCluster) => {
    seedWeb()(c);
    c.fake.put(
      deployment({
        name: "unlabelled",
        containers: [{ name: "app", image: `${REG}/myapp:1.2.3` }],
      }),
    );
    c.fake.put(deployment({
      name: "bad-label",
      policy: "Patch",
      containers: [{ name: "app", image: `${REG}/myapp:1.2.3` }],
    }));
  };
  await withService(seed, async (svc) => {
    assert.equal(svc.argoos.cache.size, 2, "the unlabelled Deployment is not even cached");
    const delivery = push("1.2.4");
    const res = await svc.post(delivery.body);
    assert.equal(res.status, 200, res.text);
    // The bad-label workload is reconciled too, and left alone.
    assert.deepEqual(JSON.parse(res.text), {
      applied: 1,
      unchanged: 1,
      refused: 0,
      rejected: 0,
      ignored: 0,
    });

    assert.deepEqual(image(svc, "web"), [
      `app=${REG}/myapp:1.2.4`,
      "sidecar=envoyproxy/envoy:v1.30.0",
    ]);
    assert.deepEqual(image(svc, "unlabelled"), [`app=${REG}/myapp:1.2.3`]);
    assert.deepEqual(image(svc, "bad-label"), [`app=${REG}/myapp:1.2.3`]);

    const [patch, ...more] = patches(svc);
    assert.equal(more.length, 0, "exactly one PATCH");
    assert.equal(patch.path, "/apis/apps/v1/namespaces/default/deployments/web");
    assert.equal(patch.contentType, "application/json-patch+json");
    const pushedAt = Date.parse(JSON.parse(delivery.body).events[0].timestamp);
    const digest = svc.registry.digestOf("myapp", "1.2.4");
    const state = { app: { image: `${REG}/myapp:1.2.4`, digest, pushedAt, written: true } };
    assert.deepEqual(patch.body, [
      { op: "test", path: "/metadata/labels/argoos.io~1policy", value: "patch" },
      {
        op: "test",
        path: "/metadata/resourceVersion",
        value: svc.argoos.cache.get("Deployment/default/web")
          ? (patch.body as { value: string }[])[1].value
          : "",
      },
      {
        op: "add",
        path: "/metadata/annotations",
        value: {
          "argoos.io/state": JSON.stringify(state),
          // The rollout's own record, in the same patch (checked below).
          "argoos.io/rollout": (patch.body as { value: Record<string, string> }[])[2]
            .value["argoos.io/rollout"],
        },
      },
      { op: "test", path: "/spec/template/spec/containers/0/name", value: "app" },
      { op: "test", path: "/spec/template/spec/containers/0/image", value: `${REG}/myapp:1.2.3` },
      {
        op: "replace",
        path: "/spec/template/spec/containers/0/image",
        value: `${REG}/myapp:1.2.4`,
      },
    ]);

    const record = decodeRollout(
      (patch.body as { value: Record<string, string> }[])[2].value["argoos.io/rollout"],
    ).value!;
    assert.deepEqual(record.containers, [{
      section: "containers",
      index: 0,
      name: "app",
      from: `${REG}/myapp:1.2.3`,
      to: `${REG}/myapp:1.2.4`,
      digest,
    }]);
    assert.deepEqual(record.push, { repository: `${REG}/myapp`, tag: "1.2.4", digest, pushedAt });
    assert.deepEqual(record.restore, { "argoos.io/state": null });
    assert.equal(record.deadline, undefined, "no total budget unless argoos.io/health-timeout");

    const records = svc.log.records();
    const decisions = records.filter((r) => r.msg === "decision");
    const decided = (workload: string) => decisions.find((d) => d.workload === workload);
    const { time: _t, level: _l, msg: _m, component: _c, ...web } = decided(
      "Deployment default/web",
    )!;
    assert.deepEqual(web, {
      workload: "Deployment default/web",
      container: "app",
      from: `${REG}/myapp:1.2.3`,
      to: `${REG}/myapp:1.2.4`,
      policy: "patch",
      reason: "update",
      source: "webhook",
    });
    assert.deepEqual(
      [
        decided("Deployment default/bad-label")?.reason,
        decided("Deployment default/bad-label")?.to,
      ],
      ["invalid-policy", null],
    );
    assert.ok(
      records.some((r) => r.msg === "invalid policy" && r.value === "Patch"),
      "the invalid label is reported",
    );
    const events = await waitFor(
      () =>
        svc.fake.list("v1", "Event").filter((e) =>
          (e as { reason: string }).reason === "ImageUpdated"
        ),
      "an ImageUpdated Event",
    );
    assert.equal(events.length, 1);
    assert.equal((await svc.get("/healtz")).status, 200);
  });
});

Deno.test("a redelivered event (same id) patches nothing more", async () => {
  await withService(seedWeb(), async (svc) => {
    const delivery = push("1.2.4");
    assert.equal((await svc.post(delivery.body)).status, 200);
    // Without a ledger: the reconcile of the redelivery finds the workload already there.
    const again = await svc.post(delivery.body);
    assert.equal(again.status, 200);
    assert.deepEqual(JSON.parse(again.text), {
      applied: 0,
      unchanged: 1,
      refused: 0,
      rejected: 0,
      ignored: 0,
    });
    assert.equal(patches(svc).length, 1);
  });
});

Deno.test("pushes out of order: 1.2.5 then 1.2.4 leaves 1.2.5", async () => {
  await withService(seedWeb(), async (svc) => {
    assert.equal((await svc.post(push("1.2.5").body)).status, 200);
    assert.equal((await svc.post(push("1.2.4").body)).status, 200);
    assert.deepEqual(image(svc, "web")[0], `app=${REG}/myapp:1.2.5`);
    assert.equal(patches(svc).length, 1);
    assert.ok(svc.log.records().some((r) => r.msg === "decision" && r.reason === "not-greater"));
  });
});

Deno.test("all: the same tag re-pushed with new content pins the new digest", async () => {
  await withService(seedWeb("all", `${REG}/myapp:latest`), async (svc) => {
    const res = await svc.post(push("latest", { digest: REPUSHED_DIGEST }).body);
    assert.equal(res.status, 200);
    assert.deepEqual(image(svc, "web")[0], `app=${REG}/myapp:latest@${REPUSHED_DIGEST}`);
    // The same digest again is the image already running: no image changes (its later push
    // time is recorded, so an older push arriving after it is known as older).
    assert.equal((await svc.post(push("latest", { digest: REPUSHED_DIGEST }).body)).status, 200);
    assert.equal(imagePatches(svc).length, 1);
    assert.deepEqual(image(svc, "web")[0], `app=${REG}/myapp:latest@${REPUSHED_DIGEST}`);
  });
});

Deno.test("X-Argoos-Registry-Name and REGISTRY_ALIASES name the registry", async () => {
  const seed = (c: FakeCluster) => {
    const on = (name: string, img: string) =>
      c.fake.put(deployment({ name, policy: "patch", containers: [{ name: "app", image: img }] }));
    on("aliased", "registry.example.com/myapp:1.2.3");
    on("raw-host", `${REG}/myapp:1.2.3`);
    on("hub", "myapp:1.2.3");
    on("public", "public.example.com/myapp:1.2.3");
  };
  await withService(seed, async (svc) => {
    const current = () =>
      ["aliased", "raw-host", "hub", "public"].map((n) => image(svc, n)[0].split(":").at(-1));
    assert.equal((await svc.post(push("1.2.4").body)).status, 200);
    assert.deepEqual(current(), ["1.2.4", "1.2.3", "1.2.3", "1.2.3"], "alias of request.host");
    const header = (name: string) => ({ "x-argoos-registry-name": name });
    assert.equal((await svc.post(push("1.2.4").body, header("public.example.com"))).status, 200);
    assert.deepEqual(current(), ["1.2.4", "1.2.3", "1.2.3", "1.2.4"], "header wins");
    assert.equal((await svc.post(push("1.2.4").body, header("docker.io"))).status, 200);
    assert.deepEqual(current(), ["1.2.4", "1.2.3", "1.2.4", "1.2.4"], "docker.io/library");
  }, { REGISTRY_ALIASES: `${REG}=registry.example.com` });
});

Deno.test("a 5xx from the API server is answered 503, and the redelivery applies", async () => {
  await withService(seedWeb(), async (svc) => {
    svc.fake.fail({ method: "PATCH", status: 500 });
    const delivery = push("1.2.4");
    const first = await svc.post(delivery.body);
    assert.equal(first.status, 503);
    assert.match(JSON.parse(first.text).error, /not finished yet/);
    assert.deepEqual(image(svc, "web")[0], `app=${REG}/myapp:1.2.3`);
    const retry = await svc.post(delivery.body);
    assert.equal(retry.status, 200);
    // Applied by the redelivery, or already by the queue's own retry: either way, once.
    assert.equal(JSON.parse(retry.text).refused, 0);
    assert.deepEqual(image(svc, "web")[0], `app=${REG}/myapp:1.2.4`);
    assert.equal(imagePatches(svc).length, 2);
  });
});

Deno.test("a 409 Conflict on PATCH is re-read and applied", async () => {
  await withService(seedWeb(), async (svc) => {
    svc.fake.fail({ method: "PATCH", status: 409, reason: "Conflict" });
    const res = await svc.post(push("1.2.4").body);
    assert.equal(res.status, 200);
    assert.deepEqual(image(svc, "web")[0], `app=${REG}/myapp:1.2.4`);
    assert.equal(patches(svc).length, 2);
    assert.ok(
      svc.fake.requests.some((r) =>
        r.method === "GET" && r.path === "/apis/apps/v1/namespaces/default/deployments/web"
      ),
      "the workload was read again",
    );
  });
});

Deno.test("a 422 from an admission webhook is answered 200, reported, and retried with back-off", async () => {
  await withService(seedWeb(), async (svc) => {
    const message = 'admission webhook "images.example.com" denied the request: unsigned image';
    svc.fake.fail({ method: "PATCH", status: 422, reason: "Invalid", message, times: 2 });
    const res = await svc.post(push("1.2.4").body);
    assert.equal(res.status, 200, "the registry's queue is not held back");
    assert.deepEqual(JSON.parse(res.text), {
      applied: 0,
      unchanged: 0,
      refused: 1,
      rejected: 0,
      ignored: 0,
    });
    const refusal = svc.log.records().find((r) => r.msg === "rollout refused by the API server");
    assert.equal(refusal?.status, 422);
    assert.match(String(refusal?.error), /unsigned image/);
    const [event] = await waitFor(
      () =>
        svc.fake.list("v1", "Event").filter((e) =>
          (e as { reason: string }).reason === "UpdateRejected"
        ),
      "an UpdateRejected Event",
    ) as { type: string; message: string; involvedObject: { name: string } }[];
    assert.equal(event.type, "Warning");
    assert.equal(event.involvedObject.name, "web");
    assert.match(event.message, /unsigned image/);
    // The work queue keeps trying with back-off; once admission allows it, it is applied.
    await waitFor(() => image(svc, "web")[0] === `app=${REG}/myapp:1.2.4`, "retried", 10_000);
    // Three writes of the Deployment (the repeated UpdateRejected Event is patched, not counted).
    assert.equal(patches(svc).filter((r) => r.path.includes("/deployments/")).length, 3);
    assert.match(svc.argoos.metrics.registry.render(), /outcome="refused"/);
  });
});

Deno.test("malformed deliveries are counted by reason in argoos_deliveries_refused_total", async () => {
  await withService(seedWeb(), async (svc) => {
    assert.equal((await svc.post(push("-bad").body)).status, 400);
    assert.equal((await svc.post(push("1.2.4", { digest: "sha256:xyz" }).body)).status, 400);
    assert.equal((await svc.post("{nope")).status, 400);
    const text = svc.argoos.metrics.registry.render();
    for (const reason of ["tag", "digest", "not-json"]) {
      assert.match(text, new RegExp(`argoos_deliveries_refused_total\\{reason="${reason}"\\} 1`));
    }
  });
});

Deno.test("a ValidatingAdmissionPolicy refusal (403 with a cause) is answered 200, reported, and holds back no later push", async () => {
  const seed = (c: FakeCluster) => {
    seedWeb()(c);
    c.fake.put(deployment({
      name: "api",
      policy: "patch",
      containers: [{ name: "app", image: `${REG}/myapp:1.2.3` }],
    }));
  };
  await withService(seed, async (svc) => {
    const deployments = findByKind("apps/v1", "Deployment")!;
    // The API server's own shape: 403 Forbidden, the resource in details, one cause.
    const denial = admissionPolicyDenied(
      deployments,
      "web",
      "require-signed",
      "require-signed-binding",
      "image is not signed",
      "Forbidden",
    );
    svc.fake.fail({ method: "PATCH", path: "/deployments/web", error: denial, times: 1000 });
    const first = await svc.post(push("1.2.4").body);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(JSON.parse(first.text), {
      applied: 1,
      unchanged: 0,
      refused: 1,
      rejected: 0,
      ignored: 0,
    });
    const second = await svc.post(push("1.2.5").body);
    assert.equal(second.status, 200, "a standing refusal does not hold back the next push");
    assert.deepEqual(JSON.parse(second.text), {
      applied: 1,
      unchanged: 0,
      refused: 1,
      rejected: 0,
      ignored: 0,
    });
    assert.equal(image(svc, "api")[0], `app=${REG}/myapp:1.2.5`);
    assert.equal(image(svc, "web")[0], `app=${REG}/myapp:1.2.3`);
    const refusal = svc.log.records().find((r) => r.msg === "rollout refused by the API server");
    assert.equal(refusal?.status, 403);
    const [event] = await waitFor(
      () =>
        svc.fake.list("v1", "Event").filter((e) =>
          (e as { reason: string }).reason === "UpdateRejected"
        ),
      "an UpdateRejected Event",
    ) as { message: string; involvedObject: { name: string } }[];
    assert.equal(event.involvedObject.name, "web");
    assert.match(event.message, /ValidatingAdmissionPolicy 'require-signed'/);
    assert.match(
      svc.argoos.metrics.registry.render(),
      /argoos_rollouts_total\{[^}]*outcome="refused"[^}]*\} [1-9]/,
    );
  });
});

Deno.test("while the cache cannot re-establish its watch, /readyz and /event answer 503", async () => {
  await withService(seedWeb(), async (svc) => {
    // Keep the Deployment watch down: the cache may miss changes (a hand rollback), so
    // deciding from it could act on a stale image; the registry is asked to come back.
    svc.fake.fail({ method: "GET", path: "/apis/apps/v1/deployments", status: 500, times: 1000 });
    svc.fake.closeWatches();
    await waitFor(async () => (await svc.get("/readyz")).status === 503, "not ready");
    const res = await svc.post(push("1.2.4").body);
    assert.equal(res.status, 503, res.text);
    assert.match(JSON.parse(res.text).error, /watch/);
    assert.equal(patches(svc).length, 0);
    assert.equal((await svc.get("/healthz")).status, 200, "alive, only not ready");
  });
});
