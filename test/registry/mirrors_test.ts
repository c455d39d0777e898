/**
 * Registry mirrors: parsing REGISTRY_MIRRORS, where requests go, and a real distribution
 * registry standing in as the mirror of docker.io, quay.io and ghcr.io.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RegistryClient } from "../../lib/registry/client.ts";
import { credentialsFor } from "../../lib/registry/credentials.ts";
import {
  credentialsThroughMirrors,
  parseRegistryMirrors,
  registryEndpoint,
  registryUrl,
  requestHost,
} from "../../lib/registry/mirrors.ts";
import { parseDockerHub } from "../../lib/webhook/sources/dockerhub.ts";
import { parseGitHub } from "../../lib/webhook/sources/github.ts";
import { parseQuay } from "../../lib/webhook/sources/quay.ts";
import type { ParseResult } from "../../lib/webhook/sources/types.ts";
import { parseReference } from "../../lib/image/reference.ts";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

Deno.test("REGISTRY_MIRRORS: upstream hosts normalized, mirrors kept, bad pairs refused", () => {
  const m = parseRegistryMirrors(
    " index.docker.io=mirror.local:5000 , quay.io=http://cache.lan:5000/,ghcr.io=https://[::1]:443",
  );
  assert.deepEqual([...m], [
    ["docker.io", "mirror.local:5000"],
    ["quay.io", "http://cache.lan:5000"],
    ["ghcr.io", "https://[::1]:443"],
  ]);
  assert.equal(parseRegistryMirrors("").size, 0);
  for (
    const bad of ["docker.io", "=m:5000", "docker.io=m=n", "docker.io=m.lan/path", "a=ftp://m"]
  ) {
    assert.throws(() => parseRegistryMirrors(bad), /REGISTRY_MIRRORS/, bad);
  }
});

Deno.test("endpoints: a mirrored registry goes to its mirror with ns, others unchanged", () => {
  const mirrors = parseRegistryMirrors(
    "docker.io=127.0.0.1:5000,quay.io=https://cache.lan,ghcr.io=cache.lan:5000",
  );
  const cases: [string, string[], { base: string; ns?: string }][] = [
    // A loopback mirror gets plain http only when listed insecure, as any registry.
    ["docker.io", [], { base: "https://127.0.0.1:5000", ns: "docker.io" }],
    ["registry-1.docker.io", ["127.0.0.1:*"], { base: "http://127.0.0.1:5000", ns: "docker.io" }],
    ["quay.io", [], { base: "https://cache.lan", ns: "quay.io" }],
    ["ghcr.io", [], { base: "https://cache.lan:5000", ns: "ghcr.io" }],
    ["ghcr.io", ["cache.lan:5000"], { base: "http://cache.lan:5000", ns: "ghcr.io" }],
    ["gcr.io", [], { base: "https://gcr.io" }],
    ["docker.io", ["127.0.0.1:5000"], { base: "http://127.0.0.1:5000", ns: "docker.io" }],
  ];
  for (const [host, insecure, want] of cases) {
    assert.deepEqual(registryEndpoint(host, insecure, mirrors), want, host);
  }
  assert.deepEqual(registryEndpoint("docker.io", []), { base: "https://registry-1.docker.io" });
  assert.equal(
    registryUrl(
      registryEndpoint("docker.io", ["127.0.0.1:5000"], mirrors),
      "library/nginx",
      "manifests/1.27",
    )
      .href,
    "http://127.0.0.1:5000/v2/library/nginx/manifests/1.27?ns=docker.io",
  );
});

realRegistryTest(
  "a real registry as the mirror of docker.io, quay.io and ghcr.io serves their tags and digests",
  async () => {
    const registry = await startRealRegistry();
    const seen: string[] = [];
    const client = new RegistryClient({
      ...PLAIN_LOOPBACK,
      mirrors: parseRegistryMirrors(
        `docker.io=${registry.host},quay.io=${registry.host},ghcr.io=http://${registry.host}`,
      ),
      fetch: (input, init) => {
        seen.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
    try {
      const hub = await pushImage({
        registry: registry.host,
        repository: "library/nginx",
        tag: "1.27.1",
      });
      await pushImage({ registry: registry.host, repository: "library/nginx", tag: "1.27.2" });
      const quay = await pushImage({
        registry: registry.host,
        repository: "team/app",
        tag: "2.0.0",
      });
      await pushImage({ registry: registry.host, repository: "octo-org/hello", tag: "0.3.0" });

      assert.deepEqual([...await client.listTags("docker.io", "library/nginx")].sort(), [
        "1.27.1",
        "1.27.2",
      ]);
      assert.equal(await client.headDigest("docker.io", "library/nginx", "1.27.1"), hub.digest);
      assert.deepEqual(await client.listTags("quay.io", "team/app"), ["2.0.0"]);
      assert.equal(await client.headDigest("quay.io", "team/app", "2.0.0"), quay.digest);
      assert.deepEqual(await client.listTags("ghcr.io", "octo-org/hello"), ["0.3.0"]);
      await assert.rejects(client.listTags("quay.io", "library/nginx-missing"));

      assert.ok(seen.length > 0);
      for (const url of seen) assert.ok(url.startsWith(`http://${registry.host}/v2/`), url);
      assert.ok(seen.some((u) => u.endsWith("/v2/library/nginx/tags/list?ns=docker.io")));
      assert.ok(seen.some((u) => u.includes("/v2/team/app/manifests/2.0.0?ns=quay.io")));
      assert.ok(seen.some((u) => u.endsWith("/v2/octo-org/hello/tags/list?ns=ghcr.io")));
    } finally {
      client.close();
      await registry.stop();
    }
  },
);

realRegistryTest(
  "Docker Hub, Quay and GitHub payloads name pushes the mirror really holds",
  async () => {
    const registry = await startRealRegistry();
    const client = new RegistryClient({
      ...PLAIN_LOOPBACK,
      mirrors: parseRegistryMirrors(
        `docker.io=${registry.host},quay.io=${registry.host},ghcr.io=${registry.host}`,
      ),
    });
    try {
      const hub = await pushImage({
        registry: registry.host,
        repository: "library/nginx",
        tag: "1.27.2",
      });
      const quay = await pushImage({
        registry: registry.host,
        repository: "team/app",
        tag: "2.1.0",
      });
      const gh = await pushImage({
        registry: registry.host,
        repository: "octo-org/hello",
        tag: "0.4.0",
      });
      const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
      const results: [ParseResult, string][] = [
        [
          parseDockerHub({ push_data: { tag: "1.27.2" }, repository: { repo_name: "nginx" } }, ctx),
          hub.digest,
        ],
        [parseQuay({ docker_url: "quay.io/team/app", updated_tags: ["2.1.0"] }, ctx), quay.digest],
        [
          parseGitHub({
            action: "published",
            package: {
              name: "hello",
              namespace: "octo-org",
              package_type: "container",
              package_version: {
                container_metadata: { tag: { name: "0.4.0", digest: gh.digest } },
              },
            },
          }, { ...ctx, headers: new Headers({ "x-github-event": "package" }) }),
          gh.digest,
        ],
      ];
      for (const [result, digest] of results) {
        assert.ok("pushes" in result && result.pushes.length === 1, JSON.stringify(result));
        const push = result.pushes[0];
        // The recorded repository keeps the public name; the mirror answers for it.
        const ref = parseReference(push.repository);
        assert.ok(["docker.io", "quay.io", "ghcr.io"].includes(ref.host!), push.repository);
        assert.ok((await client.listTags(ref.host!, ref.path)).includes(push.tag));
        assert.equal(await client.headDigest(ref.host!, ref.path, push.tag), digest);
        if (push.digest) assert.equal(push.digest, digest);
      }
    } finally {
      client.close();
      await registry.stop();
    }
  },
);

Deno.test("credentials through mirrors: the mirror host's keys under the upstream name", () => {
  const hub = { username: "hub", password: "1" };
  const cache = { username: "cache", password: "2" };
  const team = { username: "team", password: "3" };
  const gh = { username: "gh", password: "4" };
  const creds = new Map([
    ["https://index.docker.io/v1/", hub],
    ["mirror.local:5000", cache],
    ["mirror.local:5000/team", team],
    ["ghcr.io", gh],
  ]);
  const mirrors = parseRegistryMirrors(
    "docker.io=http://mirror.local:5000,quay.io=mirror.local:5000",
  );
  const through = credentialsThroughMirrors(creds, mirrors);
  const names = (host: string, path: string) =>
    credentialsFor(through, host, path).map((c) => c.username);
  // Docker Hub's own login is never sent to the mirror; the mirror's is, for both upstreams.
  assert.deepEqual(names("docker.io", "library/nginx"), ["cache"]);
  assert.deepEqual(names("docker.io", "team/app"), ["team", "cache"]);
  assert.deepEqual(names("quay.io", "org/app"), ["cache"]);
  // Registries without a mirror keep their credentials.
  assert.deepEqual(names("ghcr.io", "org/app"), ["gh"]);
  assert.equal(credentialsThroughMirrors(creds, new Map()), creds);
  assert.equal(requestHost("index.docker.io", mirrors), "mirror.local:5000");
  assert.equal(requestHost("ghcr.io", mirrors), "ghcr.io");
});

Deno.test("credential layers: a later layer's credentials come after, whatever their keys", () => {
  const secrets = new Map([["ghcr.io", { username: "secret", password: "1" }]]);
  const minted = new Map([["ghcr.io/org/app", { username: "plugin", password: "2" }]]);
  const again = new Map([["ghcr.io/org", { username: "secret", password: "1" }]]);
  assert.deepEqual(
    credentialsFor([secrets, minted, again], "ghcr.io", "org/app").map((c) => c.username),
    ["secret", "plugin"],
  );
});
