import assert from "node:assert/strict";

Deno.test({
  name: "releaseFreeMemory gives the allocator's free memory back to the system",
  // Deno trims glibc's arenas when a worker ends on Linux only; elsewhere it does nothing.
  ignore: Deno.build.os !== "linux",
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--expose-gc",
        new URL("./free_memory_child.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stderr, "");
    const { freed, released } = JSON.parse(new TextDecoder().decode(out.stdout));
    // 36 MB were freed into the arenas; a worker that ends makes Deno trim them.
    assert.ok(freed - released > 10, `resident ${freed} MB before, ${released} MB after`);
  },
});
