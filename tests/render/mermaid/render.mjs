// Render Mermaid sources with the real mermaid package inside headless Chromium.
//
// Usage: node render.mjs INPUT.json OUTPUT.json
//   INPUT:  [{"name": "...", "source": "stateDiagram-v2\n..."}, ...]
//   OUTPUT: [{"name": "...", "ok": true, "svgBytes": 1234} | {"name": "...", "ok": false, "error": "..."}]
// mermaid.parse() alone misses the layout crashes (dagre "setting 'rank'"), so every
// diagram is fully rendered to SVG, exactly as GitLab's Markdown viewer does in a browser.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const [input, output] = process.argv.slice(2);
const diagrams = JSON.parse(readFileSync(input, "utf8"));
const mermaidJs = require.resolve("mermaid/dist/mermaid.min.js");
const executablePath =
  process.env.CHROMIUM_PATH ||
  ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(existsSync);
if (!executablePath) {
  console.error("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");
  process.exit(3);
}

const browser = await chromium.launch({
  executablePath,
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><body><div id='host'></div></body></html>");
  await page.addScriptTag({ path: mermaidJs });
  const results = await page.evaluate(async (items) => {
    const mermaid = globalThis.mermaid;
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
    const out = [];
    let counter = 0;
    for (const item of items) {
      try {
        await mermaid.parse(item.source);
        const { svg } = await mermaid.render(`diagram${counter++}`, item.source);
        if (svg.includes("Syntax error in text")) throw new Error("mermaid drew its error picture");
        out.push({ name: item.name, ok: true, svgBytes: svg.length, version: mermaid.version ? "" : "" });
      } catch (error) {
        out.push({ name: item.name, ok: false, error: String(error && error.message ? error.message : error) });
      }
    }
    return out;
  }, diagrams);
  writeFileSync(output, JSON.stringify(results, null, 2));
} finally {
  await browser.close();
}
