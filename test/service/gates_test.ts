/**
 * Gates in the running service: a held update is recorded in `argoos.io/pending`, told once,
 * and written when its gate opens without a new push (update window, minimum age in webhook
 * and poll mode), approved or rejected by a person, or never written in observe mode.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runApproval } from "../../cli/approve.ts";
import { readInvocation, UsageError } from "../../cli/config.ts";
import { readPending } from "../../lib/gates/pending.ts";
import { decodeRejected } from "../../lib/health/record.ts";
import { type Service, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "./push_envelope.ts";

const HOST = "127.0.0.1:5000";
const image = (tag: string) => `${HOST}/myapp:${tag}`;

const web = (annotations: Record<string, string> = {}) =>
  deployment({
    name: "web",
    namespace: "team",
    policy: "patch",
    annotations,
    containers: [{ name: "app", image: image("1.2.3") }],
  });

const annotationsOf = (
  svc: Service,
) => ((svc.fake.get("apps/v1", "Deployment", "team", "web")!.metadata as {
  annotations?: Record<string, string>;
}).annotations ?? {});
const imageOf = (svc: Service) => imagesOf(svc.fake.get("apps/v1", "Deployment", "team", "web"));
const events = (svc: Service, reason: string) =>
  svc.fake.list("v1", "Event").filter((e) => e.reason === reason).map((e) => e.message as string);
/** The service with `web` on 1.2.3 (and `tags` listed), started with `args`. */
const serve = (
  args: string[],
  opts: { annotations?: Record<string, string>; now?: () => number; tags?: string[] } = {},
) =>
  startService({
    args,
    now: opts.now,
    seed: ({ fake }, registry) => {
      for (const tag of opts.tags ?? ["1.2.3"]) registry.push("myapp", tag);
      fake.put(web(opts.annotations));
    },
  });

/** Push `tag` to the stub registry and tell the service, with the registry's digest. */
async function push(svc: Service, tag: string, timestamp?: string): Promise<string> {
  const digest = svc.registry.push("myapp", tag);
  const { status } = await svc.post(
    pushEnvelope({ host: HOST, repository: "myapp", tag, digest, timestamp }),
  );
  assert.equal(status, 200);
  return digest;
}

Deno.test("update window: a push outside it is written when it opens, without a new push", async () => {
  // The service's clock reads 2026-12-12T01:59:58Z now: the Saturday 02:00 UTC window opens in 2 s.
  const offset = Date.parse("2026-12-12T01:59:58Z") - Date.now();
  const svc = await serve(["--update-window", "0 2 * * 6 4h"], { now: () => Date.now() + offset });
  try {
    await svc.argoos.cache.synced;
    const digest = await push(svc, "1.2.4");
    const pending = await waitFor(() => readPending(annotationsOf(svc)).app, "pending record");
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.3")}`], "not written outside the window");
    assert.equal(pending.gate, "window");
    assert.equal(pending.digest, digest);
    assert.equal(pending.opensAt, Date.parse("2026-12-12T02:00:00Z"));
    await waitFor(() => events(svc, "UpdatePending").length, "UpdatePending");
    assert.deepEqual(events(svc, "UpdatePending"), [
      `app: ${image("1.2.3")} → ${
        image("1.2.4")
      } (${digest}) waits: update window opens 2026-12-12T02:00:00Z`,
    ]);
    assert.match(svc.argoos.metrics.registry.render(), /argoos_updates_pending\{gate="window"\} 1/);
    await waitFor(
      () => imageOf(svc)[0] === `app=${image("1.2.4")}`,
      "written when the window opened",
    );
    assert.equal(annotationsOf(svc)["argoos.io/pending"], undefined, "pending record removed");
    assert.match(svc.argoos.metrics.registry.render(), /argoos_updates_pending\{gate="window"\} 0/);
  } finally {
    await svc.stop();
  }
});

Deno.test("min age: a young push waits, an old one does not (webhook)", async () => {
  const svc = await serve(["--min-age", "1s"]);
  try {
    await svc.argoos.cache.synced;
    // Pushed an hour ago by the notification's time: old enough at once.
    await push(svc, "1.2.4", new Date(Date.now() - 3_600_000).toISOString());
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.4")}`]);
    const young = await push(svc, "1.2.5");
    const pending = await waitFor(() => readPending(annotationsOf(svc)).app, "pending record");
    assert.equal(pending.gate, "min-age");
    assert.equal(pending.digest, young);
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.4")}`], "not written while young");
    await waitFor(() => imageOf(svc)[0] === `app=${image("1.2.5")}`, "written once old enough");
  } finally {
    await svc.stop();
  }
});

