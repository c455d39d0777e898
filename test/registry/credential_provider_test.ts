/**
 * Kubelet credential provider plugins against small fake plugins written by the tests: config
 * parsing, the request on stdin, caching by key type and duration, timeouts and errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  CredentialProviderError,
  CredentialProviders,
  imageMatches,
  parseCredentialProviderConfig,
} from "../../lib/registry/credential_provider.ts";
import { HelperError } from "../../lib/io/run_plugin.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";

/** A bin dir with plugin `name` that logs each request to `requests` and prints `answer`. */
async function fakePlugin(answer: unknown, script?: string) {
  const dir = await Deno.makeTempDir({ prefix: "argoos-plugins-" });
  const log = `${dir}/requests`;
  await Deno.writeTextFile(`${dir}/answer.json`, JSON.stringify(answer));
  const body = script ??
    `cat >> "${log}"; echo >> "${log}"; echo "$1 $FOO $SECRET_SHOULD_NOT_LEAK" >> "${dir}/argv"; cat "${dir}/answer.json"`;
  await Deno.writeTextFile(`${dir}/fake-plugin`, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(`${dir}/fake-plugin`, 0o755);
  return {
    dir,
    requests: async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n").filter(Boolean).map((l) =>
        JSON.parse(l)
      ),
    argv: () => Deno.readTextFile(`${dir}/argv`),
    setAnswer: (a: unknown) => Deno.writeTextFile(`${dir}/answer.json`, JSON.stringify(a)),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function config(extra = "", match = '["*.dkr.ecr.*.amazonaws.com"]') {
  return await parseCredentialProviderConfig(`
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: fake-plugin
    matchImages: ${match}
    defaultCacheDuration: 10m
    apiVersion: ${V1}
    args: [get-credentials]
    env:
      - name: FOO
        value: bar
${extra}`);
}

const answer = (cacheKeyType: string, cacheDuration?: string) => ({
  apiVersion: V1,
  kind: "CredentialProviderResponse",
  cacheKeyType,
  ...(cacheDuration ? { cacheDuration } : {}),
  auth: { "*.dkr.ecr.*.amazonaws.com": { username: "AWS", password: "pw-1" } },
});

const ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

Deno.test("config: YAML and JSON, v1 fields, clear one-line errors", async () => {
  const [p] = await config();
  assert.deepEqual(p, {
    name: "fake-plugin",
    matchImages: ["*.dkr.ecr.*.amazonaws.com"],
    defaultCacheDurationMs: 600_000,
    apiVersion: V1,
    args: ["get-credentials"],
    env: { FOO: "bar" },
  });
  const json = await parseCredentialProviderConfig(JSON.stringify({
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: [{
      name: "acr",
      matchImages: ["*.azurecr.io"],
      defaultCacheDuration: "1h",
      apiVersion: V1,
    }],
  }));
  assert.equal(json[0].defaultCacheDurationMs, 3_600_000);
  const bad: [string, RegExp][] = [
    ["kind: Other\napiVersion: kubelet.config.k8s.io/v1", /kind/],
    ["kind: CredentialProviderConfig\napiVersion: v9", /apiVersion/],
    [
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: ../x\n    matchImages: [a.io]\n    defaultCacheDuration: 1h\n    apiVersion: " +
      V1,
      /name/,
    ],
    [
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: x\n    matchImages: []\n    defaultCacheDuration: 1h\n    apiVersion: " +
      V1,
      /matchImages/,
    ],
    [
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: x\n    matchImages: [a.io]\n    defaultCacheDuration: soon\n    apiVersion: " +
      V1,
      /defaultCacheDuration/,
    ],
    [
      "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: x\n    matchImages: [a.io]\n    defaultCacheDuration: 1h\n    apiVersion: credentialprovider.kubelet.k8s.io/v9",
      /apiVersion/,
    ],
  ];
  for (const [text, why] of bad) {
    await assert.rejects(
      () => parseCredentialProviderConfig(text),
      (e: Error) =>
        e instanceof CredentialProviderError && why.test(e.message) && !e.message.includes("\n"),
    );
  }
});

Deno.test("matchImages: the kubelet's glob, port and path rules", () => {
  const cases: [string, string, string, boolean][] = [
    ["*.dkr.ecr.*.amazonaws.com", ECR, "app", true],
    ["*.azurecr.io", "x.azurecr.io", "app", true],
    ["*.azurecr.io", "azurecr.io", "app", false],
    ["*.io", "x.azurecr.io", "app", false],
    ["k8s.*.io", "k8s.gcr.io", "app", true],
    ["gcr.io", "gcr.io", "p/app", true],
    ["gcr.io", "gcr.io:443", "p/app", false],
    ["registry.io:8080/path", "registry.io:8080", "path/app", true],
    ["registry.io:8080/path", "registry.io:8080", "other/app", false],
    ["registry.io:8080/path", "registry.io", "path/app", false],
    ["*-docker.pkg.dev", "us-east1-docker.pkg.dev", "p/r/app", true],
  ];
  for (const [pattern, host, path, want] of cases) {
    assert.equal(imageMatches(pattern, host, path), want, `${pattern} ~ ${host}/${path}`);
  }
});

Deno.test("the plugin gets a CredentialProviderRequest on stdin, its args and env only", async () => {
  await using plugin = await fakePlugin(answer("Image"));
  Deno.env.set("SECRET_SHOULD_NOT_LEAK", "leaked");
  try {
    const providers = new CredentialProviders(await config(), { binDir: plugin.dir });
    assert.deepEqual(await providers.forImage(ECR, "team/app"), [{
      username: "AWS",
      password: "pw-1",
    }]);
  } finally {
    Deno.env.delete("SECRET_SHOULD_NOT_LEAK");
  }
  assert.deepEqual(await plugin.requests(), [{
    apiVersion: V1,
    kind: "CredentialProviderRequest",
    image: `${ECR}/team/app`,
  }]);
  assert.equal((await plugin.argv()).trim(), "get-credentials bar");
});

Deno.test("images no provider matches run no plugin", async () => {
  await using plugin = await fakePlugin(answer("Image"));
  const providers = new CredentialProviders(await config(), { binDir: plugin.dir });
  assert.deepEqual(await providers.forImage("ghcr.io", "team/app"), []);
  assert.equal(providers.serves("ghcr.io", "team/app"), false);
  assert.deepEqual(await plugin.requests(), []);
});

Deno.test("cache by key type: Image per image, Registry per host, Global for all", async () => {
  for (
    const [keyType, runs] of [["Image", 3], ["Registry", 2], ["Global", 1]] as const
  ) {
    await using plugin = await fakePlugin(answer(keyType));
    const providers = new CredentialProviders(await config(), { binDir: plugin.dir });
    await providers.forImage(ECR, "a");
    await providers.forImage(ECR, "a");
    await providers.forImage(ECR, "b");
    await providers.forImage("999999999999.dkr.ecr.eu-west-1.amazonaws.com", "a");
    assert.equal((await plugin.requests()).length, runs, keyType);
  }
});

Deno.test("cache duration: the answer's, else defaultCacheDuration; 0 is not cached", async () => {
  let now = 0;
  await using plugin = await fakePlugin(answer("Registry", "1m"));
  const providers = new CredentialProviders(await config(), { binDir: plugin.dir, now: () => now });
  await providers.forImage(ECR, "a");
  now = 59_000;
  await providers.forImage(ECR, "a");
  assert.equal((await plugin.requests()).length, 1);
  now = 60_000;
  await providers.forImage(ECR, "a");
  assert.equal((await plugin.requests()).length, 2);

  await plugin.setAnswer(answer("Registry"));
  now = 1_000_000;
  await providers.forImage(ECR, "a");
  now += 599_000;
  await providers.forImage(ECR, "a");
  assert.equal((await plugin.requests()).length, 3, "default 10m holds");
  now += 1_000;
  await providers.forImage(ECR, "a");
  assert.equal((await plugin.requests()).length, 4);

  await plugin.setAnswer(answer("Registry", "0s"));
  now += 10_000_000;
  await providers.forImage(ECR, "a");
  await providers.forImage(ECR, "a");
  assert.equal((await plugin.requests()).length, 6, "0s is never cached");
});

Deno.test("concurrent lookups of one image share one run", async () => {
  await using plugin = await fakePlugin(answer("Image"));
  const providers = new CredentialProviders(await config(), { binDir: plugin.dir });
  await Promise.all([1, 2, 3].map(() => providers.forImage(ECR, "a")));
  assert.equal((await plugin.requests()).length, 1);
});

Deno.test("a plugin that hangs is killed at the timeout", async () => {
  await using plugin = await fakePlugin({}, "exec sleep 30");
  const providers = new CredentialProviders(await config(), { binDir: plugin.dir, timeoutMs: 300 });
  const started = Date.now();
  await assert.rejects(
    providers.forImage(ECR, "a"),
    (e: Error) => e instanceof HelperError && /timed out/.test(e.message),
  );
  assert.ok(Date.now() - started < 10_000);
});

Deno.test("errors name the plugin: exit code, bad answer, missing binary", async () => {
  const failing: [string | undefined, unknown, RegExp][] = [
    ['echo "no IMDS" >&2; exit 3', {}, /fake-plugin exited 3: no IMDS/],
    [undefined, { kind: "Nope" }, /CredentialProviderResponse/],
    [
      undefined,
      { ...answer("Image"), apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1" },
      /apiVersion/,
    ],
    [undefined, { ...answer("Image"), cacheKeyType: "Pod" }, /cacheKeyType/],
    ["echo not-json", {}, /not JSON/],
  ];
  for (const [script, ans, why] of failing) {
    await using plugin = await fakePlugin(ans, script);
    const providers = new CredentialProviders(await config(), { binDir: plugin.dir });
    await assert.rejects(
      providers.forImage(ECR, "a"),
      (e: Error) => why.test(e.message),
      String(why),
    );
  }
  const missing = new CredentialProviders(await config(), { binDir: "/nonexistent" });
  await assert.rejects(
    missing.forImage(ECR, "a"),
    (e: Error) => e instanceof HelperError && /fake-plugin/.test(e.message),
  );
});
