import assert from "node:assert/strict";
import { RepositoryFacts } from "../../lib/reconcile/facts.ts";

const push = (tag: string, pushedAt: number, repository = "docker.io/library/app") => ({
  repository,
  tag,
  pushedAt,
  source: "distribution",
});

Deno.test("RepositoryFacts: ordered by push time, one per tag, bounded per repository", () => {
  const facts = new RepositoryFacts({ pushesPerRepository: 3 }, () => 1_000);
  for (const [tag, at] of [["a", 5], ["b", 3], ["c", 9], ["b", 7], ["a", 1], ["d", 8]] as const) {
    facts.recordPush(push(tag, at));
  }
  // a@1 is older than a@5 and ignored; b@7 replaced b@3; the oldest (a@5) went past 3.
  assert.deepEqual(facts.pushes("docker.io/library/app").map((p) => `${p.tag}@${p.pushedAt}`), [
    "b@7",
    "d@8",
    "c@9",
  ]);
});

Deno.test("RepositoryFacts: pushes age out; repositories are bounded, least recent first", () => {
  let now = 10_000;
  const facts = new RepositoryFacts({ maxAgeMs: 1_000, repositories: 2 }, () => now);
  // Aged by the time recorded: a registry clock years behind does not drop it at once.
  facts.recordPush(push("1", 5, "r/one"));
  assert.equal(facts.pushes("r/one").length, 1);
  facts.recordListing("r/two", ["x"], now);
  now = 11_100;
  assert.deepEqual(facts.pushes("r/one"), []);
  facts.recordPush(push("2", now, "r/three"));
  assert.equal(facts.listing("r/two")?.tags[0], "x");
  assert.equal(facts.pushes("r/three").length, 1);
  facts.recordPush(push("3", now, "r/four"));
  assert.equal(facts.listing("r/two"), undefined, "least recently recorded dropped");
});

Deno.test("RepositoryFacts: pushes are bounded in all, least recently recorded repositories first", () => {
  const facts = new RepositoryFacts({ maxPushes: 4, pushesPerRepository: 3 });
  const now = Date.now();
  for (const tag of ["1", "2", "3"]) facts.recordPush(push(tag, now, "r/a"));
  for (const tag of ["1", "2"]) facts.recordPush(push(tag, now, "r/b"));
  assert.equal(facts.pushes("r/a").length, 0, "r/a dropped whole to keep 4 pushes in all");
  assert.equal(facts.pushes("r/b").length, 2);
  // Many repositories of one push each: never more than maxPushes held.
  for (let i = 0; i < 100; i++) facts.recordPush(push("1", now, `r/many${i}`));
  let held = 0;
  for (let i = 0; i < 100; i++) held += facts.pushes(`r/many${i}`).length;
  assert.equal(held, 4);
});

Deno.test("RepositoryFacts: the same push delivered again keeps its first record time", () => {
  let now = 1_000;
  const facts = new RepositoryFacts({}, () => now);
  facts.recordPush({ ...push("1.2.4", 5), digest: "sha256:a" });
  now = 2_000;
  facts.recordPush({ ...push("1.2.4", 5), digest: "sha256:a" });
  const [again] = facts.pushes("docker.io/library/app");
  assert.equal(facts.recordedAt(again), 1_000);
  facts.recordPush({ ...push("1.2.4", 5), digest: "sha256:b" });
  const [moved] = facts.pushes("docker.io/library/app");
  assert.equal(moved.digest, "sha256:b");
  assert.equal(facts.recordedAt(moved), 2_000);
});

Deno.test("RepositoryFacts: a listing identical to the last keeps its tags object and is no change", () => {
  const facts = new RepositoryFacts({}, () => 1_000);
  assert.equal(facts.recordListing("r/app", ["1.0.0", "1.1.0"], 1), true, "first listing");
  const first = facts.listing("r/app")!.tags;
  assert.equal(facts.recordListing("r/app", ["1.0.0", "1.1.0"], 2), false);
  assert.equal(facts.listing("r/app")!.tags, first, "the same object: shared decisions hold");
  assert.equal(facts.listing("r/app")!.at, 2, "when it was listed still moves on");
  assert.equal(facts.recordListing("r/app", ["1.1.0", "1.0.0"], 3), true, "order counts");
  assert.equal(facts.recordListing("r/app", ["1.1.0", "1.0.0", "1.2.0"], 4), true, "a new tag");
  assert.deepEqual(facts.listing("r/app")!.tags, ["1.1.0", "1.0.0", "1.2.0"]);
  assert.equal(facts.recordListing("r/app", ["1.1.0", "1.0.0"], 5), true, "a tag gone");
});
