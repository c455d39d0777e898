/**
 * A tags list page (`{"name": "…", "tags": ["…", …]}`) read as it streams in: each tag is
 * handed over as soon as it ends, and a string longer than any tag can be is never held, so a
 * page costs memory in proportion to the valid tags it lists, not to its bytes. A page of up
 * to 256 KiB (nearly all: 1,000 tags are about 10 KiB) is kept and parsed whole by
 * `JSON.parse`, several times faster than reading byte by byte in JavaScript.
 *
 * @module
 */

/** The page is not a JSON object with a `tags` array of strings (or `null`). */
export class MalformedTagList extends Error {
  override name = "MalformedTagList";
}

/** Longest string held whole; a tag is at most 128 characters, an escape 6 bytes each. */
const MAX_HELD = 6 * 128;
/** Largest page kept and parsed whole; a larger one is read as it streams in. */
const WHOLE_BYTES = 256 * 1024;
/** Characters of a number or literal (`true`, `false`, `null`) held to check it. */
const MAX_LITERAL = 64;
const LITERAL = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

const DECODER = new TextDecoder();
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const enum Where {
  /** Before the top-level value. */
  Start,
  /** Inside a container, before a value (or a key in an object). */
  Value,
  /** Inside a string. */
  Text,
  /** Inside a number or literal. */
  Literal,
  /** After the top-level value. */
  End,
}

interface Frame {
  kind: "object" | "array";
  /** In an object: the next string is a key (not a value). */
  wantKey: boolean;
}

/**
 * Reads one page chunk by chunk: {@linkcode TagListReader.push} each chunk, then
 * {@linkcode TagListReader.end}. Every string in the top-level `tags` array is passed to
 * `onTag` (decoded) as it ends, or at the end for a page parsed whole; when longer than any
 * tag may be, only its first 64 characters, to `onTooLong`. Throws (from either) a
 * {@linkcode MalformedTagList} for anything that is not such a page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TagListReader } from "./tag_list.ts";
 * const tags: string[] = [];
 * const reader = new TagListReader((t) => tags.push(t), () => {});
 * const bytes = new TextEncoder().encode('{"name":"app","tags":["1.0","1.1"]}');
 * reader.push(bytes.subarray(0, 20));
 * reader.push(bytes.subarray(20));
 * reader.end();
 * assert.deepEqual(tags, ["1.0", "1.1"]);
 * ```
 */
export class TagListReader {
  #onTag: (tag: string) => void;
  #onTooLong: (head: string) => void;
  #where = Where.Start;
  #stack: Frame[] = [];
  /** The key the value being read belongs to, in the top-level object. */
  #key?: string;
  /** Reading the top-level `tags` array. */
  #inTags = false;
  /** Whether a `tags` key was seen (with an array or null). */
  #sawTags = false;
  /** The current string's first bytes, at most MAX_HELD (numbers: cheapest to make text of). */
  #held: number[] = [];
  #heldCut = false;
  #nonAscii = false;
  /** Whether the current string is one we read: a top-level key, or a tag. */
  #wanted = false;
  #escaped = false;
  #sawEscape = false;
  #literal = "";
  /** The page so far while it is small enough to parse whole; undefined once streaming. */
  #small?: Uint8Array[] = [];
  #smallBytes = 0;

  constructor(onTag: (tag: string) => void, onTooLong: (head: string) => void) {
    this.#onTag = onTag;
    this.#onTooLong = onTooLong;
  }

  /** Read the next bytes of the page. */
  push(chunk: Uint8Array): void {
    if (this.#small) {
      this.#smallBytes += chunk.length;
      if (this.#smallBytes <= WHOLE_BYTES) {
        this.#small.push(chunk);
        return;
      }
      // Too large to keep: what came so far is read as it would have streamed.
      const before = this.#small;
      this.#small = undefined;
      for (const c of before) this.#scan(c);
    }
    this.#scan(chunk);
  }

