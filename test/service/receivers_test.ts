/**
 * Every receiver route through the whole service over HTTP: each vendor's documented payload
 * rolls out the workload that names its image (the stub registry serving the tag), a wrong
 * token or signature is 401, a body not of the vendor's shape 400, GitHub's ping 200; the
 * token never reaches the log, and `/metrics` counts per route and outcome.
 *
 * @module
 */

import assert from "node:assert/strict";
import { githubSignature } from "../../lib/webhook/auth.ts";
import { matchRoute } from "../../lib/webhook/sources/routes.ts";
import { startService } from "../support/argoos_service.ts";
import { deployment, imagesOf } from "../support/fake_cluster.ts";
import { context, fixtureText } from "../webhook/sources/fixture.ts";

const TOKEN = "s3cret-4b1d-route-token";

interface RouteCase {
  source: string;
  /** Path with the right token where the route takes it in the path. */
  path: string;
  fixture: string;
  /** Headers that carry the right proof for `body` (GitHub signs it). */
  headers: (body: string) => Promise<Record<string, string>>;
  /** The same delivery with a wrong proof. */
  wrong: (body: string) => Promise<{ path: string; headers: Record<string, string> }>;
}

const header = (name: string) => (value: string) => ({ [name]: value });
const tokenHeader = header("x-argoos-token");
const github = async (body: string, secret = TOKEN) => ({
  "x-github-event": "package",
  "x-hub-signature-256": await githubSignature(secret, body),
});

const CASES: RouteCase[] = [
  ...(["dockerhub", "quay", "gar"] as const).map((source) => ({
    source,
    path: `/event/${source}/${TOKEN}`,
    fixture:
      { dockerhub: "dockerhub/push.json", quay: "quay/repo_push.json", gar: "gar/insert_tag.json" }[
        source
      ],
    headers: () => Promise.resolve({}),
    wrong: () => Promise.resolve({ path: `/event/${source}/wrong-${TOKEN}x`, headers: {} }),
  })),
  ...(
    [
      ["distribution", "/event", "bodies/manifest-push-oci.json"],
      ["acr", "/event/acr", "acr/push.json"],
      ["ecr", "/event/ecr", "ecr/image_push.json"],
      ["artifactory", "/event/artifactory", "artifactory/pushed.json"],
    ] as const
  ).map(([source, path, fixture]) => ({
    source,
    path,
    fixture,
    headers: () => Promise.resolve(tokenHeader(TOKEN)),
    wrong: () => Promise.resolve({ path, headers: tokenHeader(`${TOKEN}x`) }),
  })),
  {
    source: "harbor",
    path: "/event/harbor",
    fixture: "harbor/push_artifact_tag.json",
    headers: () => Promise.resolve({ authorization: `Bearer ${TOKEN}` }),
    wrong: () =>
      Promise.resolve({ path: "/event/harbor", headers: { authorization: "Bearer no" } }),
  },
  {
    source: "github",
    path: "/event/github",
    fixture: "github/package_published.json",
    headers: (body) => github(body),
    wrong: async (body) => ({ path: "/event/github", headers: await github(body, "not-it") }),
  },
];

/** The push a fixture announces, as its route's receiver reads it (the parser tests pin it). */
function announced(c: RouteCase, body: string, headers: Record<string, string>) {
  const parsed = matchRoute(c.path)!.route.parse(JSON.parse(body), context(headers));
  assert.ok("pushes" in parsed && parsed.pushes.length === 1, `${c.source}: one push`);
  return parsed.pushes[0];
}

Deno.test("every receiver route: documented payload rolls out, wrong proof 401, wrong shape 400, ping 200", async (t) => {
  const svc = await startService({ args: ["--token", TOKEN] });
  const send = async (path: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${svc.argoos.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return { status: res.status, text: await res.text() };
  };
  try {
    // One workload per route, at an older tag of the image its payload names, under `all`.
    const pushes = new Map<string, ReturnType<typeof announced>>();
    for (const c of CASES) {
      const body = fixtureText(c.fixture);
      const push = announced(c, body, await c.headers(body));
      pushes.set(c.source, push);
      const slash = push.repository.indexOf("/");
      svc.registry.push(push.repository.slice(slash + 1), push.tag, push.digest);
      svc.fake.put(deployment({
        name: c.source,
        policy: "all",
        containers: [{ name: "app", image: `${push.repository}:0.0.1` }],
      }));
    }
    await svc.argoos.cache.synced;
    const imageOf = (name: string) =>
      imagesOf(svc.fake.get("apps/v1", "Deployment", "default", name))[0].replace(/^app=/, "");

    for (const c of CASES) {
      await t.step(c.source, async () => {
        const body = fixtureText(c.fixture);
        const push = pushes.get(c.source)!;

        const wrong = await c.wrong(body);
        const unauthorized = await send(wrong.path, body, wrong.headers);
        assert.equal(unauthorized.status, 401, unauthorized.text);
        assert.doesNotMatch(JSON.parse(unauthorized.text).error, /\n/);
        assert.equal(imageOf(c.source), `${push.repository}:0.0.1`);

        const shapeless = '{"unexpected":true}';
        const malformed = await send(c.path, shapeless, await c.headers(shapeless));
        assert.equal(malformed.status, 400, malformed.text);
        assert.ok(JSON.parse(malformed.text).error, "a reason");
        assert.doesNotMatch(JSON.parse(malformed.text).error, /\n/);

        const ok = await send(c.path, body, await c.headers(body));
        assert.equal(ok.status, 200, ok.text);
        assert.equal(JSON.parse(ok.text).applied, 1, ok.text);
        const written = imageOf(c.source);
        assert.ok(
          written === `${push.repository}:${push.tag}` ||
            written.startsWith(`${push.repository}:${push.tag}@sha256:`),
          `${c.source}: ${written}`,
        );
      });
    }

    await t.step("github ping", async () => {
      const body = fixtureText("github/ping.json");
      const res = await send("/event/github", body, {
        ...await github(body),
        "x-github-event": "ping",
      });
      assert.equal(res.status, 200, res.text);
    });

    await t.step("the token never appears in the log; routes are logged redacted", () => {
      const all = svc.log.lines.join("\n");
      assert.doesNotMatch(all, new RegExp(TOKEN));
      assert.match(all, /\/event\/dockerhub\/<redacted>/);
    });

    await t.step("/metrics counts deliveries per route and outcome", async () => {
      const metrics = (await svc.get("/metrics")).text;
      for (const c of CASES) {
        for (const outcome of ["applied", "unauthorized", "malformed"]) {
          assert.match(
            metrics,
            new RegExp(
              `argoos_webhook_deliveries_total\\{route="${c.source}",outcome="${outcome}"\\} 1\\n`,
            ),
            `${c.source} ${outcome}`,
          );
        }
      }
      assert.match(metrics, /argoos_webhook_deliveries_total\{route="github",outcome="ping"\} 1\n/);
    });
  } finally {
    await svc.stop();
  }
});

Deno.test("poll-only mode mounts no webhook route", async () => {
  const svc = await startService({ args: ["--poll-interval", "1h", "--poll-only"] });
  try {
    for (const c of CASES) {
      const res = await fetch(`${svc.argoos.url}${c.path}`, { method: "POST", body: "{}" });
      assert.equal(res.status, 404, c.source);
      await res.body?.cancel();
    }
  } finally {
    await svc.stop();
  }
});
