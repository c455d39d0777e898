/**
 * The status page in a real headless Chromium (Debian's `chromium`, driven by npm
 * `puppeteer-core`): log in with the token, the seeded workloads appear, a pending one and a
 * reverted one show their reasons, a filter narrows the table (with JavaScript and without),
 * nothing is logged as an error, no request leaves the page's origin, and a phone-wide screen
 * needs no sideways scrolling.
 * With `UPDATE_SCREENSHOT=1` it writes the README's screenshot, docs/status.png (otherwise a
 * test run leaves the tree as it was). Ignored when Chromium is missing, except under
 * `CI=true`, where that fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { routes } from "../../lib/server/routes.ts";
import { statusHandler } from "../../lib/status/handler.ts";
import { fixedToken } from "../../lib/webhook/token.ts";
import { NOW, seedStatus } from "./seed.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
const NAME = "status page in headless Chromium: log in, reasons, filter, same origin only";
const TOKEN = "page-s3cret";

/** Chromium's flags: nothing contacted beyond the page, a fresh profile. */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function browserTest() {
  const { workloads, decisions } = seedStatus();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    routes({
      ready: () => true,
      metrics: () => "",
      status: statusHandler({
        cache: { all: () => workloads },
        decisions,
        token: fixedToken(TOKEN),
        now: () => NOW,
      }),
    }),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const profile = await Deno.makeTempDir({ prefix: "argoos-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: FLAGS,
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    const elsewhere: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.protocol !== "data:" && url.origin !== origin) elsewhere.push(r.url());
    });
    await page.setViewport({ width: 1280, height: 800 });

    // Log in: the browser answers the Basic challenge with the token as password.
    await page.authenticate({ username: "ops", password: TOKEN });
    const res = await page.goto(`${origin}/status`);
    assert.equal(res?.status(), 200);
    const rows = () =>
      page.$$eval("tbody tr", (trs) =>
        trs.map((tr) => ({
          name: tr.querySelector("th")?.textContent ?? "",
          text: tr.textContent ?? "",
        })));
    const seen = await rows();
    assert.deepEqual(seen.map((r) => r.name), [
      "Deployment finance/billing",
      "Deployment finance/ledger",
      "Deployment shop/catalog",
      "Deployment shop/checkout",
      "Deployment shop/search",
    ]);
    const row = (name: string) => seen.find((r) => r.name.endsWith(name))!.text;
    assert.match(row("checkout"), /Pending/);
    assert.match(
      row("checkout"),
      /next: registry\.example\.com\/checkout:1\.5\.0 \(update window opens 2026-12-12T02:00:00Z\)/,
    );
    assert.doesNotMatch(row("checkout"), /argoos\.io\/pending/, "bookkeeping is not a setting");
    assert.match(row("billing"), /Failed or reverted/);
    assert.match(row("billing"), /Reverted: app: billing:4\.3\.0 → billing:4\.2\.0/);
    assert.match(row("billing"), /4\.3\.0 sha256:222222222222…: crash-loop/);
    const png = await page.screenshot({ fullPage: true });
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG"); // "PNG"
    if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
      await Deno.writeFile(new URL("../../docs/status.png", import.meta.url), png);
    }

    // The filter narrows the table (the script submits the form on change).
    await Promise.all([page.waitForNavigation(), page.select("#f-state", "failed")]);
    assert.equal(new URL(page.url()).searchParams.get("state"), "failed");
    assert.deepEqual((await rows()).map((r) => r.name), ["Deployment finance/billing"]);
    await Promise.all([page.waitForNavigation(), page.select("#f-namespace", "shop")]);
    assert.match((await rows())[0].text, /No workload matches/);

    // Without JavaScript the form still filters, with its button.
    await page.setJavaScriptEnabled(false);
    await page.goto(`${origin}/status`);
    await page.select("#f-state", "pending");
    await Promise.all([page.waitForNavigation(), page.click("form.filters button")]);
    assert.deepEqual((await rows()).map((r) => r.name), ["Deployment shop/checkout"]);
    await page.setJavaScriptEnabled(true);

    // A phone: readable without scrolling sideways.
    await page.setViewport({ width: 375, height: 700 });
    await page.goto(`${origin}/status`);
    const overflow = await page.$eval("html", (html) => html.scrollWidth - html.clientWidth);
    assert.ok(overflow <= 0, `${overflow}px wider than the screen`);

    assert.deepEqual(errors, []);
    assert.deepEqual(elsewhere, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await Deno.remove(profile, { recursive: true });
  }
}

if (CHROMIUM) {
  Deno.test({ name: NAME, sanitizeResources: false, sanitizeOps: false, fn: browserTest });
} else if (Deno.env.get("CI") === "true") {
  Deno.test(NAME, () => {
    throw new Error("chromium missing under CI: apt-get install chromium (.ci/run does)");
  });
} else {
  Deno.test({ name: NAME, ignore: true, fn: browserTest });
}
