import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { open, register, reload, row, typeInEditor, unique } from "./helpers";

// Accounts, sessions, the file tree and the Monaco editor, as a user drives them.

async function answerDialog(page: Page, text: string, button: string) {
  const dialog = page.getByRole("dialog");
  await dialog.locator("input").fill(text);
  await dialog.getByRole("button", { name: button }).click();
}

test("register, create a session, a folder and a file, edit, save, reload", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const name = unique();
  await register(page, name);

  await page.getByLabel("Session name").fill("e2e work");
  await page.getByLabel("Language", { exact: true }).selectOption("python");
  await page.getByRole("button", { name: "Create session" }).click();
  await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await expect(row(page, "main.py")).toBeVisible();

  // A folder from the explorer's toolbar, then a file inside it from the context menu.
  await page.getByRole("button", { name: "New folder" }).click();
  await answerDialog(page, "pkg", "Create");
  await expect(row(page, "pkg")).toBeVisible();
  await row(page, "pkg").click({ button: "right" });
  await page.getByRole("menuitem", { name: "New file…" }).click();
  await answerDialog(page, "util.py", "Create");
  await expect(row(page, "pkg/util.py")).toBeVisible();

  // Creating the file opened it in Monaco.
  await expect(page.locator('.tab[data-path="pkg/util.py"]')).toBeVisible();
  await expect(page.locator(".monaco-editor")).toBeVisible();
  await typeInEditor(page, "def answer():\n    return 42\n");
  await expect(page.locator('.tab[data-path="pkg/util.py"]')).toHaveClass(/dirty/);
  await expect(page.locator("#save-status")).toHaveText("1 unsaved file");
  await page.keyboard.press("ControlOrMeta+S");
  await expect(page.locator("#save-status")).toHaveText("All changes saved");

  await reload(page);
  await expect(row(page, "pkg")).toBeVisible();
  await row(page, "pkg").click();
  await row(page, "pkg/util.py").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("return 42");
  expect(errors).toEqual([]);
});

test("the tree works from the keyboard: rename and delete with confirmation", async ({ page }) => {
  await register(page, unique());
  await page.getByRole("button", { name: "Create session" }).click();
  await expect(row(page, "main.py")).toBeVisible();
  await row(page, "main.py").focus();
  await page.keyboard.press("F2");
  await answerDialog(page, "app.py", "Rename");
  await expect(row(page, "app.py")).toBeVisible();
  await row(page, "app.py").focus();
  await page.keyboard.press("Delete");
  await expect(page.getByRole("dialog")).toContainText("Delete app.py?");
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(page.locator(".tree")).toContainText("No files yet.");
});

test("a save from a stale version opens the conflict dialog", async ({ browser }) => {
  const name = unique();
  const first = await browser.newContext();
  const a = await first.newPage();
  await register(a, name);
  await a.getByRole("button", { name: "Create session" }).click();
  await expect(row(a, "main.py")).toBeVisible();
  const url = a.url();
  await row(a, "main.py").click();
  await expect(a.locator(".monaco-editor .view-lines")).toContainText("Hello");
  // Edited, not saved: a tab with edits does not follow changes made elsewhere.
  await typeInEditor(a, "# from a\n");

  // The same user in a second browser saves first.
  const second = await browser.newContext();
  const b = await second.newPage();
  await open(b, "/login");
  await b.locator("input[name=login]").fill(name);
  await b.locator("input[name=password]").fill("correct horse");
  await b.getByRole("button", { name: "Sign in" }).click();
  await expect(b.locator("#current-user")).toHaveText(name);
  await open(b, url);
  await row(b, "main.py").click();
  await expect(b.locator(".monaco-editor .view-lines")).toContainText("Hello");
  await typeInEditor(b, "# from b\n");
  await b.keyboard.press("ControlOrMeta+S");
  await expect(b.locator("#save-status")).toHaveText("All changes saved");

  await a.keyboard.press("ControlOrMeta+S");
  const dialog = a.getByRole("dialog", { name: "Save conflict" });
  await expect(dialog).toBeVisible();
  await expect(dialog.locator(".monaco-diff-editor")).toBeVisible();
  await dialog.getByRole("button", { name: "Copy mine aside" }).click();
  await expect(row(a, "main (conflict copy).py")).toBeVisible();
  await expect(a.locator(".monaco-editor .view-lines").first()).toContainText("from b");
  await first.close();
  await second.close();
});

test("a guest starts at once", async ({ page }) => {
  await open(page, "/");
  await page.locator("#try-guest").click();
  await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await expect(page.locator("#current-user")).toContainText("(guest)");
  await expect(row(page, "main.py")).toBeVisible();
});

test("the profile makes a junior reviewer; only a senior could make a senior", async ({ page }) => {
  await register(page, unique());
  await page.locator("#current-user").click();
  await expect(page.locator("h1")).toHaveText("Profile");
  await expect(page.locator("#reviewer-level option[value='2']")).toHaveCount(0);
  await page.locator("#reviewer-level").selectOption("1");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await reload(page);
  await expect(page.locator("#reviewer-level")).toHaveValue("1");
});

test.describe(() => {
  // The service worker would answer for the bundle, past the slow route below.
  test.use({ serviceWorkers: "block" });
  test("a file clicked before the page has hydrated opens once it has", async ({ page }) => {
    await register(page, unique());
    await page.getByLabel("Session name").fill("early");
    await page.getByRole("button", { name: "Create session" }).click();
    await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
    const url = page.url();
    // A slow bundle: the tree is there, the app is not yet.
    await page.route("**/pkg/*.wasm", async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto(url, { waitUntil: "commit" });
    await row(page, "main.py").click();
    await expect(page.locator("body[data-hydrated]")).toHaveCount(0);
    await expect(row(page, "main.py")).toHaveClass(/pending/);
    await page.locator("body[data-hydrated]").waitFor();
    await expect(page.locator(".monaco-editor .view-lines")).toContainText("Hello, world!");
    await expect(row(page, "main.py")).toHaveClass(/selected/);
    // The activity bar draws its icons; no path data shows as text.
    await expect(page.locator(".activity svg path")).toHaveCount(4);
    await expect(page.locator(".activity")).toHaveText("");
  });

  test("clicking a file again and again from the first paint opens it once, with its content", async ({ page }) => {
    await register(page, unique());
    await page.getByLabel("Session name").fill("clicks");
    await page.getByRole("button", { name: "Create session" }).click();
    await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
    const url = page.url();
    // Monaco arrives late: the file is opened (and opened again) before it has.
    await page.route("**/vendor/monaco/vs/loader.js", async (route) => {
      await new Promise((r) => setTimeout(r, 2000));
      await route.continue();
    });
    await page.goto(url, { waitUntil: "commit" });
    const started = Date.now();
    while (Date.now() - started < 4000) {
      await row(page, "main.py").click().catch(() => {});
      await page.waitForTimeout(400);
    }
    await expect(page.locator(".monaco-editor .view-lines")).toContainText("Hello, world!");
    await expect(page.locator(".tabs .tab", { hasText: "main.py" })).toHaveCount(1);
  });
});