Deno.test("min age: a listed tag waits from when Argoos first saw it (poll)", async () => {
  const svc = await serve(["--poll-interval", "1h"], {
    annotations: { "argoos.io/min-age": "1s" },
    tags: ["1.2.3", "1.2.4"],
  });
  try {
    const pending = await waitFor(() => readPending(annotationsOf(svc)).app, "pending record");
    assert.equal(pending.gate, "min-age");
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.3")}`]);
    await waitFor(() => imageOf(svc)[0] === `app=${image("1.2.4")}`, "written once old enough");
  } finally {
    await svc.stop();
  }
});

Deno.test("approval: pending, approved by annotation and by CLI, replaced, rejected", async () => {
  const svc = await serve([], { annotations: { "argoos.io/approval": "required" } });
  const lines: string[] = [];
  const cli = async (...args: string[]) =>
    runApproval(await readInvocation(args, () => undefined), {
      client: svc.client,
      print: (l) => lines.push(l),
    });
  const waitPending = (digest: string) =>
    waitFor(() => readPending(annotationsOf(svc)).app?.digest === digest, `pending ${digest}`);
  const patch = (annotations: Record<string, string>) =>
    svc.client.patch(
      svc.argoos.cache.get("Deployment/team/web")!.kind.type,
      "team",
      "web",
      { metadata: { annotations } },
      "merge",
    );
  try {
    await svc.argoos.cache.synced;
    // Approved with the CLI: the pending digest is written as the approval, then rolled out.
    const first = await push(svc, "1.2.4");
    await waitPending(first);
    assert.equal(readPending(annotationsOf(svc)).app.gate, "approval");
    await waitFor(() => events(svc, "ApprovalRequired").length, "ApprovalRequired");
    assert.match(events(svc, "ApprovalRequired")[0], /argoos approve deployment\/web -n team/);
    assert.match(
      events(svc, "ApprovalRequired")[0],
      new RegExp(`^app: .*1\\.2\\.3 → .*1\\.2\\.4 \\(${first}\\) waits for approval`),
    );
    assert.deepEqual(events(svc, "UpdatePending"), [], "one Event (one notification) per approval");
    assert.equal(await cli("approve", "deployment/web", "-n", "team"), 0);
    assert.deepEqual(lines, [
      `approved ${image("1.2.4")} (${first}) for app of deployment/web in team`,
    ]);
    await waitFor(() => imageOf(svc)[0] === `app=${image("1.2.4")}`, "approved update written");
    const after = annotationsOf(svc);
    assert.equal(after["argoos.io/approve"], undefined, "the approval is consumed");
    assert.equal(after["argoos.io/pending"], undefined);

    // An approval names a digest: approving a stale one writes nothing; a newer push replaces it.
    const second = await push(svc, "1.2.5");
    await waitPending(second);
    const third = await push(svc, "1.2.6");
    await waitPending(third);
    // The rollout of 1.2.4 is still followed (a look is due later): wait for the decision.
    const decisions = () => svc.log.records().filter((r) => r.msg === "decision").length;
    const before = decisions();
    await patch({ "argoos.io/approve": second });
    await waitFor(() => decisions() > before, "the stale approval reconciled");
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.4")}`], "a stale approval approves nothing");
    // Approved with kubectl annotate: the right digest.
    await patch({ "argoos.io/approve": third });
    await waitFor(() => imageOf(svc)[0] === `app=${image("1.2.6")}`, "approved by annotation");

    // Rejected: recorded as rejected, never written, no longer pending.
    const fourth = await push(svc, "1.2.7");
    await waitPending(fourth);
    assert.equal(await cli("reject", "deploy/web", "--namespace", "team"), 0);
    await waitFor(() => annotationsOf(svc)["argoos.io/pending"] === undefined, "pending dropped");
    const rejected = decodeRejected(annotationsOf(svc)["argoos.io/rejected"]).value;
    assert.deepEqual(rejected.map((r) => [r.digest, r.tag, r.reason]), [[
      fourth,
      "1.2.7",
      "rejected",
    ]]);
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.6")}`]);
    assert.equal(await cli("approve", "deployment/web", "-n", "team"), 1, "nothing waits");
    await assert.rejects(cli("approve", "pod/web"), UsageError, "kubectl's kind/name, as hold");
  } finally {
    await svc.stop();
  }
});

