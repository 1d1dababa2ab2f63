//! Follows the server's news for the open session (`/events/{session}`, server-
//! sent events): files changed by a terminal or another page reload the tree and
//! the tabs without edits; a finished command reloads the history.

use super::{terminal::Terms, workspace::Ws};

#[cfg(feature = "hydrate")]
pub fn follow(ws: Ws, terms: Option<Terms>) {
    use leptos::prelude::*;
    use std::time::Duration;
    use wasm_bindgen::{prelude::Closure, JsCast};

    let Ok(source) = web_sys::EventSource::new(&format!("/events/{}", ws.session)) else {
        return;
    };
    // A burst of changes is one reload.
    let due = StoredValue::new(false);
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&text) else {
                return;
            };
            match msg["type"].as_str() {
                Some("tree") if !due.get_value() => {
                    due.set_value(true);
                    set_timeout(
                        move || {
                            due.set_value(false);
                            ws.reload_from_server();
                        },
                        Duration::from_millis(100),
                    );
                }
                Some("command") => {
                    if let Some(t) = terms {
                        t.commands.update(|n| *n += 1);
                    }
                }
                _ => {}
            }
        });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let held = send_wrapper::SendWrapper::new((source, on_message));
    on_cleanup(move || {
        let (source, _closure) = held.take();
        source.close();
    });
}

#[cfg(not(feature = "hydrate"))]
pub fn follow(_ws: Ws, _terms: Option<Terms>) {}
