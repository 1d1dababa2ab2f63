//! Bindings to xterm.js (`@xterm/xterm` and its fit addon, served by our server)
//! through a thin JS glue module. Browser only.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/ui/js/xterm.js")]
extern "C" {
    #[wasm_bindgen(js_name = loadXterm, catch)]
    async fn load_xterm_js() -> Result<JsValue, JsValue>;

    /// A terminal in `element`, fitted to it; `on_data` gets what the user types
    /// or pastes, `on_resize(cols, rows)` every size change.
    #[wasm_bindgen(js_name = createTerminal)]
    pub fn create_terminal(
        element: &web_sys::HtmlElement,
        on_data: &Closure<dyn FnMut(String)>,
        on_resize: &Closure<dyn FnMut(u16, u16)>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = writeBytes)]
    pub fn write_bytes(term: &JsValue, bytes: &js_sys::Uint8Array);

    #[wasm_bindgen(js_name = writeText)]
    pub fn write_text(term: &JsValue, text: &str);

    #[wasm_bindgen(js_name = resetTerminal)]
    pub fn reset(term: &JsValue);

    /// `[cols, rows]`.
    #[wasm_bindgen(js_name = terminalSize)]
    pub fn size(term: &JsValue) -> Vec<u16>;

    #[wasm_bindgen(js_name = focusTerminal)]
    pub fn focus(term: &JsValue);

    #[wasm_bindgen(js_name = disposeTerminal)]
    pub fn dispose(term: &JsValue);

    /// Applies the page's settings (`<html data-prefs>`) to the open terminals.
    #[wasm_bindgen(js_name = applyPrefs)]
    pub fn apply_prefs();
}

/// Loads xterm.js once per page; later calls return at once.
pub async fn load() -> Result<(), String> {
    load_xterm_js().await.map(|_| ()).map_err(|e| {
        e.as_string()
            .unwrap_or_else(|| "could not load the terminal".into())
    })
}
