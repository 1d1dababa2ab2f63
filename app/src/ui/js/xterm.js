// Thin glue between the Rust terminal component and xterm.js (@xterm/xterm and
// its fit addon, served by our own server under /vendor/xterm). The socket and
// the reconnecting live in Rust; this file owns only what xterm.js owns.

let loading = null;

// The UMD bundles are served wrapped so that they set globals even when Monaco's
// AMD loader is there (scripts/lib.sh, ensure_vendor): plain scripts, no eval.
function runUmd(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(s);
  });
}

export function loadXterm() {
  if (window.Terminal && window.FitAddon) return Promise.resolve();
  if (loading) return loading;
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "/vendor/xterm/xterm.css";
  document.head.appendChild(css);
  loading = runUmd("/vendor/xterm/xterm.js").then(() => runUmd("/vendor/xterm/addon-fit.js"));
  loading.catch(() => (loading = null));
  return loading;
}

// The user's settings, as the server rendered them on the page (<html data-prefs>)
// and as the settings page changes them.
function prefs() {
  try {
    return JSON.parse(document.documentElement.dataset.prefs || "{}");
  } catch {
    return {};
  }
}

const THEMES = {
  dark: { background: "#1e1e1e", foreground: "#d4d4d4", cursor: "#d4d4d4" },
  light: { background: "#ffffff", foreground: "#1e1e1e", cursor: "#1e1e1e", selectionBackground: "#add6ff" },
  high_contrast: { background: "#000000", foreground: "#ffffff", cursor: "#ffff00" },
};

function options(p) {
  return {
    fontSize: p.terminal_font_size || 13,
    scrollback: p.scrollback || 5000,
    theme: THEMES[p.theme] || THEMES.dark,
  };
}

// Every terminal made here, so new settings reach the open ones at once.
const terminals = new Set();

export function applyPrefs() {
  const o = options(prefs());
  for (const term of terminals) {
    Object.assign(term.options, o);
    if (term.element?.offsetWidth > 0) term._webide.fit.fit();
  }
}

export function createTerminal(element, onData, onResize) {
  const term = new window.Terminal({
    cursorBlink: true,
    fontFamily: 'Menlo, Consolas, "DejaVu Sans Mono", monospace',
    ...options(prefs()),
  });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(element);
  term.onData((data) => onData(data));
  term.onBinary((data) => onData(data));
  term.onResize(({ cols, rows }) => onResize(cols, rows));
  // Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in desktop terminals;
  // Ctrl+C with a selection copies it instead of interrupting.
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== "keydown") return true;
    // The IDE's view keys (Explorer, Search, History) reach the page, not the
    // shell, as in VS Code; Ctrl+P stays the shell's (its history).
    if ((e.ctrlKey || e.metaKey) && e.shiftKey && ["KeyE", "KeyF", "KeyY"].includes(e.code)) {
      return false;
    }
    const copy = e.code === "KeyC" && e.ctrlKey && (e.shiftKey || term.hasSelection());
    if (copy && term.hasSelection()) {
      navigator.clipboard?.writeText(term.getSelection());
      term.clearSelection();
      e.preventDefault();
      return false;
    }
    if (e.code === "KeyV" && e.ctrlKey && e.shiftKey) {
      navigator.clipboard?.readText().then((t) => term.paste(t));
      e.preventDefault();
      return false;
    }
    return true;
  });
  const observer = new ResizeObserver(() => {
    // Hidden panels have no size: keep the last one.
    if (element.offsetWidth > 0 && element.offsetHeight > 0) fit.fit();
  });
  observer.observe(element);
  term._webide = { fit, observer };
  terminals.add(term);
  if (element.offsetWidth > 0) fit.fit();
  return term;
}

export function writeBytes(term, bytes) {
  term.write(bytes);
}

export function writeText(term, text) {
  term.write(text);
}

export function resetTerminal(term) {
  term.reset();
}

export function terminalSize(term) {
  return [term.cols, term.rows];
}

export function focusTerminal(term) {
  term.focus();
}

export function disposeTerminal(term) {
  term._webide.observer.disconnect();
  terminals.delete(term);
  term.dispose();
}
