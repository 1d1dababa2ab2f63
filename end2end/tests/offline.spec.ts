import { execFileSync } from "node:child_process";
import { BrowserContext, Page, request } from "@playwright/test";
import { expect, test } from "./fixtures";
import { row, startAsGuest, typeInEditor } from "./helpers";

// Offline: once a session page has loaded, the browser's offline mode must not stop
// the user from browsing, opening and editing files, nor from reloading the page;
// what was saved offline reaches Postgres on reconnect, through the conflict check.

test.use({ serviceWorkers: "allow" });

// Playwright's offline mode is not sure to cover a service worker's own fetches
// (microsoft/playwright#2311): they are cut here too, so the worker answers from
// its cache as it would on a real outage.
async function goOffline(context: BrowserContext) {
  await context.setOffline(true);
  await context.route("**/*", (route) =>
    route.request().serviceWorker() ? route.abort("internetdisconnected") : route.fallback(),
  );
}

async function goOnline(context: BrowserContext) {
  await context.unrouteAll({ behavior: "wait" });
  await context.setOffline(false);
}

// The page says it can work offline: the app is in the service worker's cache and
// every file is in IndexedDB.
async function availableOffline(page: Page) {
  await expect(page.locator("#offline-copy")).toHaveAttribute("data-ready", "true");
}

// Straight from Postgres: the server's own database (scripts/test names it).
function stored(session: string, path: string): string {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL names the server's database (scripts/test sets it)");
  return execFileSync("psql", [url, "-XtAq", "-v", "ON_ERROR_STOP=1", "-v", `s=${session}`, "-v", `p=${path}`], {
    input: "SELECT content FROM workspace_items WHERE session_uuid = :'s' AND full_path = :'p';\n",
    encoding: "utf8",
  });
}

// Another client changing a file through the API, with the page's login.
async function saveFromElsewhere(context: BrowserContext, baseURL: string, session: string, path: string, content: string) {
  const api = await request.newContext({ baseURL, storageState: await context.storageState() });
  const file = await (await api.post("/api/files/read", { data: { session, path } })).json();
  const saved = await api.post("/api/files/save", {
    data: { session, path, content, base_hash: file.hash },
  });
  expect(saved.status()).toBe(200);
  await api.dispose();
}

test("offline: browse, open, edit, save, reload, then the edit reaches Postgres", async ({ page, context, baseURL }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const session = await startAsGuest(page);
  await saveFromElsewhere(context, baseURL!, session, "main.py", "print('hello')\n");
  const api = await request.newContext({ baseURL, storageState: await context.storageState() });
  await api.post("/api/files/create", {
    data: { session, path: "pkg/util.py", kind: "file", content: "def answer():\n    return 41\n" },
  });
  await api.dispose();
  // The tree follows the server's news; the copy follows the tree.
  await expect(row(page, "pkg")).toBeVisible();
  await availableOffline(page);

  await goOffline(context);
  await expect(page.locator("#connection")).toHaveText("offline: working from this device");

  // A folder and a file never opened online.
  await row(page, "pkg").click();
  await row(page, "pkg/util.py").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("return 41");
  await typeInEditor(page, "\n# changed offline\n");
  await page.keyboard.press("ControlOrMeta+S");
  await expect(page.locator("#notice")).toContainText("saved on this device");
  await expect(page.locator('.tab[data-path="pkg/util.py"]')).toHaveClass(/unsynced/);
  await expect(row(page, "pkg/util.py")).toHaveClass(/unsynced/);
  await expect(page.locator("#sync-status")).toHaveText("⇡ 1 file not yet on the server");

  // What only the server can do is refused, and says so.
  await page.getByRole("button", { name: "New file" }).click();
  await expect(page.locator("#notice")).toContainText("You are offline: creating files and folders needs the server");
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // A reload with the network down: the page comes from the service worker, the
  // files and the kept save from IndexedDB.
  const reloaded = await page.reload();
  expect(reloaded?.fromServiceWorker()).toBe(true);
  await page.locator("body[data-hydrated]").waitFor();
  await expect(page.locator("#connection")).toHaveText("offline: working from this device");
  await expect(page.locator("#sync-status")).toBeVisible();
  await row(page, "pkg").click();
  await expect(row(page, "pkg/util.py")).toHaveClass(/unsynced/);
  await row(page, "pkg/util.py").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("# changed offline");
  await row(page, "main.py").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("print('hello')");
  expect(stored(session, "pkg/util.py")).not.toContain("changed offline");

  await goOnline(context);
  await expect(page.locator("#connection")).toHaveText("online");
  await expect(page.locator("#sync-status")).toBeHidden();
  await expect(row(page, "pkg/util.py")).not.toHaveClass(/unsynced/);
  await expect.poll(() => stored(session, "pkg/util.py")).toContain("# changed offline");
  expect(stored(session, "pkg/util.py")).toContain("return 41");
  expect(errors).toEqual([]);
});

test("offline: a file changed on the server meanwhile ends in the conflict dialog", async ({ page, context, baseURL }) => {
  const session = await startAsGuest(page);
  await availableOffline(page);
  await goOffline(context);
  await row(page, "main.py").click();
  await typeInEditor(page, "\n# mine, offline\n");
  await page.keyboard.press("ControlOrMeta+S");
  await expect(page.locator('.tab[data-path="main.py"]')).toHaveClass(/unsynced/);

  await saveFromElsewhere(context, baseURL!, session, "main.py", "# theirs, meanwhile\n");
  await goOnline(context);
  const dialog = page.getByRole("dialog", { name: "Save conflict" });
  await expect(dialog).toBeVisible();
  // Nothing was overwritten while the user decides.
  expect(stored(session, "main.py")).toContain("# theirs, meanwhile");
  expect(stored(session, "main.py")).not.toContain("# mine, offline");
  await expect(page.locator("#sync-status")).toBeVisible();

  await dialog.getByRole("button", { name: "Keep mine" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator("#sync-status")).toBeHidden();
  // The page catching up with the server never put theirs over the kept text.
  await expect(page.locator(".editor-host .view-lines")).toContainText("# mine, offline");
  await expect(page.locator('.tab[data-path="main.py"]')).not.toHaveClass(/dirty|unsynced/);
  await expect.poll(() => stored(session, "main.py")).toContain("# mine, offline");
});

test("signing out leaves no copy behind for the next user", async ({ page, context }) => {
  const session = await startAsGuest(page);
  await availableOffline(page);
  await page.locator("#sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
  const left = await page.evaluate(async () => {
    const pages = await (await caches.open("webide-pages")).keys();
    const db: IDBDatabase = await new Promise((ok, fail) => {
      const r = indexedDB.open("webide");
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const count = (store: string) =>
      new Promise<number>((ok) => {
        const r = db.transaction(store).objectStore(store).count();
        r.onsuccess = () => ok(r.result);
      });
    return { pages: pages.length, files: await count("files"), trees: await count("trees") };
  });
  expect(left).toEqual({ pages: 0, files: 0, trees: 0 });
  // Offline, the signed-out user's session page is not there to be read.
  await goOffline(context);
  await page.goto(`/s/${session}`);
  await expect(page.locator("body")).toContainText("You are offline");
  await expect(page.locator(".tree-row")).toHaveCount(0);
  await goOnline(context);
});
