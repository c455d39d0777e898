/**
 * One tenant cannot hurt the others (issue 18), each finding against the whole service (fake
 * API server, stub registry, a hostile registry answered in-process): a registry answer no
 * retry can fix stays that workload's problem, a failed read of a pull secret loses no push,
 * path tokens stay out of the logs, a push time from the future freezes nothing, and a
 * hostile tag listing is refused for its cycle while the others are polled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type RegistryAnswer, type Service, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "./push_envelope.ts";

const REG = "127.0.0.1:5000";
const BAD = "bad.example.com";
const REJECTED = "registry answer no retry can fix: not written, retried with back-off";

const workload = (name: string, image: string, policy = "patch") =>
  deployment({ name, policy, containers: [{ name: "app", image }] });

const imageOf = (svc: Service, name: string, namespace = "default") =>
  imagesOf(svc.fake.get("apps/v1", "Deployment", namespace, name))[0];

const eventsOf = (svc: Service, reason: string) =>
  svc.fake.list("v1", "Event").filter((e) => (e as { reason: string }).reason === reason) as {
    type: string;
    message: string;
    involvedObject: { name: string };
  }[];

/** The bad registry's manifest requests for tag 1.0.1, counted, answered by `answer`. */
function badRegistry(answer: (url: URL) => Response) {
  let asked = 0;
  const route: RegistryAnswer = (url) => {
    if (url.hostname !== BAD) return undefined;
    if (url.pathname === "/v2/app/manifests/1.0.1") asked++;
    return answer(url);
  };
  return { route, asked: () => asked };
}

const challenge = (realm: string) =>
  new Response(null, {
    status: 401,
    headers: { "www-authenticate": `Bearer realm="${realm}",service="bad"` },
  });

/** A hostile registry's answers, and what each is: final (reason) or transient. */
const HOSTILE: { what: string; answer: (url: URL) => Response; reason?: string }[] = [
  {
    what: "a token endpoint answering 400 invalid_grant",
    answer: (url) =>
      url.pathname === "/token"
        ? Response.json({ error: "invalid_grant" }, { status: 400 })
        : challenge(`https://${BAD}/token`),
    reason: "client-error",
  },
  {
    what: "a realm on the metadata address",
    answer: () => challenge("https://169.254.169.254/token"),
    reason: "host-refused",
  },
  {
    what: "a manifest that is not JSON",
    answer: () =>
      new Response("<html>not json</html>", {
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      }),
    reason: "malformed",
  },
  {
    what: "a manifest over 4 MiB",
    answer: () => new Response("x".repeat(5 * 1024 * 1024)),
    reason: "too-large",
  },
  {
    what: "a 403 to anonymous and credentialed reads alike",
    answer: () => new Response(null, { status: 403 }),
    reason: "credentials-refused",
  },
  {
    what: "a registry answering 503 (transient)",
    answer: () => new Response(null, { status: 503 }),
  },
];

for (const { what, answer, reason } of HOSTILE) {
  const name = reason
    ? `final vs transient: ${what} is final for that workload only: 200 for the others, reported once, retried with back-off`
    : `final vs transient: ${what} answers the delivery 503, as the registry's retry may pass`;
  Deno.test(name, async () => {
    const bad = badRegistry(answer);
    let pushed = "";
    const svc = await startService({
      answer: bad.route,
      seed: (c, registry) => {
        registry.push("app", "1.0.0");
        pushed = registry.push("app", "1.0.1");
        c.fake.put(workload("good", `${REG}/app:1.0.0`));
        c.fake.put(workload("bad", `${BAD}/app:1.0.0`));
      },
    });
    try {
      await svc.argoos.cache.synced;
      const res = await svc.post(pushEnvelope(
        { host: REG, repository: "app", tag: "1.0.1", digest: pushed },
        { host: BAD, repository: "app", tag: "1.0.1" },
      ));
      assert.equal(imageOf(svc, "bad"), `app=${BAD}/app:1.0.0`, "nothing written for it");
      if (!reason) {
        assert.equal(res.status, 503, res.text);
        return;
      }
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(JSON.parse(res.text), {
        applied: 1,
        unchanged: 0,
        refused: 0,
        rejected: 1,
        ignored: 0,
      });
      assert.equal(imageOf(svc, "good"), `app=${REG}/app:1.0.1`);
      // Retried from the work queue with back-off (0.5 s, 1 s, …), told once for the series.
      await waitFor(() => bad.asked() >= 3, "retried from the work queue", 10_000);
      const told = svc.log.records().filter((r) => r.msg === REJECTED);
      assert.equal(told.length, 1, JSON.stringify(told));
      assert.equal(told[0].reason, reason);
      assert.equal(told[0].workload, "Deployment default/bad");
      const [event] = await waitFor(() => eventsOf(svc, "UpdateRejected"), "an Event");
      assert.equal(event.type, "Warning");
      assert.equal(event.involvedObject.name, "bad");
      assert.match(event.message, new RegExp(reason));
      // Counted once each reconcile ends: the third may still be ending when its answer is in.
      const counted = async () => {
        const metrics = (await svc.get("/metrics")).text;
        const line = metrics.split("\n").find((l) =>
          l.startsWith(`argoos_reconcile_rejections_total{reason="${reason}"}`)
        );
        return Number(line?.split(" ").at(-1) ?? 0);
      };
      await waitFor(async () => await counted() >= 3, "counted each time");
    } finally {
      await svc.stop();
    }
  });
}

