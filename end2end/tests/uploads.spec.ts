import { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { row, startAsGuest } from "./helpers";

// Files from the desktop: dropped on the tree or picked with the Upload command,
// they land in the workspace; an image shows its preview, any binary file its
// size and a download link.

// A 2×2 PNG: red and blue pixels.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAEUlEQVR4nGP4z8AAQv8ZYAwAQ84H+VjtZqAAAAAASUVORK5CYII=";

// Drops a file made in the page on `target`, as the desktop would.
async function dropImage(page: Page, target: string, name: string) {
  const dt = await page.evaluateHandle(
    ([b64, name]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: "image/png" }));
      return dt;
    },
    [PNG, name]
  );
  const el = page.locator(target);
  await el.dispatchEvent("dragover", { dataTransfer: dt });
  await el.dispatchEvent("drop", { dataTransfer: dt });
}

test("an image dropped on a folder is uploaded into it and previewed", async ({ page }) => {
  await startAsGuest(page);
  await page.getByRole("button", { name: "New folder" }).click();
  await page.locator(".modal-input").fill("assets");
  await page.getByRole("dialog").getByRole("button", { name: "Create" }).click();
  await expect(row(page, "assets")).toBeVisible();

  await dropImage(page, '.tree-row[data-path="assets"]', "dot.png");
  await expect(row(page, "assets/dot.png")).toBeVisible();
  await expect(page.locator("#notice")).toHaveText("Uploaded 1 file into assets");
  await row(page, "assets/dot.png").click();
  const img = page.locator("#binary-view img.binary-preview");
  await expect(img).toBeVisible();
  // Decoded: the image is the PNG's 2×2 pixels, not a broken icon.
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(2);
  await expect(page.locator("#binary-view .binary-facts")).toContainText("dot.png · 74 bytes · image/png");
  const download = page.waitForEvent("download");
  await page.locator("#binary-view").getByRole("link", { name: "Download" }).click();
  expect((await download).suggestedFilename()).toBe("dot.png");

  // The same name again: asked first, then replaced.
  await dropImage(page, '.tree-row[data-path="assets"]', "dot.png");
  const dialog = page.getByRole("dialog", { name: "Replace files?" });
  await expect(dialog).toContainText("already there: assets/dot.png");
  await dialog.getByRole("button", { name: "Replace" }).click();
  await expect(page.locator("#notice")).toHaveText("Uploaded 1 file into assets");
});

test("the Upload command takes text and binary files from the file dialog", async ({ page }) => {
  await startAsGuest(page);
  const chooser = page.waitForEvent("filechooser");
  await page.locator("#upload-files").click();
  await (await chooser).setFiles([
    { name: "data.csv", mimeType: "text/csv", buffer: Buffer.from("a,b\n1,2\n") },
    { name: "blob.bin", mimeType: "application/octet-stream", buffer: Buffer.from([0, 1, 2, 255]) },
  ]);
  await expect(row(page, "data.csv")).toBeVisible();
  await expect(row(page, "blob.bin")).toBeVisible();
  // Text opens in the editor; a binary file shows what it is.
  await row(page, "data.csv").click();
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("a,b");
  await row(page, "blob.bin").click();
  await expect(page.locator("#binary-view .binary-facts")).toContainText("blob.bin · 4 bytes · application/octet-stream");
  await expect(page.locator("#binary-view img")).toHaveCount(0);
  // Back to the text file: the editor is there again.
  await page.locator('.tab[data-path="data.csv"] .tab-label').click();
  await expect(page.locator("#binary-view")).toHaveCount(0);
  await expect(page.locator(".monaco-editor .view-lines")).toContainText("a,b");
});
