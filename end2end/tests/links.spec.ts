import { expect, test } from "./fixtures";
import { open, register, row, unique, user } from "./helpers";

// Templates, public links and forks: a session made from the C starter runs in
// the terminal; a link opens the files read-only to someone signed out, who
// signs in and forks it.

test("a session from the C template compiles and runs in the terminal", async ({ browser }) => {
  const page = await user(browser, unique());
  await open(page, "/");
  await page.locator("#new-template").selectOption("c");
  await page.getByLabel("Session name").fill("Fibonacci");
  await page.getByRole("button", { name: "Create session" }).click();
  await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await page.locator("body[data-hydrated]").waitFor();
  await expect(row(page, "main.c")).toBeVisible();
  await expect(row(page, "Makefile")).toBeVisible();
  await expect(row(page, "README.md")).toBeVisible();

  const term = page.locator(".term-view:not(.hidden)");
  await expect(term.locator(".xterm-rows")).toContainText("$", { timeout: 30_000 });
  await term.locator(".xterm-screen").click();
  await page.keyboard.type("make && ./main");
  await page.keyboard.press("Enter");
  await expect(term.locator(".xterm-rows")).toContainText("0 1 1 2 3 5 8 13 21 34", { timeout: 30_000 });
});

test("a public link shows the files signed out; signing in, the reader forks it", async ({ browser }) => {
  test.setTimeout(120_000);
  const owner = await user(browser, unique());
  await open(owner, "/");
  await owner.locator("#new-template").selectOption("python");
  await owner.getByLabel("Session name").fill("Shared stats");
  await owner.getByRole("button", { name: "Create session" }).click();
  await expect(owner).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await owner.locator("body[data-hydrated]").waitFor();
  await owner.locator("#share-button").click();
  await owner.locator("#link-expiry").selectOption({ label: "7 days" });
  await owner.locator("#create-link").click();
  const url = await owner.locator("#link-url").inputValue();
  expect(url).toMatch(/\/p\/[A-Za-z0-9_-]{43}$/);
  await expect(owner.locator(".link-row")).toHaveCount(1);
  await owner.getByRole("button", { name: "Done" }).click();

  // A fresh browser, signed out: the tree, the README first, another file on click.
  const reader = await (await browser.newContext()).newPage();
  await open(reader, url);
  await expect(reader.locator(".topbar-title")).toContainText("Shared stats");
  await expect(reader.locator("#public-path")).toHaveText("README.md");
  await expect(reader.locator("#public-editor .view-lines")).toContainText("Python starter");
  await row(reader, "stats.py").click();
  await expect(reader.locator("#public-path")).toHaveText("stats.py");
  await expect(reader.locator("#public-editor .view-lines")).toContainText("def mean");
  // Read-only: typing changes nothing.
  await reader.locator("#public-editor .view-lines").click();
  await reader.keyboard.type("XYZZY");
  await expect(reader.locator("#public-editor .view-lines")).not.toContainText("XYZZY");
  // No terminal, no share.
  await expect(reader.locator("#toggle-panel")).toHaveCount(0);
  await expect(reader.locator("#share-button")).toHaveCount(0);

  // Sign in (registering), back to the link, fork.
  await reader.locator("#fork-sign-in").click();
  await expect(reader).toHaveURL(/\/login\?next=/);
  await reader.locator("#register-link").click();
  const name = unique();
  await register(reader, name);
  await open(reader, url);
  await reader.locator("#fork-button").click();
  await expect(reader).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await reader.locator("body[data-hydrated]").waitFor();
  await expect(reader.locator(".topbar-title")).toHaveText("Copy of Shared stats");
  await expect(row(reader, "stats.py")).toBeVisible();

  // The owner sees the view and the fork.
  await owner.locator("#share-button").click();
  await expect(owner.locator(".link-views")).toContainText("view");
  await open(owner, "/");
  await expect(owner.locator(".session-row", { hasText: "Shared stats" }).locator(".session-forks")).toHaveText("1 fork");

  // Revoked: the page answers 404.
  await owner.locator(".session-row", { hasText: "Shared stats" }).locator(".session-name").click();
  await owner.locator("body[data-hydrated]").waitFor();
  await owner.locator("#share-button").click();
  await owner.locator(".link-row").getByRole("button", { name: "Revoke" }).click();
  await expect(owner.locator(".link-row")).toHaveCount(0);
  const gone = await reader.goto(url);
  expect(gone?.status()).toBe(404);
});
