/**
 * The webhook token: constant-time comparison, blank tokens refused, a token file re-read
 * when rotated.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  checkedToken,
  FileToken,
  fixedToken,
  TokenError,
  tokenMatches,
} from "../../lib/webhook/token.ts";
import { launchArgoos } from "../support/argoos_service.ts";
import { startFakeCluster } from "../support/fake_cluster.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("tokenMatches accepts only the exact token", async () => {
  const cases: [string, string | null, boolean][] = [
    ["s3cret", "s3cret", true],
    ["s3cret", "s3creT", false],
    ["s3cret", "s3cre", false],
    ["s3cret", "s3crets", false],
    ["s3cret", "x".repeat(10_000), false],
    ["s3cret", "", false],
    ["s3cret", null, false],
    ["s3cret", " s3cret", false],
    ["s3cret", "s3cret\u0000", false],
    ["s3cret\u0000", "s3cret", false],
    // The loop cycles over the expected bytes: a repeat of the token is still refused.
    ["s3cret", "s3crets3cret", false],
    ["ünïcode-🔑", "ünïcode-🔑", true],
    ["ünïcode-🔑", "unicode-🔑", false],
    // An empty expected token still refuses a missing header.
    ["", null, false],
    ["", "", true],
  ];
  for (const [expected, presented, want] of cases) {
    assert.equal(await tokenMatches(expected, presented), want, `${expected} vs ${presented}`);
  }
});

Deno.test("checkedToken trims and refuses blank tokens", () => {
  assert.equal(checkedToken(" s3cret\n", "TOKEN"), "s3cret");
  for (const blank of ["", " ", "\n\t ", "\r\n"]) {
    assert.throws(() => checkedToken(blank, "TOKEN"), TokenError);
  }
  assert.throws(() => fixedToken("  "), TokenError);
});

Deno.test("FileToken re-reads a rotated file and fails closed while it is blank", async () => {
  const dir = await Deno.makeTempDir();
  let clock = 0;
  try {
    // Kubernetes swaps a symlink to a new file; the test does the same.
    await Deno.writeTextFile(`${dir}/v1`, "first\n");
    await Deno.symlink(`${dir}/v1`, `${dir}/token`);
    const errors: string[] = [];
    const source = await FileToken.open(`${dir}/token`, {
      checkEveryMs: 1_000,
      now: () => clock,
      onError: (e) => errors.push(e.message),
    });
    assert.equal(await source.current(), "first");
    await Deno.writeTextFile(`${dir}/v2`, "second");
    await Deno.remove(`${dir}/token`);
    await Deno.symlink(`${dir}/v2`, `${dir}/token`);
    assert.equal(await source.current(), "first", "not looked at again within checkEveryMs");
    clock += 1_000;
    assert.equal(await source.current(), "second");
    await Deno.writeTextFile(`${dir}/v2`, "   \n");
    clock += 1_000;
    await assert.rejects(source.current(), TokenError);
    assert.match(errors[0], /blank/);
    await Deno.remove(`${dir}/token`);
    clock += 1_000;
    await assert.rejects(source.current(), TokenError);
    await Deno.writeTextFile(`${dir}/token`, "third");
    clock += 1_000;
    assert.equal(await source.current(), "third");
    await Deno.writeTextFile(`${dir}/blank`, "\n");
    await assert.rejects(FileToken.open(`${dir}/blank`), TokenError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rotated token file takes effect on POST /event without a restart", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/token`, "old-token\n");
  const cluster = await startFakeCluster();
  const { argoos } = await launchArgoos(cluster.client, [
    "serve",
    "--poll-interval",
    "0",
    "--token-file",
    `${dir}/token`,
  ]);
  try {
    const post = async (token: string) => {
      const res = await fetch(`${argoos.url}/event`, {
        method: "POST",
        headers: { "x-argoos-token": token },
        body: "{}",
      });
      await res.body?.cancel();
      return res.status;
    };
    await argoos.cache.synced;
    assert.equal(await post("old-token"), 400, "authorized: the body is what is wrong");
    assert.equal(await post("new-token"), 401);
    await Deno.writeTextFile(`${dir}/token.new`, "new-token");
    await Deno.rename(`${dir}/token.new`, `${dir}/token`);
    await waitFor(async () => (await post("new-token")) === 400, "new token accepted");
    assert.equal(await post("old-token"), 401);
  } finally {
    await argoos.stop();
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
