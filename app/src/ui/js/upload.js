// Files from the user's machine, read for an upload: dropped on the tree (folders
// walked through their entries) or picked in the browser's file dialog. Each comes
// back as {path, content, encoding: "base64"}, as the upload API takes them.

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(",") + 1));
    r.onerror = () => reject(r.error || new Error(`${file.name}: unreadable`));
    r.readAsDataURL(file);
  });
}

async function read(list) {
  return Promise.all(
    list.map(async ({ path, file }) => ({ path, content: await base64Of(file), encoding: "base64" }))
  );
}

function entryFile(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

// A folder's entries come in batches until an empty one.
function entriesOf(dir) {
  const reader = dir.createReader();
  return new Promise((resolve, reject) => {
    const all = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(entry, prefix, out) {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push({ path, file: await entryFile(entry) });
  } else if (entry.isDirectory) {
    for (const child of await entriesOf(entry)) await walk(child, path, out);
  }
}

// Whether a drag carries files from the desktop (rather than a row of the tree).
export function carriesFiles(dataTransfer) {
  return !!dataTransfer && Array.from(dataTransfer.types || []).includes("Files");
}

// Must be called while the drop event is being handled: the browser empties the
// DataTransfer afterwards. Resolves to the JSON of the files.
export function readDrop(dataTransfer) {
  const items = Array.from(dataTransfer.items || []).filter((i) => i.kind === "file");
  const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  const files = items.map((i) => i.getAsFile());
  return (async () => {
    const out = [];
    for (let k = 0; k < items.length; k++) {
      if (entries[k]) await walk(entries[k], "", out);
      else if (files[k]) out.push({ path: files[k].name, file: files[k] });
    }
    return JSON.stringify(await read(out));
  })();
}

// Opens the file dialog (for a folder with `folder`); resolves to the JSON of the
// files picked, "[]" when none. Must be called from a click.
export function pick(folder, accept) {
  return new Promise((resolve, reject) => {
    const input = document.createElement("input");
    input.type = "file";
    input.multiple = true;
    if (folder) input.webkitdirectory = true;
    if (accept) input.accept = accept;
    input.style.display = "none";
    input.addEventListener("change", () => {
      const list = Array.from(input.files || []).map((file) => ({
        path: file.webkitRelativePath || file.name,
        file,
      }));
      input.remove();
      read(list).then((files) => resolve(JSON.stringify(files)), reject);
    });
    input.addEventListener("cancel", () => {
      input.remove();
      resolve("[]");
    });
    document.body.appendChild(input);
    input.click();
  });
}
