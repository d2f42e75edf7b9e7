// Drives the editor in Firefox (Debian's firefox-esr, through WebDriver BiDi with puppeteer-core):
// open a graph file through the Open button, check the canvas draws it, run it, and wait for the
// preview image on the save node. Playwright cannot drive a stock Firefox, puppeteer-core can.
//
//   node ui/e2e/firefox_smoke.mjs URL GRAPH_FILE SAVE_NODE_ID [SCREENSHOT_ON_FAILURE]
// Prints a JSON summary; exits 1 when anything fails.
import puppeteer from "puppeteer-core";
import { readFileSync } from "node:fs";

const [url, graphFile, saveNode, shot] = process.argv.slice(2);
const expectedNodes = Object.keys(JSON.parse(readFileSync(graphFile, "utf8")).nodes).length;
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FIREFOX || "/usr/bin/firefox-esr",
  headless: true,
});
const errors = [];
let page;
try {
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("[data-testid=toolbar]", { timeout: 60000 });
  const input = await page.waitForSelector("[data-testid=open-input]");
  await input.uploadFile(graphFile);
  await page.waitForFunction(
    (n) => document.querySelectorAll(".react-flow__node-nf").length === n,
    { timeout: 20000 }, expectedNodes);
  const edges = await page.$$eval(".react-flow__edge", (els) => els.length);
  await page.click("[data-testid=btn-run]");
  await page.waitForFunction(
    () => document.querySelector("[data-testid=run-status]")?.dataset.status === "ok",
    { timeout: 60000 });
  const preview = await page.waitForSelector(`[data-testid=node-${saveNode}] img`, { timeout: 20000 });
  const loaded = await preview.evaluate((img) => img.complete && img.naturalWidth > 0);
  const ok = loaded && errors.length === 0;
  if (!ok && shot) await page.screenshot({ path: shot });
  console.log(JSON.stringify({ ok, nodes: expectedNodes, edges, previewLoaded: loaded, errors }));
  process.exitCode = ok ? 0 : 1;
} catch (error) {
  if (page && shot) await page.screenshot({ path: shot }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
