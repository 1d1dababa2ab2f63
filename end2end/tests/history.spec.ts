import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { reload, row, startAsGuest, typeInEditor } from "./helpers";

// File history, recovery and search, as a user drives them.

async function saved(page: Page) {
  await page.keyboard.press("ControlOrMeta+S");
  await expect(page.locator("#save-status")).toHaveText("All changes saved");
}

async function create(page: Page, session: string, path: string, content: string) {
  const r = await page.request.post("/api/files/create", {
    data: { session, path, kind: "file", content },
  });
  expect(r.status()).toBe(200);
}

test("three saves, the Timeline's diff, restoring the first version", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await startAsGuest(page);
  await row(page, "main.py").click();
  const editor = page.locator(".monaco-editor .view-lines").first();
  await expect(editor).toContainText("Hello, world!");
  for (const line of ["a = 1", "b = 2", "c = 3"]) {
    await typeInEditor(page, `\n${line}`);
    await saved(page);
  }
  await page.locator("#view-history").click();
  const versions = page.locator("#timeline .version-row");
  await expect(versions).toHaveCount(4);
  await expect(versions.first()).toContainText("current");
  // The creation, last: its diff against the editor, then restored.
  await versions.last().click();
  const diff = page.locator("#version-diff");
  await expect(diff.locator(".monaco-diff-editor")).toBeVisible();
  await expect(diff.locator(".editor.original")).toContainText("Hello, world!");
  await expect(diff.locator(".editor.modified")).toContainText("c = 3");
  await diff.locator("#restore-version").click();
  await expect(page.locator("#notice")).toHaveText("main.py is back to version 1");
  await expect(editor).not.toContainText("a = 1");
  await expect(versions).toHaveCount(5);
  await expect(versions.first()).toContainText("restore");

  await reload(page);
  await row(page, "main.py").click();
  await expect(editor).toContainText("Hello, world!");
  await expect(editor).not.toContainText("c = 3");
  expect(errors).toEqual([]);
});

test("a deleted folder comes back from Recently deleted", async ({ page }) => {
  const session = await startAsGuest(page);
  await create(page, session, "pkg/util.py", "def util():\n    return 1\n");
  await expect(row(page, "pkg")).toBeVisible();
  await row(page, "pkg").click({ button: "right" });
  await page.getByRole("menuitem", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(row(page, "pkg")).toHaveCount(0);

  await page.locator("#view-history").click();
  const deleted = page.locator("#recently-deleted");
  await expect(deleted.locator('.deleted-row[data-path="pkg/util.py"]')).toBeVisible();
  await deleted.locator('.deleted-row[data-path="pkg"]').getByRole("button", { name: "Restore" }).click();
  await expect(page.locator("#notice")).toHaveText("pkg is back");
  await expect(deleted.locator(".deleted-row")).toHaveCount(0);
  await page.locator("#view-explorer").click();
  await expect(row(page, "pkg/util.py")).toBeVisible();
  await row(page, "pkg/util.py").click();
  await expect(page.locator(".monaco-editor .view-lines").first()).toContainText("return 1");
});

test("a regex search jumps to the line of a result", async ({ page }) => {
  const session = await startAsGuest(page);
  const lines = Array.from({ length: 60 }, (_, i) => `x_${i} = ${i}`);
  lines[41] = "def parse_handler(request):";
  await create(page, session, "src/app.py", lines.join("\n") + "\n");
  await page.keyboard.press("ControlOrMeta+Shift+F");
  await expect(page.locator("#search-query")).toBeVisible();
  await page.locator("#search-regex").click();
  await page.locator("#search-query").fill(String.raw`def \w+_handler`);
  await expect(page.locator("#search-summary")).toHaveText("1 result(s) in 1 file(s)");
  const hit = page.locator('.search-file[data-path="src/app.py"] .search-hit');
  await expect(hit.locator("mark")).toHaveText("def parse_handler");
  await hit.click();
  await expect(page.locator('.tab[data-path="src/app.py"]')).toHaveClass(/active/);
  // The editor shows the line, with the match selected.
  await expect
    .poll(() =>
      page.evaluate(() => {
        // Monaco may still be loading when the tab shows.
        const s = (window as any).monaco?.editor.getEditors()[0]?.getSelection();
        return s ? [s.startLineNumber, s.startColumn, s.endColumn] : null;
      }),
    )
    .toEqual([42, 1, 18]);
  // A broken expression says where.
  await page.locator("#search-query").fill("parse_(");
  await expect(page.locator("#search-error")).toContainText("invalid regular expression at column");
});
