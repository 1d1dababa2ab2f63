import { Browser, expect, Page } from "@playwright/test";

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

// Clicks before hydration would do nothing: wait for the bundle to take over.
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.locator("body[data-hydrated]").waitFor();
}

export async function reload(page: Page) {
  await page.reload();
  await page.locator("body[data-hydrated]").waitFor();
}

export const unique = () => `u${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

// Registers and signs in through the form.
export async function register(page: Page, name: string) {
  await open(page, "/register");
  await page.locator("input[name=username]").fill(name);
  await page.locator("input[name=email]").fill(`${name}@example.com`);
  await page.locator("input[name=password]").fill("correct horse");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#current-user")).toHaveText(name);
}

// A registered user in a browser context of their own.
export async function user(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await register(page, name);
  return page;
}
