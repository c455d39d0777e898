import assert from "node:assert/strict";
import { chunkSize, contentLength, isChunked, keepsAlive } from "../../lib/io/http1.ts";

Deno.test("contentLength: decimal digits, copies that agree; anything else is malformed", () => {
  const cases: [string, number | undefined][] = [
    ["0", 0],
    ["42", 42],
    [" 42 ", 42],
    ["42, 42", 42],
    ["999999999999999", 999999999999999],
    ["1000000000000000", undefined], // 16 digits
    ["3, 5", undefined],
    ["0x2a", undefined],
    ["3e0", undefined],
    ["-1", undefined],
    ["+1", undefined],
    ["1.0", undefined],
    ["", undefined],
    ["42,", undefined],
  ];
  for (const [value, want] of cases) {
    assert.equal(contentLength(value), want, JSON.stringify(value));
  }
});

Deno.test("isChunked: chunked as the last coding only", () => {
  const cases: [string, boolean][] = [
    ["chunked", true],
    ["Chunked", true],
    ["gzip, chunked", true],
    ["gzip,chunked ", true],
    ["chunked, gzip", false],
    ["xchunked", false],
    ["chunkedx", false],
    ["gzip", false],
    ["", false],
  ];
  for (const [value, want] of cases) assert.equal(isChunked(value), want, JSON.stringify(value));
});

Deno.test("keepsAlive: HTTP/1.1 unless close, HTTP/1.0 only with keep-alive, as whole options", () => {
  const cases: [string, string, boolean][] = [
    ["1", "", true],
    ["1", "close", false],
    ["1", "Close", false],
    ["1", "keep-alive, close", false],
    ["1", "closed", true],
    ["1", "x-close", true],
    ["1", "upgrade", true],
    ["0", "", false],
    ["0", "keep-alive", true],
    ["0", "Keep-Alive, upgrade", true],
    ["0", "no-keep-alive", false],
  ];
  for (const [minor, connection, want] of cases) {
    assert.equal(keepsAlive(minor, connection), want, `HTTP/1.${minor} ${connection}`);
  }
});

Deno.test("chunkSize: up to 8 hex digits, then extensions; anything else is malformed", () => {
  const cases: [string, number | undefined][] = [
    ["0", 0],
    ["1a", 26],
    ["1A", 26],
    ["ffffffff", 0xffffffff],
    ["1a;name=value", 26],
    ["1a ;x", 26],
    ["100000000", undefined], // 9 digits
    [" 1a", undefined],
    ["0x3", undefined],
    ["3 junk", undefined],
    ["-1", undefined],
    ["", undefined],
  ];
  for (const [line, want] of cases) assert.equal(chunkSize(line), want, JSON.stringify(line));
});