Deno.test("final vs transient: a final answer met by the poll is told once per series, not once per cycle", async () => {
  const bad = badRegistry((url) =>
    url.pathname.endsWith("/tags/list")
      ? Response.json({ tags: ["1.0.0", "1.0.1"] })
      : new Response("not json", { headers: { "content-type": "application/json" } })
  );
  const svc = await startService({
    args: ["--poll-interval", "1h"],
    answer: bad.route,
    seed: (c) => c.fake.put(workload("bad", `${BAD}/app:1.0.0`)),
  });
  try {
    const poller = svc.argoos.poller!;
    await waitFor(() => bad.asked() >= 1, "the first cycle's reconcile");
    for (let cycle = 0; cycle < 2; cycle++) {
      await poller.cycle(Date.now() + (cycle + 1) * 7_200_000);
    }
    await waitFor(() => bad.asked() >= 4, "asked again, by cycles and retries");
    const records = svc.log.records();
    assert.equal(records.filter((r) => r.msg === REJECTED).length, 1);
    assert.ok(
      !records.some((r) => r.msg === "reconcile after poll failed, retried from the queue"),
    );
    assert.equal(imageOf(svc, "bad"), `app=${BAD}/app:1.0.0`);
  } finally {
    await svc.stop();
  }
});

Deno.test("pull secrets: a 503 reading one answers the delivery 503 and is not cached as no credentials", async () => {
  let pushed = "";
  const auths = { [REG]: { auth: btoa("alice:s3cret") } };
  const svc = await startService({
    seed: (c, registry) => {
      registry.restrict("private", "alice", "s3cret");
      registry.push("private", "1.0.0");
      pushed = registry.push("private", "1.0.1");
      c.fake.put({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "regcred", namespace: "default" },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": btoa(JSON.stringify({ auths })) },
      });
      c.fake.put(deployment({
        name: "web",
        policy: "patch",
        containers: [{ name: "app", image: `${REG}/private:1.0.0` }],
        podSpec: { imagePullSecrets: [{ name: "regcred" }] },
      }));
    },
  });
  try {
    await svc.argoos.cache.synced;
    svc.fake.fail({ method: "GET", path: "/secrets/regcred", status: 503 });
    const body = pushEnvelope({ host: REG, repository: "private", tag: "1.0.1", digest: pushed });
    const first = await svc.post(body);
    assert.equal(first.status, 503, `the push is not lost: ${first.text}`);
    assert.equal(imageOf(svc, "web"), `app=${REG}/private:1.0.0`);
    // The registry delivers again; the secret is read again, not taken from a cache.
    const again = await svc.post(body);
    assert.equal(again.status, 200, again.text);
    assert.equal(JSON.parse(again.text).applied, 1);
    assert.equal(imageOf(svc, "web"), `app=${REG}/private:1.0.1`);
  } finally {
    await svc.stop();
  }
});

