/**
 * Reading a configuration file that may be YAML or JSON, loading the YAML parser only for
 * YAML: it is the largest module Argoos has and took 20 to 50 ms of every start, while
 * in-cluster Argoos reads no YAML at all.
 *
 * @module
 */

/**
 * The document in `text`: JSON when it parses as such, YAML otherwise. Throws the YAML
 * parser's error when it is neither.
 *
 * @example
 * ```ts
 * import { parseYamlOrJson } from "./yaml.ts";
 * await parseYamlOrJson('{"a": 1}'); // { a: 1 }
 * await parseYamlOrJson("a: 1"); // { a: 1 }
 * ```
 */
export async function parseYamlOrJson(text: string): Promise<unknown> {
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // YAML flow style (`{a: 1}`) is not JSON: the YAML parser reads it.
    }
  }
  const { parse } = await import("yaml");
  return parse(text);
}
