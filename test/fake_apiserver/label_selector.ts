/**
 * Kubernetes label selector strings (`?labelSelector=`): parsing and matching.
 *
 * Supports `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`,
 * `k>n`, `k<n`; commas join requirements with AND.
 *
 * @module
 */

/** One parsed requirement. */
export type LabelRequirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" }
  | { key: string; op: ">" | "<"; value: number };

/**
 * A selector string that does not parse; the server answers 400.
 *
 * @example
 * ```ts
 * import { SelectorError } from "./label_selector.ts";
 * new SelectorError("bad").message; // "bad"
 * ```
 */
export class SelectorError extends Error {}

const PREFIX = String.raw`[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`;
const NAME = String.raw`[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const KEY_RE = new RegExp(`^(${PREFIX}/)?${NAME}$`);
const VALUE_RE = new RegExp(`^(${NAME})?$`);
const EQUALITY_RE = /^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/;
const SET_RE = /^([^\s=!<>(),]+)\s+(in|notin)\s*\((.*)\)$/;
const COMPARE_RE = /^([^\s=!<>(),]+)\s*([<>])\s*(\S+)$/;
const EXISTS_RE = /^(!?)\s*([^\s=!<>(),]+)$/;

/**
 * Parse a selector; the empty string selects everything.
 *
 * @example
 * ```ts
 * import { parseLabelSelector } from "./label_selector.ts";
 * parseLabelSelector("app=web,tier in (a,b),!legacy").length; // 3
 * ```
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (selector.trim() === "") return [];
  return splitTopLevel(selector).map((part) => parseRequirement(part.trim()));
}

/**
 * Whether labels satisfy every requirement (missing labels satisfy `!=`, `notin`, `!k`).
 *
 * @example
 * ```ts
 * import { matchLabels, parseLabelSelector } from "./label_selector.ts";
 * matchLabels(parseLabelSelector("app!=db"), { app: "web" }); // true
 * ```
 */
export function matchLabels(
  requirements: readonly LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  return requirements.every((r) => {
    const value = labels && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
    switch (r.op) {
      case "=":
        return value === r.value;
      case "!=":
        return value !== r.value;
      case "in":
        return value !== undefined && r.values.includes(value);
      case "notin":
        return value === undefined || !r.values.includes(value);
      case "exists":
        return value !== undefined;
      case "!exists":
        return value === undefined;
      case ">":
      case "<": {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        return r.op === ">" ? Number(value) > r.value : Number(value) < r.value;
      }
    }
  });
}

/** Split on commas that are not inside a parenthesised value set. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    if (depth < 0 || depth > 1) throw new SelectorError(`unbalanced parentheses in "${selector}"`);
    if (c === "," && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new SelectorError(`unbalanced parentheses in "${selector}"`);
  parts.push(selector.slice(start));
  return parts;
}

function parseRequirement(text: string): LabelRequirement {
  let m = SET_RE.exec(text);
  if (m) {
    const values = m[3].split(",").map((v) => v.trim());
    if (m[3].trim() === "") {
      throw new SelectorError(`for 'in', 'notin' operators, values set can't be empty`);
    }
    values.forEach(checkValue);
    return { key: checkKey(m[1]), op: m[2] as "in" | "notin", values };
  }
  m = EQUALITY_RE.exec(text);
  if (m) {
    return { key: checkKey(m[1]), op: m[2] === "!=" ? "!=" : "=", value: checkValue(m[3]) };
  }
  m = COMPARE_RE.exec(text);
  if (m) {
    if (!/^-?\d+$/.test(m[3])) {
      throw new SelectorError(`for 'Gt', 'Lt' operators, the value must be an integer`);
    }
    return { key: checkKey(m[1]), op: m[2] as ">" | "<", value: Number(m[3]) };
  }
  m = EXISTS_RE.exec(text);
  if (m) return { key: checkKey(m[2]), op: m[1] ? "!exists" : "exists" };
  throw new SelectorError(`unable to parse requirement: "${text}"`);
}

function checkKey(key: string): string {
  const name = key.slice(key.indexOf("/") + 1);
  if (!KEY_RE.test(key) || name.length > 63 || key.length - name.length > 254) {
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}"`);
  }
  return key;
}

function checkValue(value: string): string {
  if (!VALUE_RE.test(value) || value.length > 63) {
    throw new SelectorError(`unable to parse requirement: invalid label value: "${value}"`);
  }
  return value;
}
