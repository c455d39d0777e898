import assert from "node:assert/strict";
import { RETIRED_CLIENT_LIFETIME_MS, RetiredClients } from "../../lib/kube/retired_clients.ts";

function client(closed: string[], name: string) {
  return { close: () => closed.push(name) };
}

Deno.test("RetiredClients: a client set aside is closed at a rotation its lifetime later, not before", () => {
  const closed: string[] = [];
  const retired = new RetiredClients();
  retired.add(client(closed, "first"), 0);
  // A rotation soon after: the first may still carry a watch.
  retired.add(client(closed, "second"), RETIRED_CLIENT_LIFETIME_MS - 1);
  assert.deepEqual(closed, []);
  assert.equal(retired.size, 2);
  // Rotations once a day keep one set aside, not one per rotation.
  retired.add(client(closed, "third"), RETIRED_CLIENT_LIFETIME_MS * 2);
  assert.deepEqual(closed, ["first", "second"]);
  assert.equal(retired.size, 1);
});

Deno.test("RetiredClients: closeAll closes every client set aside, once", () => {
  const closed: string[] = [];
  const retired = new RetiredClients();
  retired.add(client(closed, "a"), 0);
  retired.add(client(closed, "b"), 1);
  retired.closeAll();
  retired.closeAll();
  assert.deepEqual(closed, ["a", "b"]);
  assert.equal(retired.size, 0);
});
