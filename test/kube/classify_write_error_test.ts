/**
 * classifyWriteError over the failures a real API server writes for a PATCH, served by the
 * fake API server on the wire and read back by the KubeClient: ValidatingAdmissionPolicy
 * and webhook denials are refusals, RBAC is access, a failed `test` is a conflict.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { classifyWriteError, KubeApiError, type WriteErrorClass } from "../../lib/kube/errors.ts";
import { findByKind } from "../fake_apiserver/resources.ts";
import { admissionPolicyDenied, rbacForbidden, webhookDenied } from "../fake_apiserver/status.ts";
import type { Fault } from "../fake_apiserver/mod.ts";
import { deployment, startFakeCluster } from "../support/fake_cluster.ts";

const TYPE = findByKind("apps/v1", "Deployment")!;
const SA = "system:serviceaccount:argoos:argoos";

const CASES: [string, Fault | "failed-test" | "missing", WriteErrorClass][] = [
  [
    "ValidatingAdmissionPolicy denial, reason Forbidden (403)",
    {
      error: admissionPolicyDenied(
        TYPE,
        "web",
        "pinned",
        "pinned-b",
        "images are pinned",
        "Forbidden",
      ),
    },
    "refused",
  ],
  [
    "ValidatingAdmissionPolicy denial, default reason Invalid (422)",
    { error: admissionPolicyDenied(TYPE, "web", "pinned", "pinned-b", "images are pinned") },
    "refused",
  ],
  [
    "ValidatingAdmissionPolicy denial, reason Unauthorized (401)",
    { error: admissionPolicyDenied(TYPE, "web", "p", "b", "no", "Unauthorized") },
    "refused",
  ],
  [
    "admission webhook denial, 403 Forbidden",
    {
      error: webhookDenied("policy.example.com", { code: 403, reason: "Forbidden", message: "no" }),
    },
    "refused",
  ],
  [
    "admission webhook denial without a code (400)",
    { error: webhookDenied("policy.example.com", { message: "no" }) },
    "refused",
  ],
  ["RBAC 403", { error: rbacForbidden(TYPE, "web", "default", SA, "patch") }, "access"],
  ["401 Unauthorized", { status: 401 }, "access"],
  ["409 Conflict", { status: 409 }, "conflict"],
  ["failed JSON-patch test (422, details {})", "failed-test", "conflict"],
  ["404 NotFound", "missing", "gone"],
  ["429 TooManyRequests", { status: 429 }, "transient"],
  ["500 InternalError", { status: 500 }, "transient"],
  ["503 ServiceUnavailable", { status: 503 }, "transient"],
  ["504 Timeout", { status: 504 }, "transient"],
];

Deno.test("classifyWriteError: each Status shape the API server writes", async (t) => {
  const cluster = await startFakeCluster();
  try {
    cluster.fake.put(deployment({
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: "reg.example/app:1.0.0" }],
    }));
    for (const [name, fault, want] of CASES) {
      await t.step(name, async () => {
        let target = "web";
        let patch: unknown[] = [{ op: "replace", path: "/metadata/labels/x", value: "y" }];
        if (fault === "missing") target = "gone";
        else if (fault === "failed-test") {
          patch = [{ op: "test", path: "/metadata/labels/argoos.io~1policy", value: "major" }];
        } else cluster.fake.fail({ method: "PATCH", path: "/deployments/web", ...fault });
        const err = await cluster.client.patch(DEPLOYMENTS, "default", target, patch, "json")
          .then(() => undefined, (e) => e);
        assert.ok(err instanceof KubeApiError, String(err));
        assert.equal(classifyWriteError(err), want, err.message);
      });
    }
  } finally {
    await cluster.stop();
  }
});

Deno.test("classifyWriteError: no response is transient, messages are never read", () => {
  const err = (status: number, reason: string, message: string, details?: object) =>
    new KubeApiError({ status, reason, message, method: "PATCH", path: "/", details });
  assert.equal(classifyWriteError(err(0, "Timeout", "")), "transient");
  assert.equal(classifyWriteError(new TypeError("fetch failed")), "transient");
  // The same message, different Status shapes: the class follows the shape.
  const text = 'admission webhook "x" denied the request: no';
  assert.equal(classifyWriteError(err(403, "Forbidden", text, { kind: "deployments" })), "access");
  assert.equal(classifyWriteError(err(403, "Forbidden", "RBAC says no")), "refused");
});
