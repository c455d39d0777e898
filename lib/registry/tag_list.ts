/**
 * A tags list page (`{"name": "…", "tags": ["…", …]}`) read as it streams in: each tag is
 * handed over as soon as it ends, and a string longer than any tag can be is never held, so a
 * page costs memory in proportion to the valid tags it lists, not to its bytes.
 *
 * @module
 */

/** The page is not a JSON object with a `tags` array of strings (or `null`). */
export class MalformedTagList extends Error {
  override name = "MalformedTagList";
}

/** Longest string held whole; a tag is at most 128 characters, an escape 6 bytes each. */
const MAX_HELD = 6 * 128;
/** Longest number or literal (`true`, `false`, `null`) accepted anywhere in the page. */
const MAX_LITERAL = 64;
const LITERAL = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

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
 * `onTag` as it ends (decoded), or, when longer than any tag may be, its first 64 characters
 * to `onTooLong`; throws {@linkcode MalformedTagList} for anything that is not such a page.
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
  /** The current string's first bytes: `#heldLength` of them, at most MAX_HELD. */
  #held = new Uint8Array(MAX_HELD);
  #heldLength = 0;
  #heldCut = false;
  #escaped = false;
  #literal = "";

  constructor(onTag: (tag: string) => void, onTooLong: (head: string) => void) {
    this.#onTag = onTag;
    this.#onTooLong = onTooLong;
  }

  /** Read the next bytes of the page. */
  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.#where === Where.Text) {
        if (this.#escaped) this.#escaped = false;
        else if (b === BACKSLASH) this.#escaped = true;
        else if (b === QUOTE) {
          this.#endString();
          continue;
        }
        if (this.#heldLength < MAX_HELD) this.#held[this.#heldLength++] = b;
        else this.#heldCut = true;
        continue;
      }
      if (this.#where === Where.Literal) {
        if (isLiteralByte(b)) {
          if (this.#literal.length >= MAX_LITERAL) throw malformed("a number or literal too long");
          this.#literal += String.fromCharCode(b);
          continue;
        }
        this.#endLiteral();
      }
      this.#structure(b);
    }
  }

  /**
   * The page ended. Throws {@linkcode MalformedTagList} for a page cut short or without
   * `tags` (`"tags": null`, a repository whose tags were all deleted, lists none).
   */
  end(): void {
    if (this.#where === Where.Literal) this.#endLiteral();
    if (this.#where !== Where.End) throw malformed("the page ends inside its JSON");
    if (!this.#sawTags) throw malformed("no tags array");
  }

  #structure(b: number): void {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) return;
    if (this.#where === Where.End) throw malformed("more after the JSON value");
    const top = this.#stack.at(-1);
    if (b === QUOTE) {
      this.#beginValue(top, "string");
      this.#where = Where.Text;
      this.#heldLength = 0;
      this.#heldCut = false;
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
    const text = () => {
      const raw = new TextDecoder().decode(this.#held.subarray(0, this.#heldLength));
      try {
        return JSON.parse(`"${raw}"`) as string;
      } catch {
        throw malformed("a string with a broken escape");
      }
    };
    if (top.kind === "object" && top.wantKey) {
      top.wantKey = false;
      // Only the top-level keys matter; a long key is no key we look for.
      if (this.#stack.length === 1) this.#key = this.#heldCut ? undefined : text();
      return;
    }
    if (!this.#inTags || this.#stack.length !== 2) return;
    if (this.#heldCut) this.#onTooLong(new TextDecoder().decode(this.#held.subarray(0, 64)));
    else this.#onTag(text());
  }

  #endLiteral(): void {
    this.#where = this.#stack.length === 0 ? Where.End : Where.Value;
    if (!LITERAL.test(this.#literal)) throw malformed(`not JSON: ${this.#literal.slice(0, 16)}`);
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