Deno.test("secrets never in logs: no log line holds a path token, whatever the request", async () => {
  const token = "path-token-4f9c1e7a";
  const wrong = "wrong-token-8d2b6c0e";
  const svc = await startService({ args: ["--token", token] });
  const url = new URL(svc.argoos.url);
  try {
    await svc.argoos.cache.synced;
    const post = (path: string, body = "{}") =>
      fetch(`${svc.argoos.url}${path}`, { method: "POST", body }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });
    assert.equal(await post(`/event/dockerhub/${token}`), 400, "malformed, logged");
    assert.equal(await post(`/event/quay/${wrong}`), 401, "wrong token, logged");
    assert.equal(await post(`/event/gar/${token}/more`), 404);
    assert.equal(await post(`/event/gar%2F${token}`), 404);
    // An upload cut off: the guard logs it with the path.
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    await conn.write(new TextEncoder().encode(
      `POST /event/dockerhub/${token} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"pa`,
    ));
    conn.close();
    const cut = await waitFor(
      () => svc.log.records().find((r) => r.msg === "upload cut"),
      "the cut upload logged",
    );
    assert.equal(cut?.path, "/event/dockerhub/<redacted>");
    const all = svc.log.lines.join("\n");
    assert.ok(svc.log.lines.length > 5);
    for (const secret of [token, wrong]) {
      assert.ok(!all.includes(secret), `${secret} logged:\n${all}`);
    }
  } finally {
    await svc.stop();
  }
});

Deno.test("time from outside is clamped: a delivery stamped next year does not freeze `all`", async () => {
  const digests: Record<string, string> = {};
  const svc = await startService({
    seed: (c, registry) => {
      registry.push("app", "a");
      c.fake.put(workload("web", `${REG}/app:a`, "all"));
    },
  });
  try {
    await svc.argoos.cache.synced;
    const deliver = async (tag: string, timestamp: string) => {
      digests[tag] = svc.registry.push("app", tag);
      const res = await svc.post(
        pushEnvelope({ host: REG, repository: "app", tag, digest: digests[tag], timestamp }),
      );
      assert.equal(res.status, 200, res.text);
      return JSON.parse(res.text).applied;
    };
    const nextYear = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    assert.equal(await deliver("b", nextYear), 1);
    assert.match(imageOf(svc, "web"), /app:b@/);
    // Pushed later, stamped now: newer than b was received (at the latest, now).
    const bReceived = Date.now();
    await waitFor(() => Date.now() > bReceived, "the next millisecond");
    assert.equal(await deliver("c", new Date().toISOString()), 1, "a later push rolls out");
    assert.match(imageOf(svc, "web"), /app:c@/);
  } finally {
    await svc.stop();
  }
});

Deno.test("a tag listing over its bounds is refused for the cycle: one line, Events on its workloads, the others polled", async () => {
  const huge = new TextEncoder().encode(JSON.stringify({ tags: ["x".repeat(3_900_000)] }));
  let pages = 0;
  const svc = await startService({
    args: ["--poll-interval", "1h"],
    answer: (url) => {
      if (url.hostname !== BAD) return undefined;
      const page = Number(url.searchParams.get("page") ?? 0);
      pages++;
      return new Response(huge, {
        headers: { link: `</v2/evil/tags/list?page=${page + 1}>; rel="next"` },
      });
    },
    seed: (c, registry) => {
      registry.push("app", "1.0.0");
      registry.push("app", "1.0.1");
      c.fake.put(workload("good", `${REG}/app:1.0.0`));
      c.fake.put(workload("bad", `${BAD}/evil:1.0.0`));
      c.fake.put(workload("bad-too", `${BAD}/evil:1.0.0`));
    },
  });
  try {
    await waitFor(() => imageOf(svc, "good") === `app=${REG}/app:1.0.1`, "the others polled");
    await waitFor(
      () => eventsOf(svc, "ListingRefused").length === 2,
      "an Event on each workload using it",
    );
    const events = eventsOf(svc, "ListingRefused");
    assert.deepEqual(events.map((e) => e.involvedObject.name).sort(), ["bad", "bad-too"]);
    assert.match(events[0].message, /over 16777216 bytes/);
    assert.equal(pages, 5, "read page by page until the bound, not to the page limit");
    const lines = svc.log.records().filter((r) => r.msg === "tag listing refused this cycle");
    assert.equal(lines.length, 1);
    assert.equal(lines[0].repository, `${BAD}/evil`);
    assert.ok(
      !svc.log.records().some((r) => r.msg === "registry unavailable this cycle"),
      "not told as the host's failure too",
    );
  } finally {
    await svc.stop();
  }
});
