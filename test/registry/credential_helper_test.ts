/**
 * Docker credential helpers (`credHelpers`, `credsStore`) against fake
 * `docker-credential-<name>` scripts written by the tests, and the combined external
 * credential source: failures reported once per host and cycle, other registries unaffected.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  CredentialHelpers,
  helperServerUrl,
  parseCredentialHelpers,
} from "../../lib/registry/credential_helper.ts";
import { CredentialProviders } from "../../lib/registry/credential_provider.ts";
import { ExternalCredentials } from "../../lib/registry/credential_source.ts";
import { HelperError, type RunHelper, runHelper } from "../../lib/io/run_plugin.ts";
import { Logger } from "../../lib/log/logger.ts";

/** A PATH dir holding `docker-credential-<name>` scripts; each logs argv and stdin. */
async function fakeHelpers(scripts: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "argoos-helpers-" });
  for (const [name, body] of Object.entries(scripts)) {
    const path = `${dir}/docker-credential-${name}`;
    await Deno.writeTextFile(
      path,
      `#!/bin/sh\nread -r server\necho "${name} $1 $server" >> "${dir}/calls"\n${body}\n`,
    );
    await Deno.chmod(path, 0o755);
  }
  const run: RunHelper = (command, args, stdin, opts) =>
    runHelper(`${dir}/${command}`, args, stdin, opts);
  return {
    run,
    calls: async () =>
      (await Deno.readTextFile(`${dir}/calls`).catch(() => "")).split("\n").filter(Boolean),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const answer = (user: string, secret: string) =>
  `echo '{"ServerURL":"'"$server"'","Username":"${user}","Secret":"${secret}"}'`;

Deno.test("docker config: credHelpers keys normalized, credsStore read, bad names refused", () => {
  const c = parseCredentialHelpers(JSON.stringify({
    auths: {},
    credHelpers: { "https://123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login", "gcr.io": "gcloud" },
    credsStore: "desktop",
  }));
  assert.deepEqual([...c.credHelpers], [
    ["123.dkr.ecr.us-east-1.amazonaws.com", "ecr-login"],
    ["gcr.io", "gcloud"],
  ]);
  assert.equal(c.credsStore, "desktop");
  assert.throws(() => parseCredentialHelpers('{"credsStore":"../../bin/sh"}'), /credsStore/);
  assert.throws(() => parseCredentialHelpers('{"credHelpers":{"a.io":1}}'), /credHelpers/);
  assert.equal(helperServerUrl("index.docker.io"), "https://index.docker.io/v1/");
});

Deno.test("get: server URL on stdin, basic and identity-token answers", async () => {
  await using h = await fakeHelpers({
    gcloud: answer("oauth2accesstoken", "ya29.x"),
    desktop: answer("<token>", "identity-1"),
  });
  const helpers = new CredentialHelpers(
    parseCredentialHelpers('{"credHelpers":{"gcr.io":"gcloud"},"credsStore":"desktop"}'),
    { run: h.run },
  );
  assert.deepEqual(await helpers.forHost("gcr.io"), [{
    username: "oauth2accesstoken",
    password: "ya29.x",
  }]);
  assert.deepEqual(await helpers.forHost("docker.io"), [{ token: "identity-1" }]);
  assert.deepEqual(await h.calls(), [
    "gcloud get gcr.io",
    "desktop get https://index.docker.io/v1/",
  ]);
});

Deno.test("no helper applies: nothing is run; not found in keychain: no credential", async () => {
  await using h = await fakeHelpers({
    pass: 'echo "credentials not found in native keychain"; exit 1',
  });
  const none = new CredentialHelpers(parseCredentialHelpers('{"credHelpers":{"gcr.io":"pass"}}'), {
    run: h.run,
  });
  assert.deepEqual(await none.forHost("ghcr.io"), []);
  assert.deepEqual(await h.calls(), []);
  assert.deepEqual(await none.forHost("gcr.io"), []);
  assert.equal((await h.calls()).length, 1);
});

Deno.test("answers are reused for cacheMs, then asked again", async () => {
  let now = 0;
  await using h = await fakeHelpers({ gcloud: answer("u", "s") });
  const helpers = new CredentialHelpers(
    parseCredentialHelpers('{"credsStore":"gcloud"}'),
    { run: h.run, cacheMs: 1_000, now: () => now },
  );
  await helpers.forHost("gcr.io");
  now = 999;
  await helpers.forHost("gcr.io");
  assert.equal((await h.calls()).length, 1);
  now = 1_000;
  await helpers.forHost("gcr.io");
  assert.equal((await h.calls()).length, 2);
});

Deno.test("helper errors: exit code, bad answer, timeout", async () => {
  await using h = await fakeHelpers({
    broken: 'echo "permission denied" >&2; exit 2',
    garbled: "echo nope",
    slow: "exec sleep 30",
  });
  for (
    const [name, why] of [["broken", /exited 2: permission denied/], ["garbled", /not JSON/], [
      "slow",
      /timed out/,
    ]] as const
  ) {
    const helpers = new CredentialHelpers(
      parseCredentialHelpers(JSON.stringify({ credsStore: name })),
      { run: h.run, timeoutMs: 300 },
    );
    await assert.rejects(
      helpers.forHost("gcr.io"),
      (e: Error) => e instanceof HelperError && why.test(e.message),
    );
  }
});

Deno.test("a helper whose own child holds its output open still times out on time", async () => {
  const started = performance.now();
  await assert.rejects(
    runHelper("sh", ["-c", "sleep 5 & sleep 5"], "", { timeoutMs: 300 }),
    (e: Error) => e instanceof HelperError && /timed out/.test(e.message),
  );
  const took = performance.now() - started;
  assert.ok(took < 3_000, `took ${Math.round(took)} ms`);
});

Deno.test("external credentials: a failure is reported once per host and cycle, others go on", async () => {
  await using h = await fakeHelpers({
    good: answer("u", "s"),
    broken: "exit 5",
  });
  const lines: string[] = [];
  const logger = new Logger({ level: "info", sink: (l) => lines.push(l) });
  const source = new ExternalCredentials({
    helpers: new CredentialHelpers(
      parseCredentialHelpers('{"credHelpers":{"bad.example":"broken"},"credsStore":"good"}'),
      { run: h.run, cacheMs: 0 },
    ),
    providers: new CredentialProviders([], { binDir: "/nonexistent" }),
    logger,
  });
  assert.deepEqual(await source.forImage("bad.example", "a"), []);
  assert.deepEqual(await source.forImage("bad.example", "b"), []);
  assert.deepEqual(await source.forImage("ok.example", "a"), [{ username: "u", password: "s" }]);
  assert.equal(lines.filter((l) => l.includes("bad.example")).length, 1);
  source.newCycle();
  await source.forImage("bad.example", "a");
  assert.equal(lines.filter((l) => l.includes("bad.example")).length, 2);
});
