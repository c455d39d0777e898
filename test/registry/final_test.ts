/**
 * Final against transient, the one rule (`isFinal`, `finalReason`): which registry failures a
 * retry may fix (a delivery answered 503) and which are that workload's own (reported, 200).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  finalReason,
  isFinal,
  isTransientStatus,
  LISTING_TOO_LARGE,
  RegistryError,
} from "../../lib/registry/errors.ts";
import { KubeApiError } from "../../lib/kube/errors.ts";

const err = (init: { status?: number; code?: string; transient: boolean }) =>
  new RegistryError("x", { host: "reg.example", ...init });

Deno.test("final vs transient: statuses", () => {
  const table: [number, boolean][] = [
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [405, false],
    [408, true],
    [409, false],
    [413, false],
    [429, true],
    [499, false],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
  ];
  for (const [status, transient] of table) {
    assert.equal(isTransientStatus(status), transient, `${status}`);
  }
});

Deno.test("final vs transient: what each failure is, and why", () => {
  const table: [string, unknown, string | undefined][] = [
    ["401 refused credentials", err({ status: 401, transient: false }), "credentials-refused"],
    ["403 denied", err({ status: 403, code: "DENIED", transient: false }), "credentials-refused"],
    [
      "token realm refused",
      err({ status: 401, code: "UNAUTHORIZED", transient: false }),
      "credentials-refused",
    ],
    ["realm on a refused host", err({ code: "HOST_REFUSED", transient: false }), "host-refused"],
    [
      "answer over its size",
      err({ status: 200, code: "TOO_LARGE", transient: false }),
      "too-large",
    ],
    ["listing over its bounds", err({ code: LISTING_TOO_LARGE, transient: false }), "too-large"],
    [
      "repository unknown",
      err({ status: 404, code: "NAME_UNKNOWN", transient: false }),
      "not-found",
    ],
    ["400 invalid_grant", err({ status: 400, transient: false }), "client-error"],
    ["405 method not allowed", err({ status: 405, transient: false }), "client-error"],
    ["not JSON", err({ status: 200, transient: false }), "malformed"],
    ["bad redirect", err({ status: 302, transient: false }), "malformed"],
    ["invalid tag", err({ code: "TAG_INVALID", transient: false }), "malformed"],
    ["503", err({ status: 503, transient: true }), undefined],
    ["429", err({ status: 429, code: "TOOMANYREQUESTS", transient: true }), undefined],
    ["timeout", err({ transient: true }), undefined],
    [
      "API server 503",
      new KubeApiError({ status: 503, reason: "", message: "", method: "GET", path: "/" }),
      undefined,
    ],
    ["network", new TypeError("fetch failed"), undefined],
  ];
  for (const [what, failure, reason] of table) {
    assert.equal(isFinal(failure), reason !== undefined, what);
    if (isFinal(failure)) assert.equal(finalReason(failure), reason, what);
  }
});
