/**
 * Where notifications go: `NAME=URL` specs, the URL's scheme picking the format, and the
 * secret that signs a CloudEvents sink's deliveries.
 *
 * @module
 */

/** The payload a sink receives. */
export type SinkFormat = "cloudevents" | "slack" | "teams";

/** One configured sink. The URL is a credential (a Slack or Teams webhook): never logged. */
export interface SinkSpec {
  /** The sink's name, as in metrics and logs. */
  name: string;
  /** The payload it receives, from the URL's scheme. */
  format: SinkFormat;
  /** The URL requests go to (the `slack+`/`teams+` prefix removed). */
  url: string;
  /** Standard Webhooks signing secret (CloudEvents sinks only). */
  secret?: string;
}

/** A sink spec that cannot be used; its message names the sink, never its URL. */
export class SinkSpecError extends Error {
  override name = "SinkSpecError";
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const FORMATS: Readonly<Record<string, SinkFormat>> = {
  "": "cloudevents",
  slack: "slack",
  teams: "teams",
};

/**
 * Read `NAME=URL`: `https://…` (or `http://…`) is a CloudEvents endpoint, `slack+https://…` a
 * Slack incoming webhook, `teams+https://…` a Teams Workflows webhook.
 *
 * @example
 * ```ts
 * import { parseSink } from "./sinks.ts";
 * parseSink("chat=slack+https://hooks.slack.com/services/T0/B0/x");
 * // { name: "chat", format: "slack", url: "https://hooks.slack.com/services/T0/B0/x" }
 * ```
 */
export function parseSink(spec: string): SinkSpec {
  const eq = spec.indexOf("=");
  const name = spec.slice(0, eq).trim();
  if (eq < 0 || !NAME.test(name)) {
    throw new SinkSpecError(
      `--notify "${
        eq < 0 ? "…" : name
      }=…": expected NAME=URL, NAME in lower-case letters, digits, - and _`,
    );
  }
  const m = /^(?:(slack|teams)\+)?(https?):\/\/[^\s]+$/.exec(spec.slice(eq + 1).trim());
  let url: URL | undefined;
  try {
    if (m) url = new URL(m[0].slice(m[1] ? m[1].length + 1 : 0));
  } catch { /* reported below */ }
  if (!m || !url || url.username || url.password) {
    throw new SinkSpecError(
      `--notify ${name}: the URL must be http(s)://, slack+http(s):// or teams+http(s):// with no user:password`,
    );
  }
  return { name, format: FORMATS[m[1] ?? ""], url: url.href };
}

/**
 * Every sink from repeated `--notify` values, each of which may list several, comma-separated
 * (as the `NOTIFY` variable does); a name given twice is refused.
 *
 * @example
 * ```ts
 * import { parseSinks } from "./sinks.ts";
 * parseSinks(["ops=https://hooks.example.com/argoos,chat=teams+https://example.com/wf"]).length; // 2
 * ```
 */
export function parseSinks(values: readonly string[]): SinkSpec[] {
  const sinks = values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean)
    .map(parseSink);
  const seen = new Set<string>();
  for (const s of sinks) {
    if (seen.has(s.name)) throw new SinkSpecError(`--notify ${s.name} is given twice`);
    seen.add(s.name);
  }
  return sinks;
}

/**
 * The environment variable holding a sink's secret: `NOTIFY_SECRET_` and the name in upper
 * case, `-` as `_`.
 *
 * @example
 * ```ts
 * import { secretVariable } from "./sinks.ts";
 * secretVariable("ops-eu"); // "NOTIFY_SECRET_OPS_EU"
 * ```
 */
export function secretVariable(name: string): string {
  return `NOTIFY_SECRET_${name.toUpperCase().replaceAll("-", "_")}`;
}