  #scan(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#where === Where.Text) {
        if (this.#escaped) {
          this.#escaped = false;
          this.#hold(chunk, i, ++i);
          continue;
        }
        // The run up to the next quote or backslash, in one step.
        let j = i;
        while (j < n && chunk[j] !== QUOTE && chunk[j] !== BACKSLASH) j++;
        this.#hold(chunk, i, j);
        if (j === n) return;
        if (chunk[j] === BACKSLASH) {
          this.#escaped = this.#sawEscape = true;
          this.#hold(chunk, j, j + 1);
        } else this.#endString();
        i = j + 1;
        continue;
      }
      const b = chunk[i++];
      if (this.#where === Where.Literal) {
        if (isLiteralByte(b)) {
          if (this.#literal.length < MAX_LITERAL) this.#literal += String.fromCharCode(b);
          else if (b < 0x30 || b > 0x39) throw malformed("a long literal that is not a number");
          continue;
        }
        this.#endLiteral();
      }
      this.#structure(b);
    }
  }

  /** Keep `chunk[from, to)` of a string we want, up to MAX_HELD bytes. */
  #hold(chunk: Uint8Array, from: number, to: number): void {
    if (!this.#wanted) return;
    const held = this.#held;
    let k = from;
    for (; k < to && held.length < MAX_HELD; k++) {
      const b = chunk[k];
      if (b >= 0x80) this.#nonAscii = true;
      held.push(b);
    }
    if (k < to) this.#heldCut = true;
  }

  /**
   * The page ended. Throws {@linkcode MalformedTagList} for a page cut short or without
   * `tags` (`"tags": null`, a repository whose tags were all deleted, lists none).
   */
  end(): void {
    if (this.#small) return this.#parseWhole(this.#small);
    if (this.#where === Where.Literal) this.#endLiteral();
    if (this.#where !== Where.End) throw malformed("the page ends inside its JSON");
    if (!this.#sawTags) throw malformed("no tags array");
  }

  /** A small page, parsed at once: the same tags, and the same refusals, as streaming it. */
  #parseWhole(chunks: Uint8Array[]): void {
    let page: unknown;
    try {
      page = JSON.parse(
        chunks.map((c) => DECODER.decode(c, { stream: true })).join("") + DECODER.decode(),
      );
    } catch {
      throw malformed("not JSON");
    }
    if (page === null || typeof page !== "object" || Array.isArray(page)) {
      throw malformed("not a JSON object");
    }
    if (!("tags" in page)) throw malformed("no tags array");
    const { tags } = page;
    if (tags === null) return;
    if (!Array.isArray(tags)) throw malformed("tags is not an array");
    if (!tags.every((t) => typeof t === "string")) throw malformed("a tag that is not a string");
    for (const t of tags as string[]) {
      if (t.length > MAX_HELD) this.#onTooLong(t.slice(0, 64));
      else this.#onTag(t);
    }
  }

  #structure(b: number): void {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) return;
    if (this.#where === Where.End) throw malformed("more after the JSON value");
    const top = this.#stack.at(-1);
    if (b === QUOTE) {
      this.#beginValue(top, "string");
      this.#where = Where.Text;
      this.#held.length = 0;
      this.#heldCut = false;
      this.#nonAscii = false;
      this.#sawEscape = false;
      this.#wanted = this.#stack.length === 1
        ? top!.wantKey
        : this.#inTags && this.#stack.length === 2;
      return;
    }
    if (b === 0x3a /* : */) {
      if (top?.kind !== "object" || top.wantKey) throw malformed("a stray colon");
      return;
    }
    if (b === 0x2c /* , */) {
      if (!top) throw malformed("a stray comma");
      if (top.kind === "object") top.wantKey = true;
      return;
    }
    if (b === 0x7b /* { */ || b === 0x5b /* [ */) {
      const kind = b === 0x7b ? "object" : "array";
      this.#beginValue(top, kind);
      if (this.#stack.length === 1 && this.#key === "tags") {
        if (kind !== "array") throw malformed("tags is not an array");
        this.#inTags = true;
        this.#sawTags = true;
      }
      this.#stack.push({ kind, wantKey: kind === "object" });
      this.#where = Where.Value;
      return;
    }
    if (b === 0x7d /* } */ || b === 0x5d /* ] */) {
      const kind = b === 0x7d ? "object" : "array";
      if (top?.kind !== kind) throw malformed("mismatched brackets");
      this.#stack.pop();
      if (this.#stack.length === 1) this.#inTags = false;
      this.#where = this.#stack.length === 0 ? Where.End : Where.Value;
      return;
    }
    if (isLiteralByte(b)) {
      this.#beginValue(top, "literal");
      this.#where = Where.Literal;
      this.#literal = String.fromCharCode(b);
      return;
    }
    throw malformed(`unexpected byte 0x${b.toString(16)}`);
  }

  /** A value (or key) of `kind` begins inside `top`: check it may, and what it is for. */
  #beginValue(top: Frame | undefined, kind: "string" | "object" | "array" | "literal"): void {
    if (!top) {
      if (this.#where !== Where.Start) throw malformed("more than one value");
      if (kind !== "object") throw malformed("not a JSON object");
      return;
    }
    if (top.kind === "object" && top.wantKey && kind !== "string") {
      throw malformed("an object key that is not a string");
    }
    if (this.#inTags && this.#stack.length === 2 && kind !== "string") {
      throw malformed("a tag that is not a string");
    }
  }

  #endString(): void {
    this.#where = Where.Value;
    const top = this.#stack.at(-1)!;
    const isKey = top.kind === "object" && top.wantKey;
    if (isKey) top.wantKey = false;
    if (!this.#wanted) return;
    if (this.#heldCut) {
      // Only the top-level keys matter, and a long key is none we look for.
      if (isKey) this.#key = undefined;
      else this.#onTooLong(DECODER.decode(Uint8Array.from(this.#held.slice(0, 64))));
      return;
    }
    const text = this.#text();
    if (isKey) this.#key = text;
    else this.#onTag(text);
  }

  /** The string held, decoded. */
  #text(): string {
    // Tags are ASCII: made directly, several times cheaper than a TextDecoder call each.
    const raw = this.#nonAscii
      ? DECODER.decode(Uint8Array.from(this.#held))
      : String.fromCharCode.apply(null, this.#held);
    if (!this.#sawEscape) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      throw malformed("a string with a broken escape");
    }
  }

  #endLiteral(): void {
    this.#where = this.#stack.length === 0 ? Where.End : Where.Value;
    // A long number is checked by its head (its digits were checked as they came).
    const head = this.#literal.length < MAX_LITERAL
      ? this.#literal
      : this.#literal.replace(/\d+$/, "0");
    if (!LITERAL.test(head)) throw malformed(`not JSON: ${this.#literal.slice(0, 16)}`);
    // `"tags": null`: a repository whose tags were all deleted (distribution answers so).
    if (this.#stack.length === 1 && this.#key === "tags") {
      if (this.#literal !== "null") throw malformed("tags is not an array");
      this.#sawTags = true;
    }
  }
}

function isLiteralByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) ||
    b === 0x2d || b === 0x2b || b === 0x2e;
}

function malformed(why: string): MalformedTagList {
  return new MalformedTagList(`malformed tags list: ${why}`);
}
