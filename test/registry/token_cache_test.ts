import assert from "node:assert/strict";
import {
  type CachedToken,
  TokenCache,
  tokenFromResponse,
  type TokenResponse,
} from "../../lib/registry/token_cache.ts";

const now = Date.UTC(2026, 10, 25, 9, 0, 0);

const cases: [string, TokenResponse, CachedToken | undefined][] = [
  ["token, default 60 s, 10 s margin", { token: "t" }, { token: "t", useUntil: now + 50_000 }],
  ["access_token", { access_token: "a", expires_in: 300 }, { token: "a", useUntil: now + 290_000 }],
  ["token preferred over access_token", { token: "t", access_token: "a" }, {
    token: "t",
    useUntil: now + 50_000,
  }],
  ["short lifetime: half as margin", { token: "t", expires_in: 4 }, {
    token: "t",
    useUntil: now + 2_000,
  }],
  ["zero expires_in means default", { token: "t", expires_in: 0 }, {
    token: "t",
    useUntil: now + 50_000,
  }],
  ["issued_at earlier counts", { token: "t", expires_in: 300, issued_at: "2026-11-25T08:58:00Z" }, {
    token: "t",
    useUntil: now - 120_000 + 290_000,
  }],
  ["issued_at ahead of our clock ignored", {
    token: "t",
    expires_in: 300,
    issued_at: "2026-11-25T10:00:00Z",
  }, { token: "t", useUntil: now + 290_000 }],
  ["bad issued_at ignored", { token: "t", issued_at: "yesterday" }, {
    token: "t",
    useUntil: now + 50_000,
  }],
  ["no token", { expires_in: 60 }, undefined],
  ["empty token", { token: "" }, undefined],
];

for (const [name, body, want] of cases) {
  Deno.test(`tokenFromResponse: ${name}`, () => {
    assert.deepEqual(tokenFromResponse(body, now), want);
  });
}

Deno.test("TokenCache: returns until useUntil, then drops; delete forgets", () => {
  const cache = new TokenCache();
  cache.set("a", { token: "ta", useUntil: 1000 });
  cache.set("b", { token: "tb", useUntil: 1000 });
  assert.equal(cache.get("a", 999), "ta");
  assert.equal(cache.get("a", 1000), undefined);
  assert.equal(cache.get("a", 0), undefined, "expired entry was dropped");
  cache.delete("b");
  assert.equal(cache.get("b", 0), undefined);
  assert.equal(cache.get("missing", 0), undefined);
});
