import assert from "node:assert/strict";
import { PushClient } from "../../bench/push_client.ts";
import { seededName } from "../../bench/fake_cluster_process.ts";
import { serveFront } from "../../lib/server/front.ts";
import { waitFor } from "../support/wait_for.ts";

/** A server on loopback answering each POST with the next of `answers` (then 200s). */
function serveAnswers(answers: Response[]) {
  const seen: { token: string | null; body: unknown }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push({ token: req.headers.get("x-argoos-token"), body: await req.json() });
    return answers.shift() ?? new Response("{}");
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

Deno.test("bench push client: a distribution push, sent again after a 503 and a closed connection", async () => {
  const server = serveAnswers([
    new Response("busy", { status: 503 }),
    new Response("{}", { headers: { connection: "close" } }),
  ]);
  const client = new PushClient(server.url, "t0ken", "127.0.0.1:5000");
  try {
    await client.push(7, 1);
    await client.push(8, 2); // on a new connection: the last answer closed the one before
    assert.equal(client.retried, 1);
    assert.equal(server.seen.length, 3);
    assert.deepEqual(server.seen.map((s) => s.token), ["t0ken", "t0ken", "t0ken"]);
    const [event] = (server.seen[2].body as {
      events: {
        action: string;
        target: { repository: string; tag: string };
        request: { host: string };
      }[];
    }).events;
    assert.deepEqual(
      [event.action, event.target.repository, event.target.tag, event.request.host],
      ["push", seededName(8), "1.0.2", "127.0.0.1:5000"],
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("bench push client: an answer other than 200 or 503 is an error naming it", async () => {
  const server = serveAnswers([new Response("no", { status: 401 })]);
  const client = new PushClient(server.url, "t0ken", "127.0.0.1:5000");
  try {
    await assert.rejects(client.push(1, 1), /answered 401: no/);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("bench push client: kept connections the service closed meanwhile are not failures", async () => {
  // Argoos's front closes a connection idle past its header deadline.
  let cut = 0;
  const front = serveFront(
    { hostname: "127.0.0.1", port: 0, headerTimeoutMs: 50, onCut: () => cut++ },
    () => new Response("{}"),
  );
  const client = new PushClient(`http://127.0.0.1:${front.addr.port}`, "t0ken", "r:5000");
  try {
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.push(i, 1)));
    await waitFor(() => cut === 8, "the front closes the eight idle connections");
    await client.push(9, 1); // more dead connections than the five failures allowed
    assert.equal(client.retried, 8);
  } finally {
    client.close();
    await front.shutdown();
  }
});
