// Drives the editor in Firefox (Debian's firefox-esr, through WebDriver BiDi with puppeteer-core):
// open a graph file through the Open button, check the canvas draws it, run it, and wait for the
// preview image on the save node; then reload the page and run again: the save node is cached and
// must still show its picture. Playwright cannot drive a stock Firefox, puppeteer-core can.
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
  // the window's own size: Debian's firefox-esr lacks the BiDi command setViewport would send
  defaultViewport: null,
  args: ["--width=1400", "--height=900"],
});
const errors = [];
let page;
try {
  page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  let edges = 0;
  const loaded = [];
  const statuses = [];
  for (const round of [1, 2]) {
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector("[data-testid=toolbar]", { timeout: 60000 });
    // the page being left can still report its own cut-off loads (Gradio's lazy CSS): not this page's
    if (round === 2) errors.length = 0;
    const input = await page.waitForSelector("[data-testid=open-input]");
    await input.uploadFile(graphFile);
    await page.waitForFunction(
      (n) => document.querySelectorAll(".react-flow__node-nf").length === n,
      { timeout: 20000 }, expectedNodes);
    edges = await page.$$eval(".react-flow__edge", (els) => els.length);
    const before = await page.$eval("[data-testid=run-status]", (s) => s.dataset.run || "");
    await page.click("[data-testid=btn-run]");
    await page.waitForFunction(
      (before) => {
        const s = document.querySelector("[data-testid=run-status]");
        return s && s.dataset.run && s.dataset.run !== before && s.dataset.status === "ok";
      },
      { timeout: 60000 }, before);
    const preview = await page.waitForSelector(`[data-testid=node-${saveNode}] img`, { timeout: 20000 });
    loaded.push(await preview.evaluate((img) => new Promise((done) => {
      if (img.complete) done(img.naturalWidth > 0);
      else { img.onload = () => done(img.naturalWidth > 0); img.onerror = () => done(false); }
    })));
    statuses.push(await page.$eval(`[data-testid=node-${saveNode}]`, (n) => n.dataset.status));
  }
  const ok = loaded.every(Boolean) && statuses[1] === "cached" && errors.length === 0;
  if (!ok && shot) await page.screenshot({ path: shot });
  console.log(JSON.stringify({ ok, nodes: expectedNodes, edges, previewLoaded: loaded, statuses, errors }));
  process.exitCode = ok ? 0 : 1;
} catch (error) {
  if (page && shot) await page.screenshot({ path: shot }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(error), errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
