// Thin glue between the Rust editor component and Monaco's AMD build, served by
// our own server under /vendor/monaco (no CDN). Each function is called from Rust
// through wasm-bindgen; state that Monaco owns (models, view state) stays here.

let loading = null;

export function loadMonaco() {
  if (window.monaco) return Promise.resolve();
  if (loading) return loading;
  loading = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/vendor/monaco/vs/loader.js";
    script.onerror = () => reject(new Error("could not load the editor"));
    script.onload = () => {
      window.require.config({ paths: { vs: "/vendor/monaco/vs" } });
      window.require(["vs/editor/editor.main"], () => resolve(), reject);
    };
    document.head.appendChild(script);
  });
  return loading;
}

const views = new Map();

// The user's settings, as the server rendered them on the page (<html data-prefs>)
// and as the settings page changes them.
function prefs() {
  try {
    return JSON.parse(document.documentElement.dataset.prefs || "{}");
  } catch {
    return {};
  }
}

const THEMES = { dark: "vs-dark", light: "vs", high_contrast: "hc-black" };

function themeOf(p) {
  return THEMES[p.theme] || "vs-dark";
}

function editorOptions(p) {
  return {
    fontSize: p.editor_font_size || 13,
    wordWrap: p.word_wrap ? "on" : "off",
    minimap: { enabled: !!p.minimap },
  };
}

function modelOptions(p) {
  return { tabSize: p.tab_size || 4, insertSpaces: true };
}

// Every editor made here, so new settings reach the open ones at once.
const editors = new Set();

function track(editor) {
  editors.add(editor);
  editor.onDidDispose(() => editors.delete(editor));
  return editor;
}

// Applies the page's current settings to every open editor and file.
export function applyPrefs() {
  if (!window.monaco) return;
  const p = prefs();
  window.monaco.editor.setTheme(themeOf(p));
  for (const e of editors) e.updateOptions(editorOptions(p));
  for (const m of window.monaco.editor.getModels()) m.updateOptions(modelOptions(p));
}

export function createEditor(element, onSave, onChange) {
  const p = prefs();
  const editor = track(window.monaco.editor.create(element, {
    theme: themeOf(p),
    automaticLayout: true,
    ...editorOptions(p),
    model: null,
  }));
  editor.addCommand(window.monaco.KeyMod.CtrlCmd | window.monaco.KeyCode.KeyS, () => onSave());
  editor.onDidChangeModelContent(() => {
    const model = editor.getModel();
    if (model) onChange(model.uri.path.slice(1));
  });
  return editor;
}

function newModel(content, language, uri) {
  const model = window.monaco.editor.createModel(content, language, uri);
  model.updateOptions(modelOptions(prefs()));
  return model;
}

function uriFor(path) {
  return window.monaco.Uri.from({ scheme: "file", path: "/" + path });
}

function languageFor(path) {
  const ext = "." + path.split(".").pop().toLowerCase();
  const name = path.split("/").pop();
  const lang = window.monaco.languages
    .getLanguages()
    .find((l) => (l.extensions || []).includes(ext) || (l.filenames || []).includes(name));
  return lang ? lang.id : "plaintext";
}

// Monaco loads a language's support when a model of it first appears: doing so
// for every file of the workspace while online puts all of it in the service
// worker's cache, so files open highlighted offline too.
export function warmLanguages(paths) {
  for (const id of new Set(paths.map(languageFor))) {
    if (id !== "plaintext") window.monaco.editor.createModel("", id).dispose();
  }
}

// Shows `path` in the editor, creating its model with `content` the first time.
export function showFile(editor, path, content) {
  const current = editor.getModel();
  if (current) views.set(current.uri.path, editor.saveViewState());
  const uri = uriFor(path);
  let model = window.monaco.editor.getModel(uri);
  if (!model) model = newModel(content, languageFor(path), uri);
  editor.setModel(model);
  const view = views.get(uri.path);
  if (view) editor.restoreViewState(view);
  editor.focus();
}

export function fileContent(path) {
  const model = window.monaco.editor.getModel(uriFor(path));
  return model ? model.getValue() : null;
}

// Replaces a file's text (taking the server's version), keeping undo history.
export function setFileContent(path, content) {
  const model = window.monaco.editor.getModel(uriFor(path));
  if (model && model.getValue() !== content) {
    model.pushEditOperations([], [{ range: model.getFullModelRange(), text: content }], () => null);
  }
}

export function closeFile(editor, path) {
  const model = window.monaco.editor.getModel(uriFor(path));
  if (!model) return;
  if (editor.getModel() === model) editor.setModel(null);
  views.delete(model.uri.path);
  model.dispose();
}

export function renameFile(from, to) {
  const model = window.monaco.editor.getModel(uriFor(from));
  if (!model) return;
  const text = model.getValue();
  model.dispose();
  newModel(text, languageFor(to), uriFor(to));
}

