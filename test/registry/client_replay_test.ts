/**
 * RegistryClient against responses replayed byte-for-byte (bar Date/Content-Length) from
 * curl transcripts of a real distribution 2.8.2 registry.
 */
import assert from "node:assert/strict";
import { RegistryClient } from "../../lib/registry/client.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { startStub } from "./stub_registry.ts";
import { loadTranscript, replay, requestHeaderValues, type Transcript } from "./transcript.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

/**
 * Serves the transcript whose method, path and Authorization match the request; answers 400
 * when the client did not accept every media type the recorded request accepted.
 */
async function replayRegistry(...names: string[]) {
  const transcripts = await Promise.all(names.map(loadTranscript));
  return startStub((req) => {
    const t = transcripts.find((t) =>
      t.request.method === req.method && t.request.target === req.target &&
      (requestHeaderValues(t, "authorization")[0] ?? null) === req.headers.get("authorization")
    );
    if (!t) return new Response(`no transcript for ${req.method} ${req.target}`, { status: 400 });
    const sent = (req.headers.get("accept") ?? "").split(",").map((s) => s.trim());
    const missing = requestHeaderValues(t, "accept").filter((a) =>
      a !== "*/*" && !sent.includes(a)
    );
    if (missing.length) return new Response(`not accepted: ${missing}`, { status: 400 });
    return replay(t);
  });
}

function recordedDigest(t: Transcript): string {
  return t.response.headers.find(([k]) => k.toLowerCase() === "docker-content-digest")![1];
}

async function rejection(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof RegistryError, `expected a RegistryError, got ${err}`);
  return err;
}

Deno.test("replay tags_list.txt: all tags, in the registry's (unsorted) order", async () => {
  const stub = await replayRegistry("tags_list.txt");
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.listTags(stub.host, "myapp"), [
      "3.0.2",
      "latest",
      "1.6.0",
      "3.0.3",
      "1.4.0",
      "1.5.0",
      "1.3.0",
      "3.0.0",
      "1.2.3",
      "3.0.1",
      "1.3.0-rc.1",
    ]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("replay tags_list_nested.txt: nested repository path", async () => {
  const stub = await replayRegistry("tags_list_nested.txt");
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.listTags(stub.host, "team/app"), ["1.0.0"]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("replay tags_list_unknown_repo.txt: NAME_UNKNOWN, not transient", async () => {
  const stub = await replayRegistry("tags_list_unknown_repo.txt");
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.listTags(stub.host, "nope"));
    assert.equal(err.status, 404);
    assert.equal(err.code, "NAME_UNKNOWN");
    assert.equal(err.transient, false);
    assert.match(err.message, /repository name not known to registry/);
  } finally {
    client.close();
    await stub.close();
  }
});

for (
  const name of [
    "head_oci_manifest_all_accept.txt",
    "head_oci_index_all_accept.txt",
    "head_docker_v2_all_accept.txt",
    "head_docker_list_all_accept.txt",
  ]
) {
  Deno.test(`replay ${name}: digest of the stored manifest`, async () => {
    const t = await loadTranscript(name);
    const stub = await replayRegistry(name);
    const client = new RegistryClient(PLAIN_LOOPBACK);
    try {
      const tag = t.request.target.split("/").at(-1)!;
      assert.equal(await client.headDigest(stub.host, "myapp", tag), recordedDigest(t));
    } finally {
      client.close();
      await stub.close();
    }
  });
}

Deno.test("replay head_unknown_tag.txt: bodyless 404 HEAD is MANIFEST_UNKNOWN", async () => {
  const stub = await replayRegistry("head_unknown_tag.txt");
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.headDigest(stub.host, "myapp", "9.9.9"));
    assert.equal(err.status, 404);
    assert.equal(err.code, "MANIFEST_UNKNOWN");
    assert.equal(err.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("replay auth_*: Basic challenge, right, wrong and missing credentials", async () => {
  const stub = await replayRegistry(
    "auth_tags_list_noauth.txt",
    "auth_tags_list_ok.txt",
    "auth_tags_list_badpass.txt",
    "auth_head_manifest_noauth.txt",
    "auth_head_manifest_ok.txt",
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const good = { username: "testuser", password: "testpass" };
    assert.equal((await client.listTags(stub.host, "myapp", good)).length, 11);
    assert.equal(
      await client.headDigest(stub.host, "myapp", "1.2.3", good),
      "sha256:515067bec0af45ec93a68e8e9bf89fb2dd608a89e7a1537710e833245f4e13c4",
    );
    const bad = await rejection(
      client.listTags(stub.host, "myapp", { username: "testuser", password: "wrong" }),
    );
    assert.equal(bad.code, "UNAUTHORIZED");
    assert.equal(bad.status, 401);
    assert.equal(bad.transient, false);
    // A fresh client: the first one already sends Basic up front for this host.
    const none = await rejection(new RegistryClient(PLAIN_LOOPBACK).listTags(stub.host, "myapp"));
    assert.equal(none.code, "UNAUTHORIZED");
    assert.equal(none.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});
