// Builds dist/index.html: src/index.html with the bundled script (src/app.js and uPlot) and the
// bundled style sheet inlined, so that the forecast function serves the whole page as one
// embedded file and the browser loads nothing from anywhere else. The output depends only on the
// sources and the locked packages: `make web` rebuilds it, `make lint` checks that the committed
// file is what the sources build.
import { build } from "esbuild";
import { mkdir, readFile, writeFile } from "node:fs/promises";

const bundle = async (entry) => {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    write: false,
    format: "iife",
    target: ["es2020"],
    legalComments: "inline",
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
};

const [html, js, css, license] = await Promise.all([
  readFile("src/index.html", "utf8"),
  bundle("src/app.js"),
  bundle("src/app.css"),
  readFile("node_modules/uplot/LICENSE", "utf8"),
]);
// "</script" inside the script would end it early; esbuild escapes it, this keeps it so.
if (/<\/script/i.test(js)) throw new Error("the bundle contains </script");
const page = html
  .replace("<!-- license -->", () => `<!-- The chart is drawn by uPlot, bundled here under its licence:\n${license.replaceAll("--", "- -").trim()}\n-->`)
  .replace("<!-- style -->", () => `<style>${css.trim()}</style>`)
  .replace("<!-- script -->", () => `<script>${js.trim()}</script>`);
for (const marker of ["<!-- license -->", "<!-- style -->", "<!-- script -->"]) {
  if (!html.includes(marker)) throw new Error(`src/index.html lacks the marker ${marker}`);
}
await mkdir("dist", { recursive: true });
await writeFile("dist/index.html", page);
console.log(`dist/index.html: ${page.length} bytes`);
