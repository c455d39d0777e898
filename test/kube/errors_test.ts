import assert from "node:assert/strict";
import { isTransient, KubeApiError, networkReason } from "../../lib/kube/errors.ts";

const apiError = (status: number) =>
  new KubeApiError({ status, reason: "R", message: "m", method: "GET", path: "/api/v1" });

Deno.test("isTransient: retry network trouble, throttling and server errors only", () => {
  const table: [string, unknown, boolean][] = [
    ["no response (status 0)", apiError(0), true],
    ["400 bad request", apiError(400), false],
    ["401 unauthorized", apiError(401), false],
    ["403 forbidden", apiError(403), false],
    ["404 not found", apiError(404), false],
    ["409 conflict", apiError(409), false],
    ["410 gone", apiError(410), false],
    ["422 invalid", apiError(422), false],
    ["429 too many requests", apiError(429), true],
    ["500 internal", apiError(500), true],
    ["501 not implemented", apiError(501), false],
    ["502 bad gateway", apiError(502), true],
    ["503 unavailable", apiError(503), true],
    ["504 gateway timeout", apiError(504), true],
    ["fetch TypeError", new TypeError("error sending request"), true],
    ["timeout DOMException", new DOMException("t", "TimeoutError"), true],
    ["deliberate abort", new DOMException("a", "AbortError"), false],
    ["connection refused", new Deno.errors.ConnectionRefused("x"), true],
    ["connection reset", new Deno.errors.ConnectionReset("x"), true],
    ["plain Error", new Error("bug"), false],
    ["string", "oops", false],
    ["undefined", undefined, false],
  ];
  for (const [name, err, want] of table) assert.equal(isTransient(err), want, name);
});

Deno.test("KubeApiError.fromBody reads a Status, else keeps status and body text", () => {
  const table: [string, number, string, { status: number; reason: string; message: RegExp }][] = [
    [
      "Status body",
      409,
      JSON.stringify({ kind: "Status", code: 409, reason: "Conflict", message: "modified" }),
      { status: 409, reason: "Conflict", message: /409 Conflict: modified$/ },
    ],
    [
      "Status without reason",
      422,
      JSON.stringify({ kind: "Status", code: 422, message: "spec invalid" }),
      { status: 422, reason: "Invalid", message: /spec invalid/ },
    ],
    [
      "JSON but not a Status",
      500,
      JSON.stringify({ error: "boom" }),
      { status: 500, reason: "InternalError", message: /\{"error":"boom"\}/ },
    ],
    ["HTML proxy page", 502, "<html>Bad Gateway</html>", {
      status: 502,
      reason: "HTTP502",
      message: /Bad Gateway/,
    }],
    ["empty body", 403, "", { status: 403, reason: "Forbidden", message: /\(empty body\)/ }],
  ];
  for (const [name, status, body, want] of table) {
    const err = KubeApiError.fromBody("PATCH", "/apis/apps/v1/x", status, body);
    assert.equal(err.status, want.status, name);
    assert.equal(err.reason, want.reason, name);
    assert.match(err.message, want.message, name);
    assert.match(err.message, /^PATCH \/apis\/apps\/v1\/x: /, name);
    assert.equal(err.name, "KubeApiError");
  }
});

Deno.test("networkReason: fetch's detail without the URL and os error number", () => {
  const failed = (detail: string) => new TypeError("fetch failed", { cause: new Error(detail) });
  const table: [string, unknown, string][] = [
    [
      "refused",
      failed(
        "error sending request for url (http://127.0.0.1:9/version): client error (Connect): " +
          "tcp connect error: Connection refused (os error 111)",
      ),
      "connection refused",
    ],
    [
      "DNS",
      failed(
        "error sending request for url (http://k.invalid/version): client error (Connect): " +
          "dns error: failed to lookup address information: Name or service not known",
      ),
      "dns error: failed to lookup address information: Name or service not known",
    ],
    [
      "blocked port",
      new TypeError("Fetch failed: Requests to port 1 are blocked"),
      "requests to port 1 are blocked",
    ],
    ["not an Error", "boom", "boom"],
  ];
  for (const [name, err, want] of table) assert.equal(networkReason(err), want, name);
});
