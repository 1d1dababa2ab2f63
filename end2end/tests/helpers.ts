import { expect, Page } from "@playwright/test";

// What several end-to-end tests do the same way.

// "Try without an account" from the home page: a guest in their first session.
// Returns the session's id.
export async function startAsGuest(page: Page): Promise<string> {
  await page.goto("/");
  await page.locator("body[data-hydrated]").waitFor();
  await page.locator("#try-guest").click();
  await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await page.locator("body[data-hydrated]").waitFor();
  return page.url().split("/s/")[1];
}

export function row(page: Page, path: string) {
  return page.locator(`.tree-row[data-path="${path}"]`);
}

// Types at the end of the file shown in Monaco.
export async function typeInEditor(page: Page, text: string) {
  await page.locator(".monaco-editor .view-lines").click();
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.type(text);
}
