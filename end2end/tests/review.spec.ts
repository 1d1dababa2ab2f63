import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { open, unique, user } from "./helpers";

// Code review in two browsers: alice submits; bob, a junior reviewer, claims it
// and comments on line 3 of main.py with a suggestion and an issue; alice sees
// both live, applies the suggestion, resolves the issue and resubmits; bob's
// comment follows its line, his earlier approval is stale, he approves; the
// history lists every step.

const CODE = 'import math\n\nprint(math.pi)\nprint("done")\n';


async function comment(page: Page, kind: string, body: string, line?: string, suggestion?: string) {
  const form = page.locator("#comment-form");
  await form.locator("#comment-on-file").setChecked(line !== undefined);
  await form.locator("#comment-line").fill(line ?? "");
  await form.locator("#comment-kind").selectOption(kind);
  await form.locator("#comment-body").fill(body);
  if (suggestion !== undefined) await form.locator("#comment-suggestion").fill(suggestion);
  await form.locator("#comment-submit").click();
  await expect(page.locator(`.thread .thread-body`, { hasText: body })).toBeVisible();
}

test("submit, claim, comment, apply, resubmit, approve", async ({ browser }) => {
  const [aliceName, bobName] = [unique(), unique()];
  const alice = await user(browser, aliceName);
  const bob = await user(browser, bobName);
  const errors: string[] = [];
  for (const p of [alice, bob]) p.on("pageerror", (e) => errors.push(e.message));

  // Bob becomes a junior reviewer in his profile.
  await open(bob, "/profile");
  await bob.locator("#reviewer-level").selectOption("1");
  await bob.getByRole("button", { name: "Save" }).click();
  await expect(bob.getByRole("status")).toHaveText("Saved.");
  await expect(bob.locator("#reviewer-level option[value='2']")).toHaveCount(0);

  // Alice's session, with four lines in main.py.
  await alice.getByLabel("Session name").fill("circle");
  await alice.getByRole("button", { name: "Create session" }).click();
  await expect(alice).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  const session = alice.url().split("/s/")[1];
  const file = await (await alice.request.post("/api/files/read", { data: { session, path: "main.py" } })).json();
  const saved = await alice.request.post("/api/files/save", {
    data: { session, path: "main.py", content: CODE, base_hash: file.hash },
  });
  expect(saved.ok()).toBeTruthy();
  await open(alice, `/s/${session}`);

  await alice.locator("#submit-review").click();
  const dialog = alice.getByRole("dialog", { name: "Submit for review" });
  // The queue is everyone's: the title tells this test's request apart.
  const title = `Print the circle constant ${aliceName}`;
  await dialog.locator("#review-title").fill(title);
  await dialog.locator("#review-description").fill("Prints **pi** <script>alert(1)</script>");
  await dialog.getByRole("button", { name: "Submit" }).click();
  await expect(alice).toHaveURL(/\/reviews\/[0-9a-f-]{36}$/);
  const url = alice.url();
  await alice.locator("body[data-hydrated]").waitFor();
  await expect(alice.locator("#review-status")).toHaveText("pending");
  await expect(alice.locator(".review-description strong")).toHaveText("pi");
  await expect(alice.locator(".review-description")).toContainText("<script>");

  // Bob finds it in the queue and claims it.
  await open(bob, "/reviews");
  await bob.locator("#reviews-queue").click();
  const row = bob.locator(".review-row", { hasText: title });
  await row.getByRole("button", { name: "Claim" }).click();
  await expect(bob).toHaveURL(url);
  await bob.locator("body[data-hydrated]").waitFor();
  await expect(bob.locator("#review-status")).toHaveText("in review");
  await expect(alice.locator("#review-status")).toHaveText("in review");
  await expect(bob.locator(".review-editor .view-lines").first()).toContainText("print(math.pi)");

  // A suggestion and an issue on line 3, and an approval of the rest.
  await comment(bob, "suggestion", "Say what it is", "3", "# the circle constant\nprint(math.pi)");
  await comment(bob, "issue", "Print more digits", "3");
  await comment(bob, "approval", "Otherwise fine");
  await expect(bob.locator(".review-zone")).toHaveCount(2);

  // Alice sees both live; it is her move.
  await expect(alice.locator('.thread[data-kind="suggestion"]')).toBeVisible();
  await expect(alice.locator('.thread[data-kind="issue"]')).toBeVisible();
  await expect(alice.locator("#unresolved-count")).toHaveText("1");
  await expect(alice.locator("#whose-turn")).toHaveText("the submitter");
  await expect(bob.locator("#review-approve")).toBeVisible();

  await alice.locator('.thread[data-kind="suggestion"] .apply-suggestion').click();
  await expect(alice.locator('.thread[data-kind="suggestion"]')).toContainText("Applied.");
  await alice.locator('.thread[data-kind="issue"] .resolve-thread').click();
  await expect(alice.locator("#unresolved-count")).toHaveText("0");
  await alice.locator("#review-note").fill("described it");
  await alice.locator("#review-resubmit").click();
  await expect(alice.locator("#review-status")).toHaveText("in review");
  const now = await (await alice.request.post("/api/files/read", { data: { session, path: "main.py" } })).json();
  expect(now.content).toBe('import math\n\n# the circle constant\nprint(math.pi)\nprint("done")\n');

  // Bob's issue followed its line to revision 2; his approval is stale; he approves.
  await expect(bob.locator('.thread[data-kind="issue"] .thread-where')).toHaveText("main.py:4 (revision 2)");
  await expect(bob.locator(".approval.stale")).toContainText("revision 1");
  await expect(bob.locator("#whose-turn")).toHaveText("the reviewer");
  // The revisions side by side.
  await bob.locator("#compare-select").selectOption("1");
  await expect(bob.locator(".monaco-diff-editor")).toBeVisible();
  await bob.locator("#review-approve").click();
  await expect(bob.locator("#review-status")).toHaveText("approved");
  await expect(alice.locator("#review-status")).toHaveText("approved");

  const events = await alice.locator("#review-history li").evaluateAll((items) =>
    items.map((li) => li.getAttribute("data-event")),
  );
  expect(events).toEqual(["submitted", "claimed", "resubmitted", "approved"]);
  await expect(alice.locator("#review-history")).toContainText("described it");
  expect(errors).toEqual([]);
});
