/**
 * The default sink: stderr, a batch of info and debug lines per turn of the event loop, a
 * warning or an error at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { flushLog, Logger } from "../../lib/log/logger.ts";

/**
 * Runs `fn` with a debug logger on stderr, stderr's writes recorded (the messages of each
 * write) instead of made; `seen` can be read while `fn` runs.
 */
async function withStderr(
  fn: (log: Logger, seen: string[][]) => Promise<void> | void,
): Promise<string[][]> {
  const seen: string[][] = [];
  const decoder = new TextDecoder();
  const original = Deno.stderr.writeSync;
  Deno.stderr.writeSync = (bytes: Uint8Array) => {
    seen.push(decoder.decode(bytes).trimEnd().split("\n").map((l) => JSON.parse(l).msg));
    return bytes.length;
  };
  try {
    await fn(new Logger({ level: "debug" }), seen);
  } finally {
    flushLog();
    Deno.stderr.writeSync = original;
  }
  return seen;
}

Deno.test("info and debug lines of one turn go out in one write, in order, after it", async () => {
  const seen = await withStderr(async (log, seen) => {
    for (let i = 0; i < 100; i++) log.info(`line ${i}`);
    log.debug("last");
    assert.equal(seen.length, 0, "nothing written within the turn");
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(seen.length, 1, "written once the turn ended");
  });
  assert.deepEqual(seen, [[...Array.from({ length: 100 }, (_, i) => `line ${i}`), "last"]]);
});

Deno.test("a warning or an error is written at once, after the lines before it", async () => {
  const seen = await withStderr((log, seen) => {
    log.info("one");
    log.warn("two");
    assert.deepEqual(seen, [["one", "two"]]);
    log.error("three");
    assert.deepEqual(seen, [["one", "two"], ["three"]]);
  });
  assert.equal(seen.length, 2, "nothing left to write");
});

Deno.test("flushLog writes what waits; 64 KiB waiting are written without waiting for the turn", async () => {
  const seen = await withStderr((log, seen) => {
    log.info("before exit");
    flushLog();
    assert.deepEqual(seen, [["before exit"]]);
    for (let i = 0; i < 1000; i++) log.info("x".repeat(100));
    // About 150 characters a line: 1,000 lines are more than two batches' worth.
    assert.ok(seen.length >= 3, `${seen.length} writes`);
  });
  assert.equal(seen.slice(1).flat().length, 1000);
});

Deno.test("lines waiting when an uncaught rejection ends the process are written first", async () => {
  const logger = new URL("../../lib/log/logger.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { Logger } from "${logger}";
setTimeout(() => {
  new Logger().info("the last words");
  Promise.reject(new Error("crash"));
}, 0);
`,
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.notEqual(code, 0);
    const lines = new TextDecoder().decode(stderr).split("\n").filter((l) => l.startsWith("{"));
    assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["the last words"]);
  } finally {
    await Deno.remove(script);
  }
});
