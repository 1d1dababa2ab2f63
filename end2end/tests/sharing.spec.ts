import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { open, row, typeInEditor, unique, user } from "./helpers";

// Collaborators: alice shares a session with bob, changes his role, removes him;
// each step shows in bob's open page without a reload.


async function shareDialog(page: Page) {
  await page.locator("#share-button").click();
  return page.getByRole("dialog", { name: "Share" });
}

test("a viewer reads, an editor edits live, a removed collaborator loses the page at once", async ({ browser }) => {
  const [aliceName, bobName] = [unique(), unique()];
  const alice = await user(browser, aliceName);
  const bob = await user(browser, bobName);
  const errors: string[] = [];
  for (const p of [alice, bob]) p.on("pageerror", (e) => errors.push(e.message));

  // Alice makes a session, opens main.py and shares it with bob as a viewer.
  await alice.getByLabel("Session name").fill("pair work");
  await alice.getByRole("button", { name: "Create session" }).click();
  await expect(alice).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  const url = alice.url();
  await row(alice, "main.py").click();
  await expect(alice.locator(".monaco-editor .view-lines")).toContainText("Hello, world!");
  let dialog = await shareDialog(alice);
  await dialog.locator("#share-user").fill(`${bobName}@example.com`);
  await dialog.locator("#share-role").selectOption("viewer");
  await dialog.getByRole("button", { name: "Share", exact: true }).click();
  await expect(dialog.locator(`.share-row[data-user="${bobName}"]`)).toContainText("viewer");
  await dialog.getByRole("button", { name: "Done" }).click();

  // Bob finds it in his list, marked as alice's, and opens it read-only.
  await open(bob, "/");
  const listed = bob.locator('.session-row[data-role="viewer"]');
  await expect(listed).toContainText(`shared by ${aliceName}`);
  await listed.locator(".session-name").click();
  await expect(bob).toHaveURL(url);
  await bob.locator("body[data-hydrated]").waitFor();
  await expect(bob.locator("#my-role")).toHaveText("viewer");
  await expect(bob.locator("#read-only")).toBeVisible();
  await expect(bob.locator("#no-terminals")).toBeVisible();
  await expect(bob.locator(".term-view")).toHaveCount(0);
  await expect(bob.locator("#new-terminal")).toHaveCount(0);
  await row(bob, "main.py").click();
  await expect(bob.locator(".monaco-editor .view-lines")).toContainText("Hello, world!");
  await typeInEditor(bob, "# bob typed this");
  await expect(bob.locator(".monaco-editor .view-lines")).not.toContainText("bob typed this");
  await bob.keyboard.press("ControlOrMeta+S");
  await expect(bob.locator("#notice")).toContainText("needs an editor role or higher; you are a viewer");

  // Alice makes him an editor: his open page follows, and his edit reaches hers.
  dialog = await shareDialog(alice);
  await dialog.getByLabel(`Role of ${bobName}`).selectOption("editor");
  await expect(bob.locator("#my-role")).toHaveText("editor");
  await expect(bob.locator("#read-only")).toHaveCount(0);
  await typeInEditor(bob, "\nprint('bob was here')");
  await bob.keyboard.press("ControlOrMeta+S");
  await expect(bob.locator("#notice")).toHaveText("Saved main.py");
  await expect(alice.locator(".monaco-editor .view-lines")).toContainText("bob was here");
  // An editor has terminals.
  await expect(bob.locator(".ptab[data-link=open]")).toBeVisible();

  // Alice removes him: his page says so at once, his terminal is gone.
  await dialog.locator(`.share-row[data-user="${bobName}"]`).getByRole("button", { name: "Remove" }).click();
  await expect(dialog.locator(`.share-row[data-user="${bobName}"]`)).toHaveCount(0);
  await expect(bob.locator("#access-ended")).toBeVisible({ timeout: 10_000 });
  await expect(bob.locator(".ptab[data-link=open]")).toHaveCount(0);
  await open(bob, "/");
  await expect(bob.locator(".session-row")).toHaveCount(0);
  await bob.goto(url);
  await expect(bob.locator("h1")).toHaveText("Session not found");
  expect(errors).toEqual([]);
});
