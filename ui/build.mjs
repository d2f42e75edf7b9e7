// Bundles the editor into dist/editor.js (one ES module) and dist/editor.css with esbuild.
// `node build.mjs --tests` bundles the unit tests in test/ into dist/test/ for `node --test`.
import { build } from "esbuild";
import { copyFileSync, existsSync, readdirSync, rmSync } from "node:fs";

const tests = process.argv.includes("--tests");

if (tests) {
  rmSync("dist/test", { recursive: true, force: true });
  const entries = readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`);
  await build({
    entryPoints: entries,
    outdir: "dist/test",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["node:*"],
    logLevel: "warning",
  });
} else {
  await build({
    entryPoints: { editor: "src/main.tsx" },
    outdir: "dist",
    bundle: true,
    format: "esm",
    target: ["chrome110", "firefox115", "safari16"],
    minify: !process.env.NF_NO_MINIFY,
    sourcemap: true,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    loader: { ".css": "css" },
    logLevel: "warning",
  });
  if (existsSync("../assets/icon.svg")) copyFileSync("../assets/icon.svg", "dist/icon.svg"); // the toolbar's icon
  console.log("built ui/dist/editor.js");
}
