import { test as base, BrowserContext, expect } from "@playwright/test";

// Every test runs under the pages' Content-Security-Policy: anything it refuses
// (Chromium says so on the console) fails the test, in every browser context the
// test opens.
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ browser, context }, use) => {
      const refused: string[] = [];
      const watch = (ctx: BrowserContext) =>
        ctx.on("console", (m) => {
          if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
        });
      watch(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args) => {
        const ctx = await newContext(...args);
        watch(ctx);
        return ctx;
      };
      await use();
      browser.newContext = newContext;
      expect(refused, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
