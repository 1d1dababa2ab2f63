//! Follows the server's news for the open session (`/events/{session}`, server-
//! sent events): files changed by a terminal or another page reload the tree and
//! the tabs without edits; a finished command reloads the history; a change of
//! who has access, or of the user's own role, shows at once; losing access ends
//! the page's work on the session.

use super::{terminal::Terms, workspace::Ws};

#[cfg(feature = "hydrate")]
pub fn follow(ws: Ws, terms: Option<Terms>) {
    use crate::wire::events::Event;
    use crate::wire::files::tree_digest;
    use leptos::prelude::*;
    use std::time::Duration;

    // A burst of changes is one reload.
    let due = StoredValue::new(false);
    listen(
        &format!("/events/{}", ws.session),
        move |event: Event, source| {
            match event {
                // Connected (again): what changed while the page was not listening.
                Event::Hello { tree } => {
                    let ours = ws.tree.items.with_untracked(|i| tree_digest(i));
                    if tree != ours {
                        ws.reload_from_server();
                    }
                }
                Event::Tree { .. } if !due.get_value() => {
                    due.set_value(true);
                    set_timeout(
                        move || {
                            due.set_value(false);
                            ws.reload_from_server();
                        },
                        Duration::from_millis(100),
                    );
                }
                Event::Tree { .. } => {}
                Event::Command { .. } => {
                    if let Some(t) = terms {
                        t.commands.update(|n| *n += 1);
                    }
                }
                Event::Sharing => ws.sharing.update(|n| *n += 1),
                Event::NotKept { message, .. } => {
                    ws.fail(crate::AppError::new(crate::ErrorCode::TooLarge, message))
                }
                // A review's stream only.
                Event::Review => {}
                Event::Role { role } => {
                    ws.role.set(role);
                    ws.tell(format!(
                        "You are now {} of this session",
                        role.with_article()
                    ));
                }
                Event::Revoked { message } => {
                    // No reconnecting: the server would refuse it.
                    source.close();
                    ws.revoked.set(Some(message));
                }
            }
        },
    );
}

/// Follows the events stream at `url` for as long as the calling component
/// lives: `on_event` gets each event, and the source (to close it for good).
#[cfg(feature = "hydrate")]
pub fn listen<T: serde::de::DeserializeOwned + 'static>(
    url: &str,
    on_event: impl FnMut(T, &web_sys::EventSource) + 'static,
) {
    if let Some(source) = Source::open(url, on_event) {
        leptos::prelude::on_cleanup(move || drop(source));
    }
}

#[cfg(feature = "hydrate")]
type OnMessage = wasm_bindgen::prelude::Closure<dyn FnMut(web_sys::MessageEvent)>;

/// An open events stream; closed when dropped.
#[cfg(feature = "hydrate")]
pub struct Source(send_wrapper::SendWrapper<(web_sys::EventSource, OnMessage)>);

#[cfg(feature = "hydrate")]
impl Source {
    /// Opens the events stream at `url`; `on_event` gets each event it decodes.
    pub fn open<T: serde::de::DeserializeOwned + 'static>(
        url: &str,
        mut on_event: impl FnMut(T, &web_sys::EventSource) + 'static,
    ) -> Option<Self> {
        use wasm_bindgen::{prelude::Closure, JsCast};
        let source = web_sys::EventSource::new(url).ok()?;
        let this = source.clone();
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let event = ev
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str(&text).ok());
                if let Some(event) = event {
                    on_event(event, &this);
                }
            });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Self(send_wrapper::SendWrapper::new((source, on_message))))
    }
}

#[cfg(feature = "hydrate")]
impl Drop for Source {
    fn drop(&mut self) {
        self.0 .0.close();
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn follow(_ws: Ws, _terms: Option<Terms>) {}
