/**
 * Every receiver against its vendor's documented payloads: the documented push becomes the
 * expected recorded push, other events are ignored, a body of another shape is refused with a
 * one-line reason, and the registry host is overridable.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseAcr } from "../../../lib/webhook/sources/acr.ts";
import { parseArtifactory } from "../../../lib/webhook/sources/artifactory.ts";
import { parseDistribution } from "../../../lib/webhook/sources/distribution.ts";
import { parseDockerHub } from "../../../lib/webhook/sources/dockerhub.ts";
import { parseEcr } from "../../../lib/webhook/sources/ecr.ts";
import { parseGar } from "../../../lib/webhook/sources/gar.ts";
import { parseGitHub } from "../../../lib/webhook/sources/github.ts";
import { parseHarbor } from "../../../lib/webhook/sources/harbor.ts";
import { parseQuay } from "../../../lib/webhook/sources/quay.ts";
import type { Parser, ParseResult } from "../../../lib/webhook/sources/types.ts";
import { timeOf } from "../../../lib/webhook/sources/fields.ts";
import { context, fixture } from "./fixture.ts";

const AT = 1_800_000_000_000;

function pushes(result: ParseResult) {
  assert.ok("pushes" in result, `expected pushes, got ${JSON.stringify(result)}`);
  return result.pushes;
}

function refusal(result: ParseResult): string {
  assert.ok("refused" in result, `expected a refusal, got ${JSON.stringify(result)}`);
  assert.doesNotMatch(result.refused, /\n/);
  return result.refused;
}

const documented: [string, Parser, string, Record<string, string>, unknown][] = [
  ["dockerhub", parseDockerHub, "dockerhub/push.json", {}, [{
    repository: "docker.io/svendowideit/testhook",
    tag: "latest",
    pushedAt: 1417566161000,
    source: "dockerhub",
  }]],
  ["quay", parseQuay, "quay/repo_push.json", {}, [{
    repository: "quay.io/dgangaia/test",
    tag: "latest",
    pushedAt: AT,
    source: "quay",
  }]],
  ["quay (legacy updated_tags object)", parseQuay, "quay/repo_push_legacy.json", {}, [{
    repository: "quay.io/devtable/ubuntu",
    tag: "latest",
    pushedAt: AT,
    source: "quay",
  }]],
  ["harbor", parseHarbor, "harbor/push_artifact_tag.json", {}, [{
    repository: "harbor.example.com/harbor/alpine",
    tag: "3.8",
    digest: "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14",
    pushedAt: 1680502598000,
    source: "harbor",
  }]],
  ["harbor (CloudEvents)", parseHarbor, "harbor/push_artifact_cloudevents.json", {}, [{
    repository: "harbor.example.com/harbor/alpine",
    tag: "3.8",
    digest: "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14",
    pushedAt: Date.parse("2023-04-03T06:16:38Z"),
    source: "harbor",
  }]],
  ["github registry_package", parseGitHub, "github/registry_package_published.json", {
    "x-github-event": "registry_package",
  }, [{
    repository: "ghcr.io/octo-org/hello-world",
    tag: "1.4.2",
    digest: "sha256:a6a6b7c0b5d6bdbf4d8d4bd9ca4e7a3ab1cbd7b0d2a6bd07a0b7c3a0e3c4b5d6",
    pushedAt: Date.parse("2026-11-25T09:17:38Z"),
    source: "github",
  }]],
  ["github package", parseGitHub, "github/package_published.json", {
    "x-github-event": "package",
  }, [{
    repository: "ghcr.io/octo-org/hello-world",
    tag: "1.4.2",
    digest: "sha256:a6a6b7c0b5d6bdbf4d8d4bd9ca4e7a3ab1cbd7b0d2a6bd07a0b7c3a0e3c4b5d6",
    pushedAt: Date.parse("2026-11-25T09:17:38Z"),
    source: "github",
  }]],
  ["acr", parseAcr, "acr/push.json", {}, [{
    repository: "myregistry.azurecr.io/hello-world",
    tag: "v1",
    digest: "sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d",
    pushedAt: Date.parse("2017-11-17T16:52:01.343Z"),
    source: "acr",
  }]],
  ["ecr", parseEcr, "ecr/image_push.json", {}, [{
    repository: "123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name",
    tag: "latest",
    digest: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678",
    pushedAt: Date.parse("2019-11-16T01:54:34Z"),
    source: "ecr",
  }]],
  ["gar", parseGar, "gar/insert_tag.json", {}, [{
    repository: "us-east1-docker.pkg.dev/my-project/my-repo/hello-world",
    tag: "1.1",
    digest: "sha256:6ec128e26cd5d1d1b8bb2d2b5d1e4f1a1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f",
    pushedAt: Date.parse("2021-02-26T19:13:55.749Z"),
    source: "gar",
  }]],
  ["artifactory", parseArtifactory, "artifactory/pushed.json", {}, [{
    repository: "acme.jfrog.io/docker-remote-cache/library/ubuntu",
    tag: "latest",
    digest: "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce",
    pushedAt: AT,
    source: "artifactory",
  }]],
  [
    "artifactory (event data only, host by header)",
    parseArtifactory,
    "artifactory/pushed_data_only.json",
    { "x-argoos-registry-name": "docker.acme.example" },
    [{
      repository: "docker.acme.example/docker-remote-cache/library/ubuntu",
      tag: "latest",
      digest: "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce",
      pushedAt: AT,
      source: "artifactory",
    }],
  ],
  ["distribution", parseDistribution, "bodies/manifest-push-oci.json", {}, "one push"],
];

for (const [name, parse, file, headers, expected] of documented) {
  Deno.test(`${name}: the documented payload becomes the expected push`, () => {
    const got = pushes(parse(fixture(file), context(headers)));
    if (expected === "one push") {
      assert.equal(got.length, 1);
      assert.equal(got[0].source, "distribution");
      assert.match(got[0].digest ?? "", /^sha256:[0-9a-f]{64}$/);
    } else {
      assert.deepEqual(got, expected);
    }
  });
}

const ignoredCases: [string, Parser, string, Record<string, string>, RegExp][] = [
  ["harbor pushed by digest", parseHarbor, "harbor/push_artifact_by_digest.json", {}, /by digest/],
  ["harbor delete", parseHarbor, "harbor/delete_artifact.json", {}, /DELETE_ARTIFACT/],
  ["acr delete", parseAcr, "acr/delete.json", {}, /action delete/],
  ["ecr delete", parseEcr, "ecr/image_delete.json", {}, /DELETE SUCCESS/],
  ["gar untagged", parseGar, "gar/insert_untagged.json", {}, /untagged/],
  ["gar delete", parseGar, "gar/delete.json", {}, /action DELETE/],
  ["github npm package", parseGitHub, "github/package_published_npm.json", {
    "x-github-event": "package",
  }, /package type npm/],
  ["github other event", parseGitHub, "github/package_published.json", {
    "x-github-event": "push",
  }, /event push/],
];

for (const [name, parse, file, headers, why] of ignoredCases) {
  Deno.test(`${name}: understood and ignored, with the reason`, () => {
    const result = parse(fixture(file), context(headers));
    assert.deepEqual(pushes(result), []);
    assert.ok("ignored" in result);
    assert.match(result.ignored.join("; "), why);
  });
}

Deno.test("github ping is answered as a ping", () => {
  assert.deepEqual(
    parseGitHub(fixture("github/ping.json"), context({ "x-github-event": "ping" })),
    {
      ping: true,
    },
  );
});

const wrongShape: [string, Parser, unknown, RegExp][] = [
  ["dockerhub", parseDockerHub, { repository: { repo_name: "a/b" } }, /push_data/],
  ["quay", parseQuay, { repository: "a/b" }, /docker_url/],
  [
    "quay updated_tags",
    parseQuay,
    { docker_url: "quay.io/a/b", updated_tags: "x" },
    /updated_tags/,
  ],
  ["harbor", parseHarbor, { type: "PUSH_ARTIFACT" }, /event_data/],
  ["acr", parseAcr, { action: "push", target: { repository: "r", tag: "t" } }, /request/],
  ["ecr", parseEcr, { "detail-type": "ECR Image Action" }, /detail/],
  ["gar", parseGar, { message: { data: "not base64!" } }, /base64/],
  ["artifactory", parseArtifactory, [], /object/],
  ["distribution", parseDistribution, { nope: 1 }, /events/],
  ["dockerhub array", parseDockerHub, [1], /push_data/],
];

for (const [name, parse, body, why] of wrongShape) {
  Deno.test(`${name}: a body of another shape is refused with a one-line reason`, () => {
    assert.match(refusal(parse(body, context())), why);
  });
}

Deno.test("github: a package event that is not a documented body is refused", () => {
  assert.match(
    refusal(parseGitHub({ action: "published" }, context({ "x-github-event": "package" }))),
    /body\.package/,
  );
});

Deno.test("tags and digests that break the reference grammar are refused", () => {
  const badTag = { push_data: { tag: "bad tag" }, repository: { repo_name: "a/b" } };
  assert.match(refusal(parseDockerHub(badTag, context())), /not an image reference/);
  // The ECR documentation's own sample digest has 60 hex digits: not a sha256 digest.
  const ecr = fixture("ecr/image_push.json") as { detail: Record<string, string> };
  ecr.detail["image-digest"] =
    "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234";
  assert.match(refusal(parseEcr(ecr, context())), /not an image reference/);
  const upper = { docker_url: "quay.io/Team/App", updated_tags: ["1"] };
  assert.match(refusal(parseQuay(upper, context())), /not an image reference/);
});

Deno.test("the registry host is overridable by header and by REGISTRY_ALIASES", () => {
  const byHeader = parseDockerHub(
    fixture("dockerhub/push.json"),
    context({ "x-argoos-registry-name": "mirror.example.com" }),
  );
  assert.equal(pushes(byHeader)[0].repository, "mirror.example.com/svendowideit/testhook");
  const byAlias = parseAcr(
    fixture("acr/push.json"),
    context({}, [["myregistry.azurecr.io", "acr.example.com"]]),
  );
  assert.equal(pushes(byAlias)[0].repository, "acr.example.com/hello-world");
});

Deno.test("quay: the host of docker_url names a self-hosted Quay", () => {
  const body = { docker_url: "quay.corp.example:8443/team/app", updated_tags: ["1.0", "1.1"] };
  assert.deepEqual(pushes(parseQuay(body, context())).map((p) => [p.repository, p.tag]), [
    ["quay.corp.example:8443/team/app", "1.0"],
    ["quay.corp.example:8443/team/app", "1.1"],
  ]);
});

Deno.test("harbor and github: the repository of a reference on a host with a port", () => {
  const harbor = {
    type: "PUSH_ARTIFACT",
    occur_at: 1680501893,
    event_data: { resources: [{ tag: "3.8", resource_url: "harbor.corp:8443/lib/alpine:3.8" }] },
  };
  assert.equal(pushes(parseHarbor(harbor, context()))[0].repository, "harbor.corp:8443/lib/alpine");
  const pkg = {
    package_type: "CONTAINER",
    namespace: "octo",
    name: "app",
    package_version: {
      package_url: "ghcr.io/octo/app@sha256:" + "a".repeat(64),
      container_metadata: { tag: { name: "1.0" } },
    },
  };
  const github = parseGitHub(
    { action: "published", package: pkg },
    context({ "x-github-event": "package" }),
  );
  assert.equal(pushes(github)[0].repository, "ghcr.io/octo/app");
});

Deno.test("dockerhub: an official image's one-part name gets library/", () => {
  const body = { push_data: { tag: "1.27" }, repository: { repo_name: "nginx" } };
  assert.equal(pushes(parseDockerHub(body, context()))[0].repository, "docker.io/library/nginx");
});

Deno.test("artifactory: without jpd_origin or X-Argoos-Registry-Name the host is unknown", () => {
  assert.match(
    refusal(parseArtifactory(fixture("artifactory/pushed_data_only.json"), context())),
    /X-Argoos-Registry-Name/,
  );
});

Deno.test("time from outside is clamped: a push time later than received counts as received", () => {
  const received = Date.parse("2026-12-06T20:00:00Z");
  const table: [unknown, number][] = [
    ["2026-12-06T19:59:59Z", received - 1_000],
    ["2026-12-06T20:00:00Z", received],
    ["2026-12-06T20:00:01Z", received],
    ["2027-12-06T20:00:00Z", received],
    [received / 1000 - 60, received - 60_000],
    [received / 1000 + 60, received],
    [8.64e15, received],
    ["not a time", received],
    [undefined, received],
    [-5, received],
  ];
  for (const [sent, want] of table) assert.equal(timeOf(sent, received), want, String(sent));
  // Every source reads its time through it: a payload stamped next year is received now.
  const parsed = parseDistribution(
    {
      events: [{
        id: "e1",
        timestamp: "2099-01-01T00:00:00Z",
        action: "push",
        target: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          repository: "app",
          tag: "1.0.0",
          digest: `sha256:${"a".repeat(64)}`,
        },
        request: { host: "reg.example" },
      }],
    },
    context({}, [], received),
  );
  assert.ok("pushes" in parsed, JSON.stringify(parsed));
  assert.equal(parsed.pushes[0].pushedAt, received);
});
