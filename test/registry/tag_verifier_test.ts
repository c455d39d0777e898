/**
 * How the truth check asks the registry: a tag's manifest fetched once, then a HEAD (no pull
 * counted by Docker Hub) while the tag still names it; a moved tag fetched again by digest.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RegistryCredential } from "../../lib/registry/credentials.ts";
import { DIGEST_MISSING, RegistryError } from "../../lib/registry/errors.ts";
import { type ManifestSource, TagVerifier } from "../../lib/registry/tag_verifier.ts";

const IMAGE = "application/vnd.oci.image.manifest.v1+json";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const HOST = "registry.example";
const ALICE: RegistryCredential = { username: "alice", password: "a" };

/** A registry whose tags can move, that lets in only `allowed` (undefined: anyone). */
function registry(opts: { headWithoutDigest?: boolean; allowed?: string } = {}) {
  const tags = new Map<string, string>();
  const calls: string[] = [];
  const check = (cred?: RegistryCredential) => {
    if (opts.allowed !== undefined && cred?.username !== opts.allowed) {
      throw new RegistryError("denied", { host: HOST, status: 401, transient: false });
    }
  };
  const resolve = (ref: string) => {
    const digest = ref.startsWith("sha256:") ? ref : tags.get(ref);
    if (!digest || ![...tags.values()].includes(digest)) {
      throw new RegistryError("unknown", { host: HOST, status: 404, transient: false });
    }
    return digest;
  };
  const source: ManifestSource = {
    headDigest: (_h, _p, ref, cred) => {
      calls.push(`HEAD ${ref}`);
      check(cred);
      const digest = resolve(ref);
      if (opts.headWithoutDigest) {
        throw new RegistryError("no digest", {
          host: HOST,
          status: 200,
          code: DIGEST_MISSING,
          transient: false,
        });
      }
      return Promise.resolve(digest);
    },
    manifest: (_h, _p, ref, cred) => {
      calls.push(`GET ${ref}`);
      check(cred);
      return Promise.resolve({ digest: resolve(ref), mediaType: IMAGE });
    },
  };
  return { tags, calls, source };
}

const none = new Map();
const alices = new Map([[HOST, ALICE]]);

Deno.test("verify: fetched once, then a HEAD while the tag names the same manifest", async () => {
  const reg = registry();
  reg.tags.set("1.2.4", D1);
  const verifier = new TagVerifier(reg.source, { ttlMs: 0 });
  for (let i = 0; i < 3; i++) {
    assert.equal((await verifier.verify(HOST, "app", "1.2.4", none))?.digest, D1);
  }
  assert.deepEqual(reg.calls, ["GET 1.2.4", "HEAD 1.2.4", "HEAD 1.2.4"]);
});

/** `latest` seen naming D1 by a verifier, then moved to D2. */
async function movedLatest() {
  const reg = registry();
  reg.tags.set("latest", D1);
  const verifier = new TagVerifier(reg.source, { ttlMs: 0 });
  await verifier.verify(HOST, "app", "latest", none);
  reg.tags.set("latest", D2);
  return { reg, verifier };
}

Deno.test("verify: a moved tag is fetched again by its new digest", async () => {
  const { reg, verifier } = await movedLatest();
  assert.equal((await verifier.verify(HOST, "app", "latest", none))?.digest, D2);
  assert.deepEqual(reg.calls, ["GET latest", "HEAD latest", `GET ${D2}`]);
});

Deno.test("verify: a push claiming another digest than the one seen fetches the tag", async () => {
  const { reg, verifier } = await movedLatest();
  const found = await verifier.verify(HOST, "app", "latest", none, { expectDigest: D2 });
  assert.equal(found?.digest, D2);
  assert.deepEqual(reg.calls, ["GET latest", "GET latest"]);
});

Deno.test("verify: a registry whose HEAD has no digest is asked by GET", async () => {
  const reg = registry({ headWithoutDigest: true });
  reg.tags.set("1.2.4", D1);
  const verifier = new TagVerifier(reg.source, { ttlMs: 0 });
  await verifier.verify(HOST, "app", "1.2.4", none);
  assert.equal((await verifier.verify(HOST, "app", "1.2.4", none))?.digest, D1);
  assert.deepEqual(reg.calls, ["GET 1.2.4", "HEAD 1.2.4", "GET 1.2.4"]);
});

Deno.test("verify: what one credential saw is not an answer for a workload without access", async () => {
  const reg = registry({ allowed: "alice" });
  reg.tags.set("1.2.4", D1);
  const verifier = new TagVerifier(reg.source, { ttlMs: 0 });
  assert.equal((await verifier.verify(HOST, "app", "1.2.4", alices))?.digest, D1);
  await assert.rejects(verifier.verify(HOST, "app", "1.2.4", none), RegistryError);
  assert.equal((await verifier.verify(HOST, "app", "1.2.4", alices))?.digest, D1);
  assert.deepEqual(reg.calls, ["GET 1.2.4", "HEAD 1.2.4", "HEAD 1.2.4"]);
});

Deno.test("verify: manifests seen are bounded, the least recently asked forgotten first", async () => {
  const reg = registry();
  for (const tag of ["a", "b", "c"]) reg.tags.set(tag, D1);
  const verifier = new TagVerifier(reg.source, { ttlMs: 0, maxEntries: 2 });
  for (const tag of ["a", "b", "a", "c", "a", "b"]) await verifier.verify(HOST, "app", tag, none);
  // c pushed out b, not a, which had just been asked again.
  assert.deepEqual(reg.calls, ["GET a", "GET b", "HEAD a", "GET c", "HEAD a", "GET b"]);
});

Deno.test("a final failure names the tag it is about (repository, tag, the push's digest); a transient one is untouched", async () => {
  const { tags, source } = registry({ allowed: "alice" });
  tags.set("1.2", D1);
  const verifier = new TagVerifier(source);
  const err = await verifier.verify(HOST, "team/app", "1.2", none, { expectDigest: D1 })
    .then(() => undefined, (e) => e);
  assert.ok(err instanceof RegistryError);
  assert.equal(err.status, 401);
  assert.deepEqual(err.subject, { repository: `${HOST}/team/app`, tag: "1.2", digest: D1 });
  const busy = new RegistryError("busy", { host: HOST, status: 503, transient: true });
  const failing = new TagVerifier({
    headDigest: () => Promise.reject(busy),
    manifest: () => Promise.reject(busy),
  });
  const transient = await failing.verify(HOST, "team/app", "1.2", none).then(
    () => undefined,
    (e) => e,
  );
  assert.equal(transient, busy);
});