Deno.test("observe mode: decides, records pending, tells once, writes no image", async () => {
  const svc = await serve(["--observe"]);
  try {
    await svc.argoos.cache.synced;
    const digest = await push(svc, "1.2.4");
    // Told of the same digest again, later: one Event and one record all the same.
    await svc.post(pushEnvelope({ host: HOST, repository: "myapp", tag: "1.2.4", digest }));
    const pending = await waitFor(() => readPending(annotationsOf(svc)).app, "pending record");
    assert.equal(pending.gate, "observe");
    await waitFor(() => events(svc, "UpdateAvailable").length, "UpdateAvailable");
    assert.deepEqual(events(svc, "UpdateAvailable"), [
      `app: ${image("1.2.3")} → ${image("1.2.4")} (${digest}): observe mode, not written`,
    ]);
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.3")}`]);
    const patches = svc.fake.requests.filter((r) =>
      r.method === "PATCH" && r.path.includes("deployments")
    );
    assert.equal(patches.length, 1, "one write: the pending record");
  } finally {
    await svc.stop();
  }
});

Deno.test("update window: a rollout started inside it is followed and reverted after it closes", async () => {
  // The service's clock: inside the Saturday 02:00 UTC window of one minute, until moved on.
  let clock = Date.parse("2026-12-12T02:00:30Z");
  const started = Date.now();
  const svc = await startService({
    args: ["--update-window", "0 2 * * 6 1m", "--health-recheck", "50ms"],
    now: () => clock + Date.now() - started,
    seed: ({ fake }, registry) => {
      const digest = registry.push("myapp", "1.2.3");
      const sim = fake.simulateRollouts({ images: { [image("1.2.4")]: "crash-loop" } });
      sim.image(image("1.2.3"), { behaviour: "succeed", digest });
      fake.put(web());
    },
  });
  try {
    await svc.argoos.cache.synced;
    await push(svc, "1.2.4");
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.4")}`], "written inside the window");
    clock = Date.parse("2026-12-12T02:05:00Z"); // the window has closed
    await waitFor(() => events(svc, "Reverted").length, "reverted after the window closed");
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.3")}`]);
    // A new write is gated again.
    await push(svc, "1.2.5");
    const pending = await waitFor(() => readPending(annotationsOf(svc)).app, "pending record");
    assert.equal(pending.gate, "window");
    assert.deepEqual(imageOf(svc), [`app=${image("1.2.3")}`]);
  } finally {
    await svc.stop();
  }
});

Deno.test("all + poll + min age: a newer listed tag replaces the pending one; later tags still follow", async () => {
  let skew = 0;
  const svc = await startService({
    args: ["--poll-interval", "1h"],
    now: () => Date.now() + skew,
    seed: ({ fake }, registry) => {
      for (const tag of ["1.2.3", "1.2.4"]) registry.push("myapp", tag);
      fake.put(deployment({
        name: "web",
        namespace: "team",
        policy: "all",
        annotations: { "argoos.io/min-age": "1h" },
        containers: [{ name: "app", image: image("1.2.3") }],
      }));
    },
  });
  const pendingImage = () => readPending(annotationsOf(svc)).app?.image;
  /** A poll cycle (a day after the last: whatever its interval says) and its reconciles. */
  let cycles = Date.now();
  const poll = async () => {
    await svc.argoos.poller!.cycle(cycles += 86_400_000);
    await svc.argoos.queue.add("Deployment/team/web");
  };
  try {
    await waitFor(() => pendingImage()?.startsWith(image("1.2.4")), "1.2.4 pending");
    const newer = svc.registry.push("myapp", "1.2.5");
    await poll();
    await waitFor(() => pendingImage()?.startsWith(image("1.2.5")), "1.2.5 replaces 1.2.4");
    assert.equal(readPending(annotationsOf(svc)).app.pushedAt, undefined, "no push time made up");
    skew += 2 * 3_600_000; // old enough
    await poll();
    await waitFor(() => imageOf(svc)[0] === `app=${image("1.2.5")}@${newer}`, "1.2.5 written");
    const later = svc.registry.push("myapp", "1.2.6");
    await poll();
    await waitFor(() => pendingImage()?.startsWith(image("1.2.6")), "1.2.6 pending");
    skew += 2 * 3_600_000;
    await poll();
    await waitFor(() => imageOf(svc)[0] === `app=${image("1.2.6")}@${later}`, "1.2.6 written");
  } finally {
    await svc.stop();
  }
});
