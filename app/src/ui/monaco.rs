//! Bindings to Monaco (the `monaco-editor` package's AMD build, served by our
//! server) through a thin JS glue module. Browser only.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/ui/js/monaco.js")]
extern "C" {
    #[wasm_bindgen(js_name = loadMonaco, catch)]
    async fn load_monaco_js() -> Result<JsValue, JsValue>;

    /// An editor in `element`; `on_save` runs on Ctrl/Cmd+S, `on_change(path)` on edits.
    #[wasm_bindgen(js_name = createEditor)]
    pub fn create_editor(
        element: &web_sys::HtmlElement,
        on_save: &Closure<dyn FnMut()>,
        on_change: &Closure<dyn FnMut(String)>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = disposeEditor)]
    pub fn dispose_editor(editor: &JsValue);

    /// Selects line `line`, columns `column` to `end_column` (1-based), in the middle of the view.
    #[wasm_bindgen(js_name = revealRange)]
    pub fn reveal_range(editor: &JsValue, line: u32, column: u32, end_column: u32);

    #[wasm_bindgen(js_name = setReadOnly)]
    pub fn set_read_only(editor: &JsValue, read_only: bool);

    #[wasm_bindgen(js_name = showFile)]
    pub fn show_file(editor: &JsValue, path: &str, content: &str);

    #[wasm_bindgen(js_name = fileContent)]
    pub fn file_content(path: &str) -> Option<String>;

    #[wasm_bindgen(js_name = setFileContent)]
    pub fn set_file_content(path: &str, content: &str);

    #[wasm_bindgen(js_name = closeFile)]
    pub fn close_file(editor: &JsValue, path: &str);

    #[wasm_bindgen(js_name = renameFile)]
    pub fn rename_file(from: &str, to: &str);

    /// Loads the language support of every file in `paths`.
    #[wasm_bindgen(js_name = warmLanguages)]
    pub fn warm_languages(paths: Vec<String>);

    /// A side-by-side diff in `element` (`theirs` left, `mine` right); returns a
    /// function that disposes it.
    #[wasm_bindgen(js_name = showDiff)]
    pub fn show_diff(
        element: &web_sys::HtmlElement,
        path: &str,
        theirs: &str,
        mine: &str,
    ) -> js_sys::Function;

    /// A read-only review viewer in `element`; `on_line(n)` runs when line n's
    /// number or glyph is clicked.
    #[wasm_bindgen(js_name = createReviewEditor)]
    pub fn create_review_editor(
        element: &web_sys::HtmlElement,
        on_line: &Closure<dyn FnMut(u32)>,
    ) -> JsValue;

    /// Shows `content` with its comment threads (a JSON array, see monaco.js).
    #[wasm_bindgen(js_name = showReviewFile)]
    pub fn show_review_file(editor: &JsValue, key: &str, path: &str, content: &str, threads: &str);

    #[wasm_bindgen(js_name = selectedLines)]
    pub fn selected_lines(editor: &JsValue) -> Vec<u32>;

    /// The selection: [path, first line, last line, text], or null.
    pub fn selection(editor: &JsValue) -> JsValue;

    /// [path, text now, text with `code` in place of the selection], or null.
    #[wasm_bindgen(js_name = proposeInsert)]
    pub fn propose_insert(editor: &JsValue, code: &str) -> JsValue;

    #[wasm_bindgen(js_name = revealLine)]
    pub fn reveal_line(editor: &JsValue, line: u32);

    /// Applies the page's settings (`<html data-prefs>`) to the open editors.
    #[wasm_bindgen(js_name = applyPrefs)]
    pub fn apply_prefs();
}

/// Loads Monaco once per page; later calls return at once.
pub async fn load() -> Result<(), String> {
    load_monaco_js().await.map(|_| ()).map_err(|e| {
        e.as_string()
            .unwrap_or_else(|| "could not load the editor".into())
    })
}
