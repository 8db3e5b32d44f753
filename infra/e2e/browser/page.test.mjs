// The store manager's page in a real browser (Debian's Chromium, driven by playwright-core), as a
// manager uses it: pick a product, read its forecast and what to order, upload new sales through
// the page and watch the job until the new model serves, upload a bad file and read why it was
// refused. Run by infra/e2e's TestPage against a running local stack:
//
//	STOCKCAST_API=http://127.0.0.1:3000 STOCKCAST_ROOT=../../.. STOCKCAST_SCREENSHOTS=dir node --test page.test.mjs
//
// Screenshots of every step are saved in STOCKCAST_SCREENSHOTS. With STOCKCAST_API_KEY, the API
// requires that key (as on AWS): the page must ask for it once, send it in x-api-key on every
// call and keep it in the browser across a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const api = process.env.STOCKCAST_API;
const root = process.env.STOCKCAST_ROOT || "../../..";
const shots = process.env.STOCKCAST_SCREENSHOTS || "screenshots";
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const apiKey = process.env.STOCKCAST_API_KEY || "";
assert.ok(api, "STOCKCAST_API must name the API's base URL");

// Chromium as root, headless, with nothing that reaches outside this machine.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const TRAINING_MS = 4 * 60_000;

test("a store manager uses the page", { timeout: 10 * 60_000 }, async (t) => {
  await mkdir(shots, { recursive: true });
  const profile = await mkdtemp(path.join(tmpdir(), "stockcast-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 1000 },
  });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  // Failed requests are checked by their responses below; other console errors are problems.
  page.on("console", (msg) => msg.type() === "error" && !msg.text().startsWith("Failed to load resource") && problems.push(`console error: ${msg.text()}`));
  // Every request succeeds, but for a job asked for before the merge has picked its file up, and
  // API Gateway's 403 before the page was given the key.
  let keyGiven = !apiKey;
  const beforeKey = new WeakSet(); // the requests sent before the key was given
  page.on("response", (resp) => {
    const url = new URL(resp.url());
    if (resp.status() === 403 && beforeKey.has(resp.request())) return;
    if (resp.status() >= 400 && !(resp.status() === 404 && /\/jobs\/[^/]+$/.test(url.pathname))) problems.push(`${resp.status()} for ${url.pathname}`);
  });
  // Nothing is loaded from anywhere but the API and its object store; once given, every call of
  // the API (all but the page itself) carries the key.
  const origins = new Set();
  let keyedCalls = 0;
  page.on("request", (req) => {
    const url = new URL(req.url());
    origins.add(url.origin);
    if (!keyGiven) beforeKey.add(req);
    if (!apiKey || !keyGiven || url.origin !== new URL(api).origin || url.pathname === "/") return;
    if (req.headers()["x-api-key"] === apiKey) keyedCalls++;
    else problems.push(`${req.method()} ${url.pathname} without the API key`);
  });
  const shot = (name) => page.screenshot({ path: path.join(shots, name), fullPage: true });

  await t.test("the page loads and lists the products", async () => {
    await page.goto(api + "/");
    if (apiKey) {
      // API Gateway refuses the calls without a key: the page asks for it, once.
      await page.locator("#key-dialog[open]").waitFor();
      await shot("00-api-key.png");
      await page.fill("#key-input", apiKey);
      await page.click('#key-form button[type="submit"]');
      keyGiven = true;
      await page.locator('#series-list li[data-key^="product/"]').first().waitFor();
      assert.equal(await page.evaluate(() => localStorage.getItem("stockcast.apiKey")), apiKey);
      // Kept in the browser: a reload asks nothing.
      await page.reload();
      await page.locator('#series-list li[data-key^="product/"]').first().waitFor();
      assert.equal(await page.locator("#key-dialog").evaluate((d) => d.open), false);
      assert.ok(keyedCalls > 0, "no API call carried the key");
    }
    await page.locator('#series-list li[data-key^="product/"]').first().waitFor();
    assert.match(await page.locator("#model-status").innerText(), /^Model \S+ · trained through \d{4}-\d{2}-\d{2}/);
    assert.equal(await page.title(), "stockcast — forecasts and orders");
    await shot("01-loaded.png");
  });

  let versionBefore;
  await t.test("pick a product, read its forecast and the order to place", async () => {
    await page.fill("#search", "P0007");
    const item = page.locator('#series-list li[data-key="product/P0007"]');
    await item.waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#series-list li").length === 1, null, { timeout: 10_000 });
    // The list names the model that serves it and its backtest accuracy (GET /series).
    assert.match(await item.innerText(), /model: \S+ · backtest MASE [\d.]+, WAPE [\d.]+%/);
    await item.click();
    const summary = page.locator('#forecast-summary[data-series="product/P0007"]');
    await summary.waitFor();
    assert.match(await summary.innerText(), /^P0007: about [\d,]+ units over the next 28 days/);
    versionBefore = await summary.getAttribute("data-model-version");
    // The chart is drawn, with the history, the forecast and its interval in the legend.
    await page.locator("#chart canvas").waitFor();
    const legend = await page.locator("#chart .u-legend").innerText();
    for (const label of ["Sales", "Forecast", "interval"]) assert.ok(legend.includes(label), `legend lacks ${label}: ${legend}`);
    // Hovering shows the values of that day.
    const box = await page.locator("#chart .u-over").boundingBox();
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2);
    assert.match(await page.locator("#chart .u-legend").innerText(), /\d{4}-\d{2}-\d{2}/);
    assert.match(await page.locator("#served-by").innerText(), new RegExp(`Served by: \\w+.*model version ${versionBefore}`));

    await page.fill("#on_hand", "40");
    const order = page.locator('#policy dd[data-field="Order now"]');
    await order.waitFor();
    assert.match(await order.innerText(), /^[\d,]+ units$/);
    assert.match(await page.locator('#policy dd[data-field="Days of cover"]').innerText(), /^[\d.]+$/);
    assert.match(await page.locator('#policy dd[data-field="Reorder point"]').innerText(), /^[\d,.]+$/);
    const warning = page.locator("#warnings .warning").first();
    await warning.waitFor();
    assert.match(await warning.innerText(), /Stock-out risk|Reorder now|Stock is fine/);
    await shot("02-forecast-and-order.png");
  });

  await t.test("upload new sales and watch the job until the new model serves", async () => {
    await page.setInputFiles("#file", path.join(root, "testdata/new_data.csv"));
    await page.click("#upload-button");
    // The job goes through its stages; at some point the LSTM reports epochs.
    await page.locator('#job[data-status="training"], #job[data-status="succeeded"]').waitFor({ timeout: TRAINING_MS });
    await page.locator("#merge-report").waitFor({ timeout: TRAINING_MS });
    assert.match(await page.locator("#merge-report").innerText(), /^Merged [\d,]+ rows/);
    // A dataset of one shard: the page says what it said before sharding, no shard figures.
    assert.equal(await page.locator("#merge-shards").count(), 0);
    await shot("03-training.png");
    await page.locator("#job-title", { hasText: "done — the new model is serving" }).waitFor({ timeout: TRAINING_MS });
    assert.match(await page.locator("#finetune-progress").innerText(), /epoch \d+\/\d+/);
    // The chart refreshed by itself and shows the new model version.
    await page.waitForFunction(
      (before) => {
        const s = document.querySelector("#forecast-summary");
        return s && s.dataset.modelVersion && s.dataset.modelVersion !== before;
      },
      versionBefore,
      { timeout: 30_000 },
    );
    const versionAfter = await page.locator("#forecast-summary").getAttribute("data-model-version");
    assert.equal(await page.locator("#served-version").innerText(), versionAfter);
    assert.ok(versionAfter.startsWith("new_data-"), `the new version ${versionAfter} is this upload's`);
    // The new product of the upload is listed.
    await page.fill("#search", "P0025");
    await page.locator('#series-list li[data-key="product/P0025"]').waitFor();
    await shot("04-new-model-serving.png");
  });

  await t.test("upload a bad file and read what to fix", async () => {
    await page.setInputFiles("#file", path.join(root, "testdata/uploads/bad_sales.csv"));
    await page.click("#upload-button");
    await page.locator('#job[data-status="rejected"]').waitFor({ timeout: 60_000 });
    const rows = page.locator("#problems tbody tr");
    await rows.first().waitFor();
    assert.ok((await rows.count()) >= 1);
    const first = await rows.first().innerText();
    assert.match(first, /^\d+\s/, `the first problem names its line: ${first}`);
    assert.match(await page.locator("#job-title").innerText(), /refused — nothing was changed/);
    await page.locator("#problems").scrollIntoViewIfNeeded();
    await shot("05-bad-file-refused.png");
  });

  await t.test("nothing went wrong in the page and nothing came from elsewhere", () => {
    assert.deepEqual(problems, []);
    const allowed = new Set([new URL(api).origin]);
    for (const origin of origins) {
      if (!allowed.has(origin) && !/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) assert.fail(`the page fetched from ${origin}`);
    }
  });
});
