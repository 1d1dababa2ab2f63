//! The one Monaco editor of the page, reached from the workspace's operations.
//! On the server these are no-ops: they only ever run from browser events.

#[cfg(feature = "hydrate")]
mod imp {
    use super::super::{monaco, workspace::Ws};
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;

    struct Editor {
        handle: JsValue,
        _on_save: Closure<dyn FnMut()>,
        _on_change: Closure<dyn FnMut(String)>,
    }

    thread_local! {
        static EDITOR: RefCell<Option<Editor>> = const { RefCell::new(None) };
        /// Files opened before Monaco finished loading: shown once it has.
        static PENDING: RefCell<Option<(String, Option<String>)>> = const { RefCell::new(None) };
    }

    pub async fn mount(element: web_sys::HtmlElement, ws: Ws) -> Result<(), String> {
        monaco::load().await?;
        let on_save = Closure::<dyn FnMut()>::new(move || ws.save_active());
        let on_change = Closure::<dyn FnMut(String)>::new(move |path: String| ws.edited(&path));
        let handle = monaco::create_editor(&element, &on_save, &on_change);
        EDITOR.with_borrow_mut(|e| {
            *e = Some(Editor {
                handle,
                _on_save: on_save,
                _on_change: on_change,
            })
        });
        if let Some((path, content)) = PENDING.take() {
            show(&path, content.as_deref());
        }
        Ok(())
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
            PENDING.set(Some((path.to_string(), content.map(str::to_owned))));
        }
    }

    pub fn content(path: &str) -> Option<String> {
        monaco::file_content(path)
    }

    pub fn set_content(path: &str, content: &str) {
        monaco::set_file_content(path, content);
    }

    pub fn close(path: &str) {
        EDITOR.with_borrow(|e| {
            if let Some(e) = e {
                monaco::close_file(&e.handle, path);
            }
        });
    }

    pub fn rename(from: &str, to: &str) {
        monaco::rename_file(from, to);
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
}

pub use imp::*;
