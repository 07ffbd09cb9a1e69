// The web page (GET /) in Debian's chromium, headless, driven by playwright-core:
// pick three images with the keyboard (one damaged), wait for the swatches,
// check each card against the server's own JSON for the same files (swatch,
// exact top colors, palette bars), check the error card, dark mode, drag and
// drop with another palette size, drop a WebP and a GIF together, and save
// screenshots.
//
//   node web_page_test.mjs URL OUT_DIR GOOD1 GOOD2 DAMAGED WEBP GIF
// playwright-core is resolved from $HUEPOOL_NPM_DIR (the build tree's npm ci).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

const [url, outDir, ...args] = process.argv.slice(2);
assert.equal(args.length, 5, "usage: node web_page_test.mjs URL OUT_DIR GOOD1 GOOD2 DAMAGED WEBP GIF");
const files = args.slice(0, 3);
const webpGif = args.slice(3);
const npmDir = process.env.HUEPOOL_NPM_DIR;
assert.ok(npmDir, "HUEPOOL_NPM_DIR must name the folder where npm ci installed playwright-core");
const { chromium } = createRequire(join(npmDir, "package.json"))("playwright-core");

const CHROMIUM = process.env.HUEPOOL_CHROMIUM ?? "/usr/bin/chromium";
const WAIT_MS = 120_000;  // only reached when something is broken

function log(...args) { console.log("web_page_test:", ...args); }

// What the server itself says about the same files (map, top=5 and the
// page's default palette=6, as the page asks).
async function serverJson(paths, palette = 6) {
  const form = new FormData();
  for (const p of paths) form.append("image", new Blob([readFileSync(p)]), basename(p));
  const r = await fetch(new URL("/v1/analyze?mode=map&top=5&palette=" + palette, url), { method: "POST", body: form });
  assert.equal(r.status, 200);
  return (await r.json()).results;
}

async function cardsOf(page) {
  return page.$$eval("#results .card", (cards) => cards.map((c) => ({
    index: Number(c.dataset.index),
    state: c.dataset.state ?? "pending",
    name: c.querySelector(".name").textContent,
    hex: c.querySelector(".hex")?.textContent ?? null,
    pct: c.querySelector(".pct")?.textContent ?? null,
    swatch: getComputedStyle(c.querySelector(".swatch")).backgroundColor,
    palette: [...c.querySelectorAll(".palette li")].map((li) => ({
      hex: li.dataset.hex,
      bar: getComputedStyle(li.querySelector(".bar")).backgroundColor,
      width: li.querySelector(".bar").getBoundingClientRect().width,
    })),
    clusters: [...c.querySelectorAll(".clusters li")].map((li) => ({
      hex: li.dataset.hex,
      bar: getComputedStyle(li.querySelector(".bar")).backgroundColor,
      width: li.querySelector(".bar").getBoundingClientRect().width,
      track: li.querySelector(".bar-track").getBoundingClientRect().width,
    })),
    strip: [...c.querySelectorAll(".strip span")].map((s) => s.getBoundingClientRect().width),
    stripWidth: c.querySelector(".strip")?.clientWidth ?? 0,
    code: c.querySelector(".problem .code")?.textContent ?? null,
    message: c.querySelector(".problem .message")?.textContent ?? null,
    thumb: Boolean(c.querySelector("img.thumb, .thumb.broken")),
  })));
}

