/**
 * A notification as each kind of sink expects it: a CloudEvent (structured mode), a Slack
 * incoming-webhook message, a Teams Workflows message carrying an Adaptive Card.
 *
 * @module
 */

import type { Notification } from "./notification.ts";
import type { SinkFormat } from "./sinks.ts";

/** What goes on the wire. */
export interface Payload {
  contentType: string;
  body: string;
}

/** One line per notification type, for people. */
const TITLES: Readonly<Record<Notification["type"], string>> = {
  "io.argoos.rollout.applied": "Rolled out",
  "io.argoos.rollout.succeeded": "Rollout succeeded",
  "io.argoos.rollout.failed": "Rollout failed",
  "io.argoos.rollout.reverted": "Reverted",
  "io.argoos.update.pending": "Update pending",
  "io.argoos.update.available": "Update available",
  "io.argoos.update.refused": "Update refused",
  "io.argoos.manual-change": "Changed by hand",
};

/**
 * The body of a notification in a sink's format.
 *
 * @example
 * ```ts
 * import { payloadOf } from "./formats.ts";
 * const n = {
 *   id: "1", type: "io.argoos.rollout.applied" as const, source: "argoos/prod",
 *   time: "2026-01-01T00:00:00.000Z", subject: "shop/deployment/web", severity: "Normal" as const,
 *   data: { namespace: "shop", kind: "Deployment", name: "web", reason: "ImageUpdated", message: "web: a:1 → a:2" },
 *   changes: [{ container: "web", from: "a:1", to: "a:2" }],
 * };
 * payloadOf("cloudevents", n).contentType; // "application/cloudevents+json; charset=utf-8"
 * JSON.parse(payloadOf("slack", n).body).text; // "Rolled out: Deployment shop/web"
 * ```
 */
export function payloadOf(format: SinkFormat, n: Notification): Payload {
  switch (format) {
    case "cloudevents":
      return {
        contentType: "application/cloudevents+json; charset=utf-8",
        body: JSON.stringify({
          specversion: "1.0",
          id: n.id,
          source: n.source,
          type: n.type,
          subject: n.subject,
          time: n.time,
          datacontenttype: "application/json",
          data: n.data,
        }),
      };
    case "slack":
      return json(slackMessage(n));
    case "teams":
      return json(teamsMessage(n));
  }
}

const json = (value: unknown): Payload => ({
  contentType: "application/json",
  body: JSON.stringify(value),
});

const headline = (n: Notification) =>
  `${TITLES[n.type]}: ${n.data.kind} ${n.data.namespace}/${n.data.name}`;

/** `container: from → to (digest)` lines, or none. */
const imageLines = (n: Notification) =>
  n.changes.map((c) => `${c.container}: ${c.from} → ${c.to}${c.digest ? ` (${c.digest})` : ""}`);

/** Slack's mrkdwn treats &, < and > as control characters. */
const mrkdwn = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** Slack incoming webhook: `text` (the fallback for notifications) and `blocks`. */
function slackMessage(n: Notification) {
  const fields = [
    `*Workload*\n${n.data.kind} ${n.data.namespace}/${n.data.name}`,
    `*Reason*\n${n.data.reason}`,
    ...(n.data.policy ? [`*Policy*\n${n.data.policy}`] : []),
  ];
  const images = imageLines(n);
  return {
    text: headline(n),
    blocks: [
      { type: "header", text: { type: "plain_text", text: headline(n).slice(0, 150) } },
      { type: "section", fields: fields.map((t) => ({ type: "mrkdwn", text: mrkdwn(t) })) },
      ...(images.length
        ? [{ type: "section", text: { type: "mrkdwn", text: mrkdwn(images.join("\n")) } }]
        : []),
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: mrkdwn(n.data.message).slice(0, 3000) }],
      },
    ],
  };
}

/** Teams Workflows webhook: a `message` with one Adaptive Card attachment. */
function teamsMessage(n: Notification) {
  const facts = [
    { title: "Workload", value: `${n.data.kind} ${n.data.namespace}/${n.data.name}` },
    { title: "Reason", value: n.data.reason },
    ...(n.data.policy ? [{ title: "Policy", value: n.data.policy }] : []),
    ...imageLines(n).map((value) => ({ title: "Image", value })),
  ];
  return {
    type: "message",
    attachments: [{
      contentType: "application/vnd.microsoft.card.adaptive",
      contentUrl: null,
      content: {
        $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
        type: "AdaptiveCard",
        version: "1.4",
        body: [
          {
            type: "TextBlock",
            text: headline(n),
            weight: "Bolder",
            size: "Medium",
            wrap: true,
            ...(n.severity === "Warning" ? { color: "Attention" } : {}),
          },
          { type: "FactSet", facts },
          { type: "TextBlock", text: n.data.message, wrap: true, isSubtle: true },
        ],
      },
    }],
  };
}
