import { expect, test } from "./fixtures";
import { open, reload, row, startAsGuest, unique, user } from "./helpers";

// Settings live on the server and apply from the first render: the light theme
// survives a reload with no dark flash, and reaches Monaco and the terminal.

test("the light theme applies at once, and from the first byte after a reload", async ({ browser }) => {
  const page = await user(browser, unique());
  await open(page, "/settings");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.locator("#setting-theme").selectOption("light");
  await page.locator("#setting-editor-font").fill("18");
  await page.locator("#setting-editor-font").dispatchEvent("change");
  await page.locator("#save-settings").click();
  await expect(page.locator("#settings-notice")).toContainText("Saved");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(await background()).toBe("rgb(255, 255, 255)");

  // The server renders the page light: the HTML itself says so, before any script.
  const html = await (await page.request.get("/settings")).text();
  expect(html).toContain('data-theme="light"');
  await reload(page);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect(page.locator("#setting-editor-font")).toHaveValue("18");

  // Monaco opens in its light theme with the chosen font size.
  await page.goto("/");
  await page.getByLabel("Session name").fill("Light");
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByRole("button", { name: "Create session" }).click();
  await expect(page).toHaveURL(/\/s\//);
  await page.locator("body[data-hydrated]").waitFor();
  await row(page, "main.py").click();
  await expect(page.locator(".monaco-editor").first()).toHaveClass(/vs(?!-dark)/);
  const fontSize = await page.locator(".monaco-editor .view-lines").first().evaluate((e) => getComputedStyle(e).fontSize);
  expect(fontSize).toBe("18px");
});

test("a guest keeps settings too; values out of range are refused", async ({ page }) => {
  await startAsGuest(page);
  await open(page, "/settings");
  // The form refuses it before sending, and so does the server.
  await page.locator("#setting-tab-size").fill("40");
  await expect(page.locator("#setting-tab-size:invalid")).toHaveCount(1);
  const r = await page.request.post("/api/settings/set", {
    data: { settings: { tab_size: 40 } },
  });
  expect(r.status()).toBe(422);
  expect((await r.json()).message).toContain("tab size is 1 to 8");
  await page.locator("#setting-tab-size").fill("2");
  await page.locator("#setting-tab-size").dispatchEvent("change");
  await page.locator("#setting-theme").selectOption("high_contrast");
  await page.locator("#save-settings").click();
  await expect(page.locator("#settings-notice")).toContainText("Saved");
  await reload(page);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "high_contrast");
  await expect(page.locator("#setting-tab-size")).toHaveValue("2");
});

test("signing out everywhere ends the other browser's login too", async ({ browser }) => {
  const name = unique();
  const laptop = await user(browser, name);
  const phone = await (await browser.newContext()).newPage();
  await open(phone, "/login");
  await phone.locator("input[name=login]").fill(name);
  await phone.locator("input[name=password]").fill("correct horse");
  await phone.getByRole("button", { name: "Sign in" }).click();
  await expect(phone.locator("#current-user")).toHaveText(name);

  await open(laptop, "/settings");
  await laptop.locator("#logout-everywhere").click();
  await expect(laptop).toHaveURL(/\/login$/);
  await reload(phone);
  await expect(phone.locator("#current-user")).toHaveCount(0);
});
