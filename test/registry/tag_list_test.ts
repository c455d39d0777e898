/**
 * The tags list page read as it streams in (TagListReader): the same tags as JSON.parse for
 * any split of the bytes, never a long string held, and malformed pages refused, whether the
 * page is small enough to be parsed whole or large enough to be streamed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MalformedTagList, TagListReader } from "../../lib/registry/tag_list.ts";

/** Whitespace that makes a page too large to be parsed whole: it is streamed. */
const PAD = " ".repeat(256 * 1024);

/** What the reader hands over for `text` pushed in chunks of `size` bytes. */
function read(text: string | Uint8Array, size = Infinity) {
  const tags: string[] = [];
  const long: string[] = [];
  const reader = new TagListReader((t) => tags.push(t), (h) => long.push(h));
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let at = 0; at < bytes.length; at += Math.min(size, bytes.length)) {
    reader.push(bytes.subarray(at, Math.min(at + size, bytes.length)));
  }
  reader.end();
  return { tags, long };
}

Deno.test("tag list reader: the tags JSON.parse finds, however the bytes are split", () => {
  const pages = [
    '{"name":"library/app","tags":["1.0.0","1.1.0","latest"]}',
    ' { "tags" : [ "a" , "b" ] , "name" : "x" } \n',
    '{"name":"x","tags":[]}',
    '{"name":"x","tags":null}',
    '{"child":{"tags":["not","these"]},"tags":["these"],"n":[1,2.5,-3e2,true,false,null]}',
    '{"tags":["esc\\u0061ped","quote\\"d","back\\\\slash"],"other":"\\"]}"}',
    '{"tags":["ünïcödé"]}',
    `{"tags":["a"],"n":[${"9".repeat(100)},-${"1".repeat(70)}]}`,
  ];
  for (const page of pages) {
    const want = (JSON.parse(page).tags ?? []) as string[];
    for (const size of [1, 2, 3, 7, 4096, Infinity]) {
      assert.deepEqual(read(page + PAD, size).tags, want, `${page}, streamed in ${size}s`);
    }
    assert.deepEqual(read(page, 3).tags, want, `${page}, parsed whole`);
  }
});

Deno.test("tag list reader: a string longer than any tag is never held, only its head told", () => {
  const huge = "x".repeat(3_900_000);
  const { tags, long } = read(`{"tags":["1.0","${huge}","1.1"],"name":"${huge}"}`, 65_536);
  assert.deepEqual(tags, ["1.0", "1.1"]);
  assert.deepEqual(long, ["x".repeat(64)]);
  // At the held bound: still whole (the grammar refuses it later, by length).
  for (const pad of [PAD, ""]) {
    assert.deepEqual(read(`{"tags":["${"y".repeat(768)}"]}${pad}`).tags, ["y".repeat(768)]);
    assert.deepEqual(read(`{"tags":["${"y".repeat(769)}"]}${pad}`).long, ["y".repeat(64)]);
  }
});

Deno.test("tag list reader: anything but an object with a tags array of strings is refused", () => {
  const malformed = [
    "",
    "[]",
    '"tags"',
    "{}",
    '{"name":"x"}',
    '{"tags":"1.0"}',
    '{"tags":{"a":"1.0"}}',
    '{"tags":[1]}',
    '{"tags":[["1.0"]]}',
    '{"tags":[null]}',
    '{"tags":["1.0"]',
    '{"tags":["1.0"]}}',
    '{"tags":["1.0"]} {}',
    '{"tags":["1.0]}',
    "<html>not json</html>",
    '{"tags":["1.0"],"n":tru}',
    '{"tags":["1.0"],"n":1e}',
    '{1:"a","tags":[]}',
    '{"tags":["bad \\x escape"]}',
  ];
  for (const page of malformed) {
    assert.throws(() => read(page + PAD, 4096), MalformedTagList, `streamed: ${page}`);
    assert.throws(() => read(page), MalformedTagList, `whole: ${page}`);
  }
});