// A read-only side-by-side view of two texts of a file: `left` (the server's
// version, an older version) and `right` (the user's, the current one).
export function showDiff(element, path, theirs, mine) {
  const diff = window.monaco.editor.createDiffEditor(element, {
    theme: themeOf(prefs()),
    readOnly: true,
    automaticLayout: true,
    renderSideBySide: true,
  });
  const lang = languageFor(path);
  const original = window.monaco.editor.createModel(theirs, lang);
  const modified = window.monaco.editor.createModel(mine, lang);
  diff.setModel({ original, modified });
  return () => {
    diff.dispose();
    original.dispose();
    modified.dispose();
  };
}

// Selects a range of the shown file (1-based lines and columns) and scrolls it
// into the middle of the editor.
export function revealRange(editor, line, column, endColumn) {
  const range = new window.monaco.Range(line, column, line, endColumn);
  editor.setSelection(range);
  editor.revealRangeInCenter(range);
  editor.focus();
}

// A viewer's editor: Monaco itself says "Cannot edit in read-only editor" on typing.
export function setReadOnly(editor, readOnly) {
  editor.updateOptions({ readOnly });
}

export function disposeEditor(editor) {
  editor.dispose();
}

// A read-only viewer for a review: comment threads marked in the glyph margin
// and shown inline under their last line (view zones). `onLine(n)` runs when a
// line's number or glyph is clicked (to comment on it).
export function createReviewEditor(element, onLine) {
  const p = prefs();
  const editor = track(window.monaco.editor.create(element, {
    theme: themeOf(p),
    automaticLayout: true,
    ...editorOptions(p),
    readOnly: true,
    glyphMargin: true,
    model: null,
  }));
  const T = window.monaco.editor.MouseTargetType;
  editor.onMouseDown((e) => {
    const t = e.target.type;
    if ((t === T.GUTTER_GLYPH_MARGIN || t === T.GUTTER_LINE_NUMBERS) && e.target.position) {
      onLine(e.target.position.lineNumber);
    }
  });
  editor.__review = { decorations: editor.createDecorationsCollection([]), zones: [] };
  return editor;
}

// Shows `content` (the file `path` at a revision, its model named by `key`) with
// `threadsJson`, a JSON array: [{line, endLine, resolved, outdated, heading, body, replies: [text]}].
export function showReviewFile(editor, key, path, content, threadsJson) {
  const threads = JSON.parse(threadsJson);
  const uri = window.monaco.Uri.from({ scheme: "review", path: "/" + key });
  let model = window.monaco.editor.getModel(uri);
  if (!model) model = newModel(content, languageFor(path), uri);
  else if (model.getValue() !== content) model.setValue(content);
  if (editor.getModel() !== model) editor.setModel(model);
  const state = editor.__review;
  state.decorations.set(
    threads.map((t) => ({
      range: new window.monaco.Range(t.line, 1, t.endLine, 1),
      options: {
        isWholeLine: true,
        className: t.resolved ? "review-line resolved" : "review-line",
        glyphMarginClassName: t.resolved ? "review-glyph resolved" : "review-glyph",
        glyphMarginHoverMessage: { value: t.heading },
      },
    })),
  );
  editor.changeViewZones((acc) => {
    for (const id of state.zones) acc.removeZone(id);
    state.zones = threads.map((t) => {
      const node = document.createElement("div");
      node.className = "review-zone" + (t.resolved ? " resolved" : "");
      const head = document.createElement("div");
      head.className = "review-zone-head";
      head.textContent = t.heading;
      const body = document.createElement("div");
      body.textContent = t.body;
      node.append(head, body);
      for (const r of t.replies) {
        const reply = document.createElement("div");
        reply.className = "review-zone-reply";
        reply.textContent = r;
        node.append(reply);
      }
      // A line for the heading, one per line of text (long ones wrap) and per reply.
      const wrapped = t.body.split("\n").reduce((n, l) => n + 1 + Math.floor(l.length / 120), 0);
      const lines = 1 + wrapped + t.replies.length;
      return acc.addZone({ afterLineNumber: t.endLine, heightInLines: lines, domNode: node });
    });
  });
}

// The lines selected in `editor`: [first, last].
export function selectedLines(editor) {
  const s = editor.getSelection();
  return s ? [s.startLineNumber, s.endLineNumber] : [0, 0];
}

export function revealLine(editor, line) {
  editor.revealLineInCenter(line);
}

// The shown file's selection, for the assistant: [path, first line, last line,
// text], or null when nothing is selected.
export function selection(editor) {
  const model = editor.getModel();
  const s = editor.getSelection();
  if (!model || !s || s.isEmpty()) return null;
  return [model.uri.path.slice(1), s.startLineNumber, s.endLineNumber, model.getValueInRange(s)];
}

// The shown file's text with `code` in place of the selection (at the cursor
// when nothing is selected): [path, text now, text proposed], or null.
export function proposeInsert(editor, code) {
  const model = editor.getModel();
  const s = editor.getSelection();
  if (!model || !s) return null;
  const text = model.getValue();
  const start = model.getOffsetAt(s.getStartPosition());
  const end = model.getOffsetAt(s.getEndPosition());
  return [model.uri.path.slice(1), text, text.slice(0, start) + code + text.slice(end)];
}
