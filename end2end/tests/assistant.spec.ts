import { expect, test } from "./fixtures";
import { open, row, unique, user } from "./helpers";

// The assistant against the model server scripts/test starts
// (end2end/providers/models.mjs under PROVIDERS_URL/models): a key saved in the
// settings, a question about the open file, the answer streaming in, its code
// block accepted as a diff and saved.
const providers = process.env.PROVIDERS_URL ?? "http://127.0.0.1:3900";

const CODE = 'print("hello from the assistant")';

test("save a key, ask about the open file, watch the answer stream, accept its code, save", async ({ browser }) => {
  const page = await user(browser, unique());
  await open(page, "/settings");
  await page.locator("#key-provider").selectOption("openai");
  await page.locator("#key-base-url").fill(`${providers}/models/openai/v1`);
  await page.locator("#key-label").fill("local model");
  // Each run its own key: other tests use the model server at the same time.
  const secret = `sk-e2e-${unique()}`;
  await page.locator("#key-secret").fill(secret);
  await page.locator("#key-save").click();
  await expect(page.locator("#ai-keys")).toContainText(`…${secret.slice(-4)}`);
  await expect(page.locator("#ai-keys")).not.toContainText("sk-e2e");

  // A slow answer, to watch it come.
  const prose = "This file prints a greeting. ".repeat(6);
  const queued = await fetch(`${providers}/models/control/next`, {
    method: "POST",
    body: JSON.stringify({ key: secret, mode: "stream", delay_ms: 70, text: `${prose}\n\`\`\`python\n${CODE}\n\`\`\`\n` }),
  });
  expect(queued.ok).toBeTruthy();
  const created = await page.request.post("/api/sessions/create", { data: { name: "ai", language: "python" } });
  const session = (await created.json()).uuid;
  await open(page, `/s/${session}`);
  await row(page, "main.py").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("Hello, world!");
  await page.locator("#view-assistant").click();
  await page.locator("#ai-input").fill("What does this file do?");
  await page.locator("#ai-input").press("Enter");

  // What was sent is listed under the question.
  await expect(page.locator(".ai-question").last()).toContainText("file main.py");
  const answer = page.locator(".ai-answer").last();
  await expect(answer).toContainText("This file prints");
  await expect(answer).toContainText("Writing…");
  await expect(answer.locator(".ai-code")).toContainText(CODE);
  await expect(answer).not.toContainText("Writing…");

  await answer.getByRole("button", { name: "Replace file" }).click();
  const dialog = page.getByRole("dialog", { name: "Assistant's change" });
  await expect(dialog.locator(".monaco-diff-editor")).toBeVisible();
  await dialog.locator("#ai-accept").click();
  await expect(dialog).toHaveCount(0);
  const tab = page.locator('.tab[data-path="main.py"]');
  await expect(tab).toHaveClass(/dirty/);
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("ControlOrMeta+S");
  await expect(tab).not.toHaveClass(/dirty/);
  const read = await page.request.post("/api/files/read", { data: { session, path: "main.py" } });
  expect((await read.json()).content).toBe(`${CODE}\n`);

  // The conversation is kept: reopened after a reload.
  await page.reload();
  await page.locator("body[data-hydrated]").waitFor();
  await page.locator("#view-assistant").click();
  await page.locator("#ai-conversation").selectOption({ label: "What does this file do?" });
  await expect(page.locator(".ai-answer").last().locator(".ai-code")).toContainText(CODE);
});

test("Fix this error sends the failed run's output; the usage page counts the request", async ({ browser }) => {
  const page = await user(browser, unique());
  const key = await page.request.post("/api/ai/keys/set", {
    data: { provider: "anthropic", base_url: `${providers}/models/anthropic`, label: "claude", key: "sk-ant-e2e-7777" },
  });
  expect(key.ok()).toBeTruthy();
  const created = await page.request.post("/api/sessions/create", { data: { name: "fix", language: "python" } });
  const session = (await created.json()).uuid;
  await page.request.post("/api/files/create", {
    data: { session, path: "boom.py", kind: "file", content: "print(1 / 0)\n" },
  });
  await open(page, `/s/${session}`);
  await row(page, "boom.py").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("print(1 / 0)");
  await page.locator("#run-file").click();
  await expect(page.locator("#run-result")).toHaveAttribute("data-status", "runtime_error");

  await page.locator("#view-assistant").click();
  await page.locator("#ai-fix").click();
  const question = page.locator(".ai-question").last();
  await expect(question).toContainText("Fix this error.");
  await expect(question).toContainText("output of the run of");
  const answer = page.locator(".ai-answer").last();
  await expect(answer.locator(".ai-code")).toContainText("hello from the assistant");
  await expect(answer).not.toContainText("Writing…");
  // Other tests use the model server at the same time: this key's request.
  const sent: { key: string; body: object }[] = await (await fetch(`${providers}/models/control/requests`)).json();
  const mine = sent.filter((r) => r.key === "sk-ant-e2e-7777").map((r) => JSON.stringify(r.body));
  expect(mine.some((b) => b.includes("ZeroDivisionError"))).toBeTruthy();

  await open(page, "/settings");
  await expect(page.locator("#usage-today")).toContainText("anthropic");
});
