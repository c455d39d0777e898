/**
 * Routes as data and one delivery through authentication and parsing: wrong tokens and bad
 * signatures are refused, GitHub's ping is answered, and the token never reaches a log line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { authorized, githubSignature } from "../../../lib/webhook/auth.ts";
import { receive } from "../../../lib/webhook/sources/receive.ts";
import { matchRoute, RECEIVER_ROUTES, redactPath } from "../../../lib/webhook/sources/routes.ts";
import { fixtureText } from "./fixture.ts";

const TOKEN = "tok-7c1e9f4a";

async function deliver(path: string, body: string, headers: Record<string, string> = {}) {
  const match = matchRoute(path);
  assert.ok(match, `no route for ${path}`);
  // As the server does: authenticate, then parse.
  const presented = { headers: new Headers(headers), body, pathToken: match.pathToken };
  if (!await authorized(match.route.auth, TOKEN, presented)) {
    return { outcome: "unauthorized", status: 401 } as const;
  }
  return receive(match.route, { ...presented, receivedAt: 0, aliases: new Map() });
}

Deno.test("every source of the issue has one route, paths distinct", () => {
  assert.deepEqual(RECEIVER_ROUTES.map((r) => `${r.path} ${r.auth}`), [
    "/event header-token",
    "/event/dockerhub path-token",
    "/event/quay path-token",
    "/event/harbor authorization",
    "/event/github github-signature",
    "/event/acr header-token",
    "/event/ecr header-token",
    "/event/gar path-token",
    "/event/artifactory header-token",
  ]);
});

Deno.test("matchRoute: token routes need exactly one token segment", () => {
  assert.equal(matchRoute("/event/quay/a%2Fb")?.pathToken, "a/b");
  assert.equal(matchRoute("/event/quay/a/b"), undefined);
  assert.equal(matchRoute("/event/quay/"), undefined);
  assert.equal(matchRoute("/event/harbor/x"), undefined);
  assert.equal(matchRoute("/events"), undefined);
});

const accepted: [string, string, Record<string, string>][] = [
  [`/event/dockerhub/${TOKEN}`, "dockerhub/push.json", {}],
  [`/event/quay/${TOKEN}`, "quay/repo_push.json", {}],
  ["/event/harbor", "harbor/push_artifact_tag.json", { authorization: TOKEN }],
  ["/event/harbor", "harbor/push_artifact_tag.json", { authorization: `Bearer ${TOKEN}` }],
  ["/event/acr", "acr/push.json", { "x-argoos-token": TOKEN }],
  ["/event/ecr", "ecr/image_push.json", { "x-argoos-token": TOKEN }],
  [`/event/gar/${TOKEN}`, "gar/insert_tag.json", {}],
  ["/event/artifactory", "artifactory/pushed.json", { "x-argoos-token": TOKEN }],
  ["/event", "bodies/manifest-push-oci.json", { "x-argoos-token": TOKEN }],
];

for (const [path, file, headers] of accepted) {
  Deno.test(`${redactPath(path)}: the right token is accepted and the push received`, async () => {
    const outcome = await deliver(path, fixtureText(file), headers);
    assert.equal(outcome.outcome, "received");
    assert.ok(outcome.outcome === "received" && outcome.pushes.length === 1);
  });
}

const refusedAuth: [string, string, Record<string, string>][] = [
  ["/event/dockerhub/wrong", "dockerhub/push.json", {}],
  ["/event/quay/wrong", "quay/repo_push.json", { "x-argoos-token": TOKEN }],
  ["/event/harbor", "harbor/push_artifact_tag.json", { authorization: "Bearer wrong" }],
  ["/event/harbor", "harbor/push_artifact_tag.json", {}],
  ["/event/acr", "acr/push.json", { "x-argoos-token": "wrong" }],
  ["/event/ecr", "ecr/image_push.json", {}],
  ["/event/gar/wrong", "gar/insert_tag.json", {}],
  ["/event/artifactory", "artifactory/pushed.json", { authorization: TOKEN }],
];

for (const [path, file, headers] of refusedAuth) {
  Deno.test(`${path}: a wrong or missing token is refused with 401`, async () => {
    const outcome = await deliver(path, fixtureText(file), headers);
    assert.equal(outcome.outcome, "unauthorized");
    assert.ok(outcome.outcome === "unauthorized" && outcome.status === 401);
  });
}

Deno.test("github: signed with the token accepted; bad or missing signature refused", async () => {
  const body = fixtureText("github/registry_package_published.json");
  const event = { "x-github-event": "registry_package" };
  const good = await deliver("/event/github", body, {
    ...event,
    "x-hub-signature-256": await githubSignature(TOKEN, body),
  });
  assert.equal(good.outcome, "received");
  for (
    const signature of [
      await githubSignature("other-secret", body),
      await githubSignature(TOKEN, `${body} `),
      "sha1=0000",
    ]
  ) {
    const bad = await deliver("/event/github", body, {
      ...event,
      "x-hub-signature-256": signature,
    });
    assert.equal(bad.outcome, "unauthorized", signature);
  }
  assert.equal((await deliver("/event/github", body, event)).outcome, "unauthorized");
});

Deno.test("github: the signature matches GitHub's documented test vector", async () => {
  assert.equal(
    await githubSignature("It's a Secret to Everybody", "Hello, World!"),
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
  );
});

Deno.test("github: a signed ping is answered 200", async () => {
  const body = fixtureText("github/ping.json");
  const outcome = await deliver("/event/github", body, {
    "x-github-event": "ping",
    "x-hub-signature-256": await githubSignature(TOKEN, body),
  });
  assert.deepEqual(outcome, { outcome: "ping", status: 200 });
});

Deno.test("a body that is not JSON or not the shape is malformed (400), one line", async () => {
  const notJson = await deliver(`/event/quay/${TOKEN}`, "{");
  assert.equal(notJson.outcome, "malformed");
  const shape = await deliver(`/event/quay/${TOKEN}`, "{}");
  assert.ok(shape.outcome === "malformed" && shape.status === 400);
  assert.match(shape.reason, /docker_url/);
  assert.doesNotMatch(shape.reason, /\n/);
});

Deno.test("without a configured token every route accepts, as POST /event always did", async () => {
  const { route, pathToken } = matchRoute("/event/dockerhub/anything")!;
  assert.equal(
    await authorized(route.auth, undefined, { headers: new Headers(), body: "", pathToken }),
    true,
  );
});

Deno.test("the token never appears in what is logged of a delivery", async () => {
  const lines: string[] = [];
  for (const path of [`/event/dockerhub/${TOKEN}`, `/event/quay/${TOKEN}`, `/event/gar/${TOKEN}`]) {
    for (const body of ["{", "{}", fixtureText("dockerhub/push.json")]) {
      const outcome = await deliver(path, body);
      lines.push(JSON.stringify({ route: redactPath(path), ...outcome }));
    }
    const wrong = path.replace(TOKEN, `${TOKEN}x`);
    lines.push(JSON.stringify({ route: redactPath(wrong), ...await deliver(wrong, "{}") }));
  }
  assert.equal(lines.length, 12);
  for (const line of lines) assert.ok(!line.includes(TOKEN), line);
  assert.ok(lines.some((l) => l.includes("/event/dockerhub/<redacted>")));
});

Deno.test("secrets never in logs: redactPath hides whatever follows a token-in-path route", () => {
  const table: [string, string][] = [
    ["/event/dockerhub/s3cret", "/event/dockerhub/<redacted>"],
    ["/event/quay/s3cret", "/event/quay/<redacted>"],
    ["/event/gar/s3cret/more/segments", "/event/gar/<redacted>"],
    ["/event/gar%2Fs3cret", "/event/gar/<redacted>"],
    ["/event/dockerhub/", "/event/dockerhub/<redacted>"],
    ["/event/dockerhub", "/event/dockerhub"],
    ["/event", "/event"],
    ["/event/harbor", "/event/harbor"],
    ["/metrics", "/metrics"],
  ];
  for (const [path, logged] of table) assert.equal(redactPath(path), logged, path);
});
