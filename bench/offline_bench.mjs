// Offline use of a session page: what is kept (service worker caches, IndexedDB)
// and how long reloads take, online and then offline, for a new session and for
// one of 1,000 files. Each case runs in fresh browser profiles; medians of RUNS.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

const require = createRequire(new URL("../end2end/package.json", import.meta.url));
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS ??= "1";
const { chromium, request } = require("@playwright/test");

const [base, out] = process.argv.slice(2);
const RUNS = Number(process.env.RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function offline(context, on) {
  await context.setOffline(on);
  if (on) {
    await context.route("**/*", (r) => (r.request().serviceWorker() ? r.abort("internetdisconnected") : r.fallback()));
  } else {
    await context.unrouteAll({ behavior: "wait" });
  }
}

async function loaded(page) {
  await page.locator("body[data-hydrated]").waitFor();
  await page.locator(".tree-row").first().waitFor();
}

async function one(files) {
  const context = await browser.newContext({ baseURL: base, serviceWorkers: "allow" });
  const page = await context.newPage();
  await page.goto("/");
  await page.locator("body[data-hydrated]").waitFor();
  await page.locator("#try-guest").click();
  await page.waitForURL(/\/s\/[0-9a-f-]{36}$/);
  const session = page.url().split("/s/")[1];
  if (files > 0) {
    const api = await request.newContext({ baseURL: base, storageState: await context.storageState() });
    const body = "x".repeat(63) + "\n";
    const content = body.repeat(64); // 4 KiB
    for (let i = 0; i < files; i++) {
      await api.post("/api/files/create", {
        data: { session, path: `src/m${Math.floor(i / 100)}/f${i}.py`, kind: "file", content },
      });
    }
    await api.dispose();
    await page.reload();
  }
  await loaded(page);
  const t0 = Date.now();
  await page.locator('#offline-copy[data-ready="true"]').waitFor({ timeout: 120_000 });
  const ready = Date.now() - t0;

  const kept = await page.evaluate(async () => {
    const size = async (name) => {
      const cache = await caches.open(name);
      let bytes = 0;
      const keys = await cache.keys();
      for (const k of keys) bytes += (await (await cache.match(k)).arrayBuffer()).byteLength;
      return { entries: keys.length, bytes };
    };
    const { usage } = await navigator.storage.estimate();
    return { app: await size("webide-app-v1"), pages: await size("webide-pages"), usage };
  });

  let t = Date.now();
  await page.reload();
  await loaded(page);
  const online = Date.now() - t;

  await offline(context, true);
  t = Date.now();
  await page.reload();
  await loaded(page);
  const offlineReload = Date.now() - t;
  await page.locator('.tree-row[data-path="main.py"]').click();
  await page.locator(".monaco-editor .view-lines").filter({ hasText: /\S/ }).waitFor();
  const editor = Date.now() - t;
  await offline(context, false);
  await context.close();
  return { ready, kept, online, offlineReload, editor };
}

const cases = [
  ["new session (1 file)", 0],
  ["1,000 files of 4 KiB", 1000],
];
const results = {};
for (const [name, files] of cases) {
  const runs = [];
  for (let i = 0; i < (files ? Math.min(RUNS, 3) : RUNS); i++) runs.push(await one(files));
  results[name] = runs;
}
await browser.close();
writeFileSync(out, JSON.stringify(results, null, 2));

const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
const rows = [
  ["copy ready after the page loaded (ms)", (r) => median(r.map((x) => x.ready))],
  ["app kept by the service worker", (r) => `${kib(r[0].kept.app.bytes)} in ${r[0].kept.app.entries} files`],
  ["session page kept", (r) => `${kib(r[0].kept.pages.bytes)}`],
  ["storage used in all (navigator.storage.estimate)", (r) => kib(median(r.map((x) => x.kept.usage)))],
  ["reload online → tree shown, hydrated (ms)", (r) => median(r.map((x) => x.online))],
  ["first reload offline → tree shown, hydrated (ms)", (r) => median(r.map((x) => x.offlineReload))],
  ["first reload offline → main.py shown in Monaco (ms)", (r) => median(r.map((x) => x.editor))],
];
console.log(`| metric | ${cases.map((c) => c[0]).join(" | ")} |`);
console.log(`|---|${cases.map(() => "---:").join("|")}|`);
for (const [label, f] of rows) {
  console.log(`| ${label} | ${cases.map((c) => f(results[c[0]])).join(" | ")} |`);
}
console.log(`\nmedians of ${RUNS} fresh browser profiles (3 for the large case); ratio offline/online reload: ${cases
  .map((c) => (median(results[c[0]].map((x) => x.offlineReload)) / median(results[c[0]].map((x) => x.online))).toFixed(2))
  .join(", ")}`);
