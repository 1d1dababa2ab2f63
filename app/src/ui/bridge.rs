//! The one Monaco editor of the page, reached from the workspace's operations.
//! On the server these are no-ops: they only ever run from browser events.

#[cfg(feature = "hydrate")]
mod imp {
    use super::super::monaco;
    use crate::wire::assistant::Selection;
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;

    struct Editor {
        handle: JsValue,
        _on_save: Closure<dyn FnMut()>,
        _on_change: Closure<dyn FnMut(String)>,
    }

    thread_local! {
        static EDITOR: RefCell<Option<Editor>> = const { RefCell::new(None) };
        /// The file to show once Monaco has loaded, and the contents of every file
        /// opened before that (their models are made then, so none opens empty).
        static PENDING: RefCell<Option<String>> = const { RefCell::new(None) };
        static EARLY: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
        /// A range to select once Monaco has loaded and shown the pending file.
        static PENDING_REVEAL: std::cell::Cell<Option<(u32, u32, u32)>> = const { std::cell::Cell::new(None) };
        /// Read-only asked for before Monaco finished loading.
        static READ_ONLY: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };

    }

    /// Loads Monaco and makes the editor in `element`; `on_save` runs on Ctrl/Cmd+S,
    /// `on_change(path)` on every edit.
    pub async fn mount(
        element: web_sys::HtmlElement,
        on_save: impl Fn() + 'static,
        on_change: impl Fn(String) + 'static,
    ) -> Result<(), String> {
        monaco::load().await?;
        let on_save = Closure::<dyn FnMut()>::new(on_save);
        let on_change = Closure::<dyn FnMut(String)>::new(on_change);
        let handle = monaco::create_editor(&element, &on_save, &on_change);
        EDITOR.with_borrow_mut(|e| {
            *e = Some(Editor {
                handle,
                _on_save: on_save,
                _on_change: on_change,
            })
        });
        for (path, content) in EARLY.take() {
            show(&path, Some(&content));
        }
        if let Some(path) = PENDING.take() {
            show(&path, None);
        }
        if let Some((line, column, end)) = PENDING_REVEAL.take() {
            reveal(line, column, end);
        }
        if let Some(read_only) = READ_ONLY.get() {
            set_read_only(read_only);
        }
        Ok(())
    }

    /// Whether the editor refuses typing (a viewer's).
    pub fn set_read_only(read_only: bool) {
        READ_ONLY.set(Some(read_only));
        EDITOR.with_borrow(|e| {
            if let Some(e) = e {
                monaco::set_read_only(&e.handle, read_only);
            }
        });
    }

    pub fn unmount() {
        if let Some(e) = EDITOR.take() {
            monaco::dispose_editor(&e.handle);
        }
    }

    pub fn show(path: &str, content: Option<&str>) {
        let shown = EDITOR.with_borrow(|e| {
            e.as_ref().map(|e| {
                let text = content
                    .map(str::to_owned)
                    .or_else(|| monaco::file_content(path));
                monaco::show_file(&e.handle, path, &text.unwrap_or_default());
            })
        });
        if shown.is_none() {
            if let Some(text) = content {
                EARLY.with_borrow_mut(|early| {
                    early.retain(|(p, _)| p != path);
                    early.push((path.to_string(), text.to_string()));
                });
            }
            PENDING.set(Some(path.to_string()));
        }
    }

    pub fn content(path: &str) -> Option<String> {
        monaco::file_content(path)
    }

    pub fn set_content(path: &str, content: &str) {
        if EDITOR.with_borrow(Option::is_none) {
            // Not loaded yet: the model is made from this once it is.
            return EARLY.with_borrow_mut(|early| {
                if let Some(e) = early.iter_mut().find(|(p, _)| p == path) {
                    e.1 = content.to_string();
                }
            });
        }
        monaco::set_file_content(path, content);
    }

    pub fn close(path: &str) {
        EARLY.with_borrow_mut(|early| early.retain(|(p, _)| p != path));
        EDITOR.with_borrow(|e| {
            if let Some(e) = e {
                monaco::close_file(&e.handle, path);
            }
        });
    }

    pub fn rename(from: &str, to: &str) {
        monaco::rename_file(from, to);
    }

    /// The shown file's selection, if any.
    pub fn selection() -> Option<Selection> {
        let v = EDITOR.with_borrow(|e| e.as_ref().map(|e| monaco::selection(&e.handle)))?;
        let a: js_sys::Array = v.dyn_into().ok()?;
        Some(Selection {
            path: a.get(0).as_string()?,
            start_line: a.get(1).as_f64()? as u32,
            end_line: a.get(2).as_f64()? as u32,
            text: a.get(3).as_string()?,
        })
    }

    /// The shown file with `code` in place of its selection: (path, text now,
    /// text proposed).
    pub fn propose(code: &str) -> Option<(String, String, String)> {
        let v =
            EDITOR.with_borrow(|e| e.as_ref().map(|e| monaco::propose_insert(&e.handle, code)))?;
        let a: js_sys::Array = v.dyn_into().ok()?;
        Some((
            a.get(0).as_string()?,
            a.get(1).as_string()?,
            a.get(2).as_string()?,
        ))
    }

    /// Selects a match in the shown file and scrolls to it (once Monaco has
    /// loaded, when it has not yet).
    pub fn reveal(line: u32, column: u32, end_column: u32) {
        let shown = EDITOR.with_borrow(|e| {
            e.as_ref()
                .map(|e| monaco::reveal_range(&e.handle, line, column, end_column))
        });
        if shown.is_none() {
            PENDING_REVEAL.set(Some((line, column, end_column)));
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn show(_: &str, _: Option<&str>) {}
    pub fn content(_: &str) -> Option<String> {
        None
    }
    pub fn set_content(_: &str, _: &str) {}
    pub fn close(_: &str) {}
    pub fn rename(_: &str, _: &str) {}
    pub fn reveal(_: u32, _: u32, _: u32) {}
    pub fn selection() -> Option<crate::wire::assistant::Selection> {
        None
    }
    pub fn propose(_: &str) -> Option<(String, String, String)> {
        None
    }
}

pub use imp::*;
