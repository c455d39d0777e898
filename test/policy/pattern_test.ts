import assert from "node:assert/strict";
import {
  compilePattern,
  LINEAR_ENGINE_FLAG,
  linearEngineAvailable,
  matchTag,
  MAX_PATTERN_LENGTH,
  MAX_TAG_LENGTH,
  type TagPattern,
} from "../../lib/policy/pattern.ts";

const RUN_WITH = `run with \`deno task test\` or DENO_V8_FLAGS=${LINEAR_ENGINE_FLAG}`;

Deno.test("the test run has V8's linear-time regexp engine", () => {
  assert.ok(linearEngineAvailable(), `patterns need the linear engine: ${RUN_WITH}`);
});

function compiled(source: string): TagPattern {
  const p = compilePattern(source);
  assert.ok(typeof p !== "string", `${source} compiles: ${p}`);
  return p;
}

const matches: [name: string, pattern: string, tag: string, want: boolean][] = [
  ["whole tag: no implicit prefix match", "main", "main-1", false],
  ["whole tag: no implicit suffix match", "1", "v1", false],
  ["whole tag: alternation is wrapped", "a|b", "ab", false],
  ["alternation matches one branch", "a|b", "b", true],
  ["explicit anchors still work", "^main-[0-9]+$", "main-12", true],
  ["timestamp scheme", "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$", "main-1a2b3c4-1732800000", true],
  ["timestamp scheme, other branch", "^main-[0-9a-f]{7}-(?<ts>[0-9]+)$", "dev-1a2b3c4-1", false],
  ["case-sensitive", "alpine", "Alpine", false],
  ["128 characters match", "a+", "a".repeat(MAX_TAG_LENGTH), true],
  ["129 characters never match", "a+", "a".repeat(MAX_TAG_LENGTH + 1), false],
];

for (const [name, source, tag, want] of matches) {
  Deno.test(`matchTag: ${name}`, () => {
    assert.equal(matchTag(compiled(source), tag) !== undefined, want);
  });
}

Deno.test("compilePattern: groups are counted and named", () => {
  const p = compiled("^(?<branch>[a-z]+)-([0-9a-f]{7})-(?<ts>[0-9]+)$");
  assert.equal(p.groupCount, 3);
  assert.deepEqual(p.groupNames, ["branch", "ts"]);
  assert.equal(matchTag(p, "main-1a2b3c4-17")?.groups?.ts, "17");
  assert.equal(matchTag(p, "main-1a2b3c4-17")?.[2], "1a2b3c4");
});

const refused: [name: string, pattern: string, want: RegExp][] = [
  ["empty", "", /^empty pattern$/],
  ["does not compile", "([0-9]+", /^does not compile: /],
  ["unbalanced bracket", "[a-", /^does not compile: /],
  ["too long", "a".repeat(MAX_PATTERN_LENGTH + 1), /^longer than 1024 characters$/],
  ["backreference", "(a+)\\1", /cannot run in linear time/],
  ["named backreference", "(?<x>a)\\k<x>", /cannot run in linear time/],
  ["lookahead", "(?=v)v[0-9]+", /cannot run in linear time/],
  ["negative lookahead", "(?!latest).*", /cannot run in linear time/],
  ["huge counted repetition", "(?:(?:a{0,100}){0,100}){0,100}", /cannot run in linear time/],
];

for (const [name, source, want] of refused) {
  Deno.test(`compilePattern refuses: ${name}`, () => {
    const got = compilePattern(source);
    assert.equal(typeof got, "string");
    assert.match(got as string, want);
  });
}

/** Patterns that backtrack exponentially (or as n^4) on a backtracking engine. */
const CATASTROPHIC: [pattern: string, tag: string][] = [
  ["^(a+)+$", "a".repeat(127) + "!"],
  ["(a|a)*", "a".repeat(127) + "!"],
  ["(a|aa)*b", "a".repeat(128)],
  ["(?:(a*)*)*b", "a".repeat(128)],
  ["([0-9]+)*x", "1".repeat(128)],
  ["[0-9]*[0-9]*[0-9]*[0-9]*x", "1".repeat(128)],
  ["(.*-)*.*-$", "-".repeat(64) + "a".repeat(64)],
];

for (const [source, tag] of CATASTROPHIC) {
  Deno.test(`matchTag: ${source} on ${tag.length} characters ends within 100 ms`, () => {
    const p = compiled(source);
    const start = performance.now();
    for (let i = 0; i < 10; i++) assert.equal(matchTag(p, tag), undefined);
    const perMatch = (performance.now() - start) / 10;
    assert.ok(perMatch < 100, `${perMatch.toFixed(2)} ms per match`);
  });
}

Deno.test("without the V8 option every pattern is refused, never run unguarded", async () => {
  const code = `import { compilePattern } from ${
    JSON.stringify(new URL("../../lib/policy/pattern.ts", import.meta.url).href)
  };
console.log(JSON.stringify(compilePattern("^(a+)+$")));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", code],
    // Without DENO_V8_FLAGS, whatever this run was started with.
    clearEnv: true,
    env: Object.fromEntries(
      ["PATH", "HOME", "DENO_DIR"].flatMap((k) => {
        const v = Deno.env.get(k);
        return v === undefined ? [] : [[k, v]];
      }),
    ),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.match(got, /need V8's linear-time regexp engine/);
});
