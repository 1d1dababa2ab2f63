import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { row, startAsGuest } from "./helpers";

// Runs: F5 and ▶ Run execute the shown file apart from the terminals, its output
// streams into the Output panel, input is typed while it runs, test cases give
// a pass/fail table, and the Runs list keeps every run.

// Replaces the shown file's text in Monaco.
async function replaceText(page: Page, text: string) {
  await page.locator(".monaco-editor .view-lines").click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
}

test("F5 runs a program that asks for a name; the answer is typed in the Output panel", async ({ page }) => {
  await startAsGuest(page);
  await row(page, "main.py").click();
  await replaceText(page, 'name = input("Name? ")\nprint(f"Hello, {name}!")\n');
  await page.keyboard.press("F5");

  const output = page.locator("#run-output");
  await expect(output).toContainText("Name? ");
  await expect(page.locator("#run-result")).toHaveAttribute("data-status", "running");
  await page.locator("#run-input").fill("Ada");
  await page.locator("#run-input").press("Enter");
  await expect(output).toContainText("Hello, Ada!");
  const result = page.locator("#run-result");
  await expect(result).toHaveAttribute("data-status", "finished");
  await expect(result).toContainText("exit 0");
  await expect(result).toContainText("MiB");
  // Saved before it ran.
  await expect(page.locator('.tab[data-path="main.py"]')).not.toHaveClass(/dirty/);

  // Listed, and run again from the list (its input is typed again).
  await page.locator("#runs-tab").click();
  const first = page.locator(".run-row").first();
  await expect(first).toHaveAttribute("data-status", "finished");
  await expect(first).toContainText("python3 -u 'main.py'");
  await first.getByRole("button", { name: "Re-run" }).click();
  await expect(output).toContainText("Name? ");
  await page.locator("#run-stop").click();
  await expect(result).toHaveAttribute("data-status", "cancelled");
});

test("three test cases run in one go and the table shows which passed", async ({ page }) => {
  await startAsGuest(page);
  await row(page, "main.py").click();
  await replaceText(page, "print(int(input()) * 2)\n");
  await page.locator("#output-tab").click();
  await page.locator("#tests-toggle").check();
  const cases: [string, string][] = [["1", "2"], ["2", "4"], ["3", "7"]];
  for (const [i, [input, expected]] of cases.entries()) {
    if (i > 0) await page.locator("#add-case").click();
    const c = page.locator(`.case[data-case="${i}"]`);
    await c.locator(".case-stdin").fill(input);
    await c.locator(".case-expected").fill(expected);
  }
  await page.locator("#run-tests").click();
  const table = page.locator("#case-table");
  await expect(table.locator("tbody tr")).toHaveCount(3);
  await expect(table.locator("tfoot")).toContainText("2 of 3 passed");
  await expect(table.locator("tbody tr.failed")).toHaveCount(1);
  await expect(page.locator('.case[data-case="2"] .case-diff')).toContainText("+6");
  await expect(page.locator("#run-result")).toContainText("2/3 passed");
});
