import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { startAsGuest } from "./helpers";

// The terminal panel: a real shell in the session's sandbox, its files in the
// tree and the command history.

// The shown terminal, once its shell is attached.
async function terminal(page: Page) {
  const term = page.locator(".term-view:not(.hidden)");
  await expect(page.locator(".ptab.active[data-link=open]")).toBeVisible();
  await expect(term.locator(".xterm-rows")).toContainText("$");
  return term;
}

async function typeIn(page: Page, text: string) {
  const term = await terminal(page);
  await term.locator(".xterm-screen").click();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
  return term;
}

test("a file made in the terminal appears in the tree and opens in the editor", async ({ page }) => {
  await startAsGuest(page);
  await typeIn(page, "echo hi > x.txt");
  // No reload: the server tells the page.
  const row = page.locator('.tree-row[data-path="x.txt"]');
  await expect(row).toBeVisible();
  await row.click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("hi");

  // Changed in the terminal while open without edits: the editor follows.
  await typeIn(page, "echo there >> x.txt");
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("there");

  // With the terminal focused, the IDE's view keys still reach the page.
  await page.locator(".term-view:not(.hidden) .xterm-screen").click();
  await page.keyboard.press("ControlOrMeta+Shift+F");
  await expect(page.locator("#search-query")).toBeVisible();
});

test("the history lists each command with its exit code and output", async ({ page }) => {
  await startAsGuest(page);
  await typeIn(page, "python3 -c 'print(6 * 7)'");
  await expect((await terminal(page)).locator(".xterm-rows")).toContainText("42");

  await page.locator("#history-tab").click();
  const first = page.locator(".history-row").first();
  await expect(first.locator(".command")).toHaveText("python3 -c 'print(6 * 7)'");
  await expect(first.locator(".exit")).toHaveText("0");
  await first.locator("summary").click();
  await expect(first.locator(".output")).toContainText("42");
});

test("terminals: several, reattached after a reload, closed on request", async ({ page }) => {
  await startAsGuest(page);
  await typeIn(page, "export MARK=first-shell");
  await page.locator("#new-terminal").click();
  await expect(page.locator(".ptab[data-term]")).toHaveCount(2);
  await typeIn(page, "echo $((2+3))");
  await expect((await terminal(page)).locator(".xterm-rows")).toContainText("5");

  // A reload reattaches both shells, their output replayed and their state kept.
  await page.reload();
  await page.locator("body[data-hydrated]").waitFor();
  await expect(page.locator(".ptab[data-term]")).toHaveCount(2);
  await page.locator(".ptab[data-term] .ptab-label").first().click();
  await typeIn(page, "echo mark=$MARK");
  await expect((await terminal(page)).locator(".xterm-rows")).toContainText("mark=first-shell");

  // Ctrl+` hides and shows the panel.
  await page.keyboard.press("Control+Backquote");
  await expect(page.locator(".panel")).toBeHidden();
  await page.keyboard.press("Control+Backquote");
  await expect(page.locator(".panel")).toBeVisible();

  await page.locator(".ptab[data-term] .ptab-close").last().click();
  await expect(page.locator(".ptab[data-term]")).toHaveCount(1);
});
