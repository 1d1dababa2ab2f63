import { expect, test } from "./fixtures";

// The IDE shell: server-rendered, then hydrated by the WASM bundle.

test("the page is rendered on the server", async ({ request }) => {
  const res = await request.get("/");
  expect(res.status()).toBe(200);
  const html = await res.text();
  // Present in the HTML itself, before any script has run.
  expect(html).toContain('class="brand"');
  expect(html).toContain('id="toggle-sidebar"');
  expect(html).toContain("connecting…");
  expect(html).toContain("/pkg/webide.js");
});

test("the bundle is served compressed", async ({ request }) => {
  const res = await request.get("/pkg/webide.wasm", { headers: { "accept-encoding": "gzip" } });
  expect(res.status()).toBe(200);
  expect(res.headers()["content-encoding"]).toBe("gzip");
  const api = await request.get("/api/health/info", { headers: { "accept-encoding": "gzip" } });
  expect(api.headers()["content-encoding"]).toBeUndefined();
});

test("the page reads without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.locator(".brand")).toHaveText("WebIDE");
  await expect(page.locator("aside.sidebar")).toBeVisible();
  await context.close();
});

test("hydration makes the page interactive and calls the server", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto("/");
  // Only the hydrated client calls /api/health/info and updates the status bar.
  await expect(page.locator("#server-status")).toHaveText(/database ok/);
  await expect(page.locator("#server-status")).toHaveAttribute("data-state", "ok");
  // Only a hydrated button toggles the sidebar.
  const toggle = page.locator("#toggle-sidebar");
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await toggle.click();
  await expect(page.locator(".ide")).toHaveClass(/sidebar-collapsed/);
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(page.locator(".ide")).not.toHaveClass(/sidebar-collapsed/);
  expect(errors).toEqual([]);
});

test("session routes need a signed-in owner; unknown pages are 404", async ({ page, request }) => {
  const uuid = "3f2b8f0e-8a2d-4a57-9c1e-0d4a3f3c1b2a";
  const res = await page.goto(`/s/${uuid}`);
  expect(res?.status()).toBe(401);
  await expect(page.locator("h1")).toHaveText("Sign in to open this session");
  const missing = await request.get("/no/such/page");
  expect(missing.status()).toBe(404);
  const api = await request.get("/api/no/such/endpoint");
  expect(api.status()).toBe(404);
  expect(await api.json()).toMatchObject({ error: "not_found" });
});
