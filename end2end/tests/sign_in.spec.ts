import { expect, test } from "./fixtures";
import { open, unique, user } from "./helpers";

// Sign-in with providers, against the real OpenID Connect provider and the
// GitHub-like server scripts/test starts (end2end/providers/mock.mjs) and
// configures the IDE with. PROVIDERS_URL is where they listen.
const providers = process.env.PROVIDERS_URL ?? "http://127.0.0.1:3900";

async function next(who: object) {
  const r = await fetch(`${providers}/control/next`, { method: "POST", body: JSON.stringify(who) });
  expect(r.ok).toBeTruthy();
}

test("sign in with an OpenID provider makes an account; GitHub too", async ({ page }) => {
  const name = unique();
  await next({ sub: `sub-${name}`, email: `${name}@corp.example`, name: "Ada Lovelace", preferred_username: name });
  await open(page, "/login");
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#current-user")).toHaveText(name);

  // Signed out, the same provider account signs in to the same account.
  await page.context().clearCookies();
  await open(page, "/login");
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await expect(page.locator("#current-user")).toHaveText(name);

  const octo = unique();
  await page.context().clearCookies();
  await next({ provider: "github", id: Date.now(), login: octo, name: "Octo", email: `${octo}@gh.example` });
  await open(page, "/login");
  await page.getByRole("link", { name: "Continue with GitHub" }).click();
  await expect(page.locator("#current-user")).toHaveText(octo);
});

test("a provider is linked to a password account only by its owner, and unlinked", async ({ browser }) => {
  const name = unique();
  const page = await user(browser, name);
  // Someone at the provider with the same email is turned away, with the reason.
  await next({ sub: `other-${name}`, email: `${name}@example.com`, preferred_username: name });
  const stranger = await (await browser.newContext()).newPage();
  await open(stranger, "/login");
  await stranger.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await expect(stranger).toHaveURL(/\/login\?error=/);
  await expect(stranger.locator("#provider-error")).toContainText("already exists");

  // The owner, signed in, links it from the settings…
  await open(page, "/settings");
  const corp = page.locator('.sign-in-methods li[data-method="corp"]');
  await expect(corp).toContainText("not linked");
  await corp.getByRole("link", { name: "Link" }).click();
  await expect(page).toHaveURL(/\/settings\?linked=/);
  await expect(page.locator("#methods-notice")).toContainText("Corp SSO is linked");
  await expect(corp).toContainText(`${name}@example.com`);

  // …and it signs them in from then on.
  await stranger.context().clearCookies();
  await open(stranger, "/login");
  await stranger.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await expect(stranger.locator("#current-user")).toHaveText(name);

  await page.locator("body[data-hydrated]").waitFor();
  await corp.getByRole("button", { name: "Unlink" }).click();
  await expect(page.locator("#methods-notice")).toContainText("Corp SSO is unlinked");
  await expect(corp).toContainText("not linked");
});

test("an account made with a provider keeps its only way to sign in", async ({ page }) => {
  const name = unique();
  await next({ sub: `only-${name}`, email: `${name}@corp.example`, preferred_username: name });
  await open(page, "/login");
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await expect(page.locator("#current-user")).toHaveText(name);
  await open(page, "/settings");
  const corp = page.locator('.sign-in-methods li[data-method="corp"]');
  await expect(corp.getByRole("button", { name: "Unlink" })).toBeDisabled();
  await expect(page.locator('.sign-in-methods li[data-method="password"]')).toContainText("none");
});
