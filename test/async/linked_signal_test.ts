import assert from "node:assert/strict";
import { linkSignals } from "../../lib/async/linked_signal.ts";

Deno.test("linkSignals: aborts with the first source's reason, absent sources skipped", () => {
  const a = new AbortController();
  const b = new AbortController();
  const link = linkSignals(a.signal, undefined, b.signal, null);
  assert.equal(link.signal.aborted, false);
  b.abort("b first");
  a.abort("a later");
  assert.equal(link.signal.aborted, true);
  assert.equal(link.signal.reason, "b first");
  link.unlink();
});

Deno.test("linkSignals: a source already aborted aborts at once", () => {
  const link = linkSignals(AbortSignal.abort("done"));
  assert.equal(link.signal.reason, "done");
});

Deno.test("linkSignals: after unlink a source's abort no longer reaches it", () => {
  const a = new AbortController();
  const link = linkSignals(a.signal);
  link.unlink();
  a.abort();
  assert.equal(link.signal.aborted, false);
});