// Drops files on the drop zone as a user dragging them from a file manager would.
async function dropFiles(page, paths, type) {
  const payload = paths.map((p, i) => [readFileSync(p).toString("base64"), basename(p), type[i]]);
  await page.evaluate((items) => {
    const dt = new DataTransfer();
    for (const [b64, name, mime] of items) {
      dt.items.add(new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], name, { type: mime }));
    }
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

const rgb = (hex) => `rgb(${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)})`;

const expected = await serverJson(files);
const profile = mkdtempSync(join(tmpdir(), "huepool-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1200, height: 560 },
  colorScheme: "light",
  reducedMotion: "reduce",  // no colour transitions half-way through a screenshot
});
let failed = false;
try {
  const page = await context.newPage();
  // Listen before anything happens: playwright turns on file-chooser
  // interception when the first listener is added, asynchronously, so a
  // listener added just before the key press could miss the chooser.
  let chooserOpened;
  const chooserPromise = new Promise((resolve) => { chooserOpened = resolve; });
  page.on("filechooser", (chooser) => chooserOpened(chooser));
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  const origin = new URL(url).origin;
  page.on("request", (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith("blob:") && !u.startsWith("data:")) problems.push("external request: " + u);
  });

  const response = await page.goto(url + "/");
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"], /^text\/html/);
  assert.equal(await page.title(), "huepool: most popular colors");

  // Keyboard only: Tab to the "Choose images" button, Enter opens the chooser.
  let focused = "";
  for (let i = 0; i < 10 && focused !== "pick"; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.id ?? "");
  }
  assert.equal(focused, "pick", "the Choose images button must be reachable with Tab");
  await page.keyboard.press("Enter");
  const chooser = await Promise.race([chooserPromise, new Promise((_, reject) =>
    setTimeout(() => reject(new Error("Enter on the button opened no file chooser")), WAIT_MS).unref())]);
  assert.ok(chooser.isMultiple(), "the chooser must accept several files");
  await chooser.setFiles(files);

  await page.waitForFunction(() => document.querySelectorAll("#results .card").length === 3 &&
                                    !document.querySelector("#results .card.pending") &&
                                    /in \d+ ms/.test(document.getElementById("status").textContent),
                             null, { timeout: WAIT_MS });
  const cards = await cardsOf(page);
  log("cards", JSON.stringify(cards.map(({ index, state, hex, code }) => ({ index, state, hex, code }))));
  for (const r of expected) {
    const card = cards.find((c) => c.index === r.index);
    assert.ok(card, `no card for image ${r.index}`);
    assert.equal(card.name, r.name);
    assert.ok(card.thumb, `card ${r.index} has no thumbnail`);
    if (r.error) {
      assert.equal(card.state, "error");
      assert.equal(card.code, r.error.code);
      assert.equal(card.message, r.error.message);
      continue;
    }
    assert.equal(card.state, "done");
    assert.equal(card.hex, r.hex);
    assert.equal(card.swatch, rgb(r.hex), "the swatch shows the most popular color");
    assert.ok(card.pct.includes("%"), card.pct);
    assert.deepEqual(card.palette.map((p) => p.hex), r.colors.map((c) => c.hex), "top-5 palette");
    assert.deepEqual(card.palette.map((p) => p.bar), r.colors.map((c) => rgb(c.hex)));
    // Proportional: bar widths follow the percentages (the first, largest, is the full track).
    const w0 = card.palette[0].width;
    card.palette.forEach((p, i) => {
      const want = Math.max(3, (w0 * r.colors[i].percentage) / r.colors[0].percentage);
      assert.ok(Math.abs(p.width - want) <= 2, `bar ${i} of card ${r.index}: ${p.width} px, want ${want}`);
    });
    // The palette beside them: one bar per cluster in the server's order, in
    // its mean color, as wide as its share of the track (the shares sum to
    // 100%), and a strip whose segments split the whole width the same way.
    assert.ok(r.palette.length >= 1, "the server gave a palette");
    assert.deepEqual(card.clusters.map((p) => p.hex), r.palette.map((c) => c.hex), "palette bars");
    assert.deepEqual(card.clusters.map((p) => p.bar), r.palette.map((c) => rgb(c.hex)));
    card.clusters.forEach((p, i) => {
      const want = Math.max(3, (p.track * r.palette[i].percentage) / 100);
      assert.ok(Math.abs(p.width - want) <= 2, `palette bar ${i} of card ${r.index}: ${p.width} px, want ${want}`);
    });
    assert.equal(card.strip.length, r.palette.length);
    card.strip.forEach((w, i) => {
      const want = (card.stripWidth * r.palette[i].percentage) / 100;
      assert.ok(Math.abs(w - want) <= 1.5, `strip segment ${i} of card ${r.index}: ${w} px, want ${want}`);
    });
  }
  const status = await page.textContent("#status");
  assert.match(status, /^3 images in \d+ ms, 1 failed\.$/);
  await page.screenshot({ path: join(outDir, "web-page.png"), fullPage: true });

  // Dark mode: the same page follows prefers-color-scheme.
  const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "dark" });
  const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(lightBg, darkBg, "dark mode must change the page's colors");
  await page.screenshot({ path: join(outDir, "web-page-dark.png"), fullPage: true });

  // Clear, pick another palette size, then drop one image on the drop zone.
  await page.click("#clear");
  await page.selectOption("#palette-k", "3");
  const expected3 = await serverJson([files[0]], 3);
  assert.equal(await page.locator("#results .card").count(), 0);
  await dropFiles(page, [files[0]], ["image/png"]);
  await page.waitForSelector("#results .card[data-state=done]", { timeout: WAIT_MS });
  assert.equal(await page.textContent("#results .card .hex"), expected[0].hex);
  {
    const [card] = await cardsOf(page);
    assert.deepEqual(card.clusters.map((p) => p.hex), expected3[0].palette.map((c) => c.hex), "palette=3 bars");
    assert.equal(card.clusters.length, 3);
  }
  // Off: no palette asked, none drawn.
  await page.click("#clear");
  await page.selectOption("#palette-k", "0");
  await page.setInputFiles("#files", files[0]);
  await page.waitForSelector("#results .card[data-state=done]", { timeout: WAIT_MS });
  assert.equal(await page.locator("#results .card .clusters li").count(), 0);
  assert.equal(await page.locator("#results .card .palette li").count(), expected[0].colors.length);
  await page.selectOption("#palette-k", "6");

  // A WebP and a GIF dropped together: both answered, swatch, exact top colors
  // and palette bars as the server gives them for the same bytes.
  {
    const want = await serverJson(webpGif, 6);
    await page.click("#clear");
    await dropFiles(page, webpGif, ["image/webp", "image/gif"]);
    await page.waitForFunction(() => document.querySelectorAll("#results .card[data-state=done]").length === 2,
                               null, { timeout: WAIT_MS });
    const cards = await cardsOf(page);
    assert.equal(cards.length, 2);
    for (const r of want) {
      const card = cards.find((c) => c.index === r.index);
      assert.ok(!r.error, `server failed ${r.name}: ${JSON.stringify(r.error)}`);
      assert.equal(card.name, r.name);
      assert.equal(card.hex, r.hex, `${r.name} swatch`);
      assert.equal(card.swatch, rgb(r.hex));
      assert.deepEqual(card.palette.map((p) => p.hex), r.colors.map((c) => c.hex), `${r.name} top colors`);
      assert.deepEqual(card.clusters.map((p) => p.hex), r.palette.map((c) => c.hex), `${r.name} palette bars`);
      assert.deepEqual(card.clusters.map((p) => p.bar), r.palette.map((c) => rgb(c.hex)));
    }
    assert.deepEqual(want.map((r) => r.format), ["webp", "gif"]);
    await page.screenshot({ path: join(outDir, "web-page-webp-gif.png"), fullPage: true });
    log("ok: a dropped WebP and GIF answered as the server answers them");
  }

  // A file named with quotes (chromium sends them as %22): the server's
  // result, which the card's label is built from, carries the file's own name.
  {
    const quotedName = 'say "hi".png';
    const dir = mkdtempSync(join(tmpdir(), "huepool-names-"));
    try {
      const quoted = join(dir, quotedName);
      writeFileSync(quoted, readFileSync(files[0]));
      await page.click("#clear");
      await page.setInputFiles("#files", quoted);
      const card = page.locator("#results .card[data-state=done]");
      await card.waitFor({ timeout: WAIT_MS });
      assert.equal(await card.locator(".name").textContent(), quotedName);
      const label = await card.getAttribute("aria-label");
      assert.ok(label.startsWith(`${quotedName}: most popular color ${expected[0].hex}, `), label);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    log("ok: a file named", quotedName, "comes back under its own name");
  }

  assert.deepEqual(problems, [], "the page must load nothing from elsewhere and log no errors");
  log("ok: 3 cards checked against the server's JSON, error card, keyboard, dark mode, drop, WebP and GIF");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
