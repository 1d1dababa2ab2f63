//! Terminals (xterm.js over the terminal socket, reconnecting when it drops) and
//! the command history; the bottom panel's state (`panel.rs` lays it out).

use super::workspace::use_ws;
use crate::api::terminal::history;
use crate::wire::terminal::CommandRecord;
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Link {
    Connecting,
    Open,
    Reconnecting,
    Exited(i32),
    Failed(String),
}

impl Link {
    pub(super) fn id(&self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Reconnecting => "reconnecting",
            Self::Exited(_) => "exited",
            Self::Failed(_) => "failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TermTab {
    pub key: u32,
    pub link: RwSignal<Link>,
    /// The server's shell to reattach to (kept across page reloads).
    pub resume: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PanelView {
    Terminal(u32),
    History,
    /// A run's output (`output.rs`).
    Output,
    /// The session's runs.
    Runs,
}

/// The panel's state, shared with the runs (Output) and the layout (toggle).
#[derive(Clone, Copy)]
pub struct Terms {
    pub tabs: RwSignal<Vec<TermTab>>,
    pub view: RwSignal<PanelView>,
    pub open: RwSignal<bool>,
    /// Bumped whenever a command ends, so the history reloads.
    pub commands: RwSignal<u32>,
    next: StoredValue<u32>,
    /// The page's owner: a tab's signals must outlive the effect or handler that opened it.
    owner: StoredValue<Owner>,
}

pub fn use_terms() -> Option<Terms> {
    use_context::<Terms>()
}

impl Terms {
    pub fn provide() -> Self {
        let t = Self {
            tabs: RwSignal::new(Vec::new()),
            view: RwSignal::new(PanelView::History),
            open: RwSignal::new(true),
            commands: RwSignal::new(0),
            next: StoredValue::new(1),
            owner: StoredValue::new(Owner::current().expect("inside the app")),
        };
        provide_context(t);
        t
    }

    /// Opens a new terminal and shows it.
    pub fn add(&self) -> u32 {
        self.add_resuming(None)
    }

    pub(super) fn add_resuming(&self, resume: Option<Uuid>) -> u32 {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        let tab = TermTab {
            key,
            link: self
                .owner
                .with_value(|o| o.with(|| RwSignal::new(Link::Connecting))),
            resume,
        };
        self.tabs.update(|t| t.push(tab));
        self.view.set(PanelView::Terminal(key));
        self.open.set(true);
        key
    }

    /// Closes a terminal and ends its shell.
    pub fn close(&self, key: u32) {
        #[cfg(feature = "hydrate")]
        conn::close(key);
        self.tabs.update(|t| t.retain(|t| t.key != key));
        if self.view.get_untracked() == PanelView::Terminal(key) {
            let next = self.tabs.with_untracked(|t| t.last().map(|t| t.key));
            self.view
                .set(next.map_or(PanelView::History, PanelView::Terminal));
        }
    }

    pub fn toggle(&self) {
        self.open.update(|o| *o = !*o);
    }
}

#[component]
pub(super) fn TerminalView(tab: TermTab) -> impl IntoView {
    let terms = use_terms().expect("inside the panel");
    let key = tab.key;
    let host = NodeRef::<leptos::html::Div>::new();
    let shown = move || terms.view.get() == PanelView::Terminal(key) && terms.open.get();
    #[cfg(feature = "hydrate")]
    {
        let ws = use_ws();
        let mounted = StoredValue::new(false);
        Effect::new(move |_| {
            if let Some(el) = host.get() {
                if !mounted.get_value() {
                    mounted.set_value(true);
                    spawn_local(async move {
                        if let Err(e) = conn::mount(key, el.into(), ws.session, tab).await {
                            tab.link.set(Link::Failed(e));
                        }
                    });
                }
            }
        });
        // Showing another terminal moves the keyboard to it (not the first showing).
        Effect::new(move |was_shown: Option<bool>| {
            let now = shown();
            if now && was_shown == Some(false) {
                conn::focus(key);
            }
            now
        });
    }
    view! {
        <div class="term-view" class:hidden=move || !shown() data-term=key>
            <div class="terminal-host" node_ref=host></div>
            {move || match tab.link.get() {
                Link::Reconnecting => Some(view! {
                    <div class="terminal-banner" role="status">"Connection lost: reconnecting…"</div>
                }.into_any()),
                Link::Failed(e) => Some(view! {
                    <div class="terminal-banner error" role="alert">{e}</div>
                }.into_any()),
                _ => None,
            }}
        </div>
    }
}

#[component]
pub(super) fn HistoryView() -> impl IntoView {
    let ws = use_ws();
    let terms = use_terms().expect("inside the panel");
    let rows = RwSignal::new(None::<Result<Vec<CommandRecord>, AppError>>);
    Effect::new(move |_| {
        terms.commands.track();
        spawn_local(async move { rows.set(Some(history(ws.session, Some(200)).await)) });
    });
    let list = move || {
        match rows.get() {
        None => view! { <p class="empty">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="empty error">{e.message}</p> }.into_any(),
        Some(Ok(rows)) if rows.is_empty() => {
            view! { <p class="empty">"No commands yet: what runs in the terminals shows up here."</p> }
                .into_any()
        }
        Some(Ok(rows)) => rows
            .into_iter()
            .map(|r| {
                let code = r.exit_code.map_or("?".to_string(), |c| c.to_string());
                let ok = r.exit_code == Some(0);
                let took = r
                    .finished_at
                    .map(|f| format!("{:.1} s", (f - r.started_at).num_milliseconds() as f64 / 1e3))
                    .unwrap_or_default();
                let output = if r.output_truncated {
                    format!("{}\n[output cut here]", r.output)
                } else {
                    r.output
                };
                view! {
                    <details class="history-row">
                        <summary>
                            <span class="exit" class:ok=ok title="exit code">{code}</span>
                            <code class="command">{r.command}</code>
                            <span class="when">{r.started_at.format("%Y-%m-%d %H:%M:%S").to_string()}</span>
                            <span class="took">{took}</span>
                        </summary>
                        <pre class="output">{output}</pre>
                    </details>
                }
            })
            .collect_view()
            .into_any(),
    }
    };
    view! { <div class="history" id="history">{list}</div> }
}

/// The socket of each terminal, its reconnecting, and its xterm.js instance.
#[cfg(feature = "hydrate")]
pub(super) mod conn {
    use super::super::xterm;
    use super::Link;
    use crate::wire::terminal::{ClientMsg, ServerMsg};
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;
    use uuid::Uuid;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

    struct Socket {
        ws: WebSocket,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    impl Drop for Socket {
        fn drop(&mut self) {
            // Events of a socket being replaced must not reach dropped closures.
            self.ws.set_onmessage(None);
            self.ws.set_onclose(None);
            let _ = self.ws.close();
        }
    }

    struct Conn {
        session: Uuid,
        term: JsValue,
        link: RwSignal<Link>,
        socket: Option<Socket>,
        /// The server's id of the shell, to reattach to after a drop.
        server_id: Option<Uuid>,
        attached: bool,
        retries: u32,
        _on_data: Closure<dyn FnMut(String)>,
        _on_resize: Closure<dyn FnMut(u16, u16)>,
    }

    thread_local! {
        static CONNS: RefCell<HashMap<u32, Rc<RefCell<Conn>>>> = RefCell::new(HashMap::new());
    }

    fn get(key: u32) -> Option<Rc<RefCell<Conn>>> {
        CONNS.with_borrow(|c| c.get(&key).cloned())
    }

    pub async fn mount(
        key: u32,
        el: web_sys::HtmlElement,
        session: Uuid,
        tab: super::TermTab,
    ) -> Result<(), String> {
        xterm::load().await?;
        let on_data =
            Closure::<dyn FnMut(String)>::new(move |data: String| send(key, data.as_bytes()));
        let on_resize = Closure::<dyn FnMut(u16, u16)>::new(move |cols, rows| {
            send_control(key, ClientMsg::Resize { cols, rows });
        });
        let term = xterm::create_terminal(&el, &on_data, &on_resize);
        let conn = Conn {
            session,
            term,
            link: tab.link,
            socket: None,
            server_id: tab.resume,
            attached: false,
            retries: 0,
            _on_data: on_data,
            _on_resize: on_resize,
        };
        CONNS.with_borrow_mut(|c| c.insert(key, Rc::new(RefCell::new(conn))));
        connect(key);
        // Never take the keyboard from a field or the editor the user is in.
        let idle = document()
            .active_element()
            .is_none_or(|e| e.tag_name() == "BODY" || e.closest(".panel").ok().flatten().is_some());
        if idle {
            focus(key);
        }
        Ok(())
    }

    fn url(c: &Conn) -> String {
        let loc = window().location();
        let scheme = if loc.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let host = loc.host().unwrap_or_default();
        let size = xterm::size(&c.term);
        let mut url = format!(
            "{scheme}://{host}/ws/terminal/{}?cols={}&rows={}",
            c.session,
            size.first().copied().unwrap_or(80),
            size.get(1).copied().unwrap_or(24)
        );
        if let Some(id) = c.server_id {
            url.push_str(&format!("&term={id}"));
        }
        url
    }

    fn connect(key: u32) {
        let Some(conn) = get(key) else { return };
        let url = url(&conn.borrow());
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => return retry(key),
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_message =
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| message(key, ev));
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_| closed(key));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut c = conn.borrow_mut();
        c.attached = false;
        c.socket = Some(Socket {
            ws,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn message(key: u32, ev: MessageEvent) {
        let Some(conn) = get(key) else { return };
        let data = ev.data();
        if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            let term = conn.borrow().term.clone();
            xterm::write_bytes(&term, &js_sys::Uint8Array::new(buf));
            return;
        }
        let Some(text) = data.as_string() else { return };
        let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) else {
            return;
        };
        let mut c = conn.borrow_mut();
        match msg {
            ServerMsg::Attached { term, reattached } => {
                // The scrollback replay follows: it replaces what is on screen.
                if reattached {
                    xterm::reset(&c.term);
                }
                c.server_id = Some(term);
                c.attached = true;
                c.retries = 0;
                c.link.set(Link::Open);
                let session = c.session;
                drop(c);
                remember(session);
            }
            ServerMsg::Exit { code } => {
                xterm::write_text(
                    &c.term,
                    &format!("\r\n\x1b[2m[shell exited with code {code}]\x1b[0m\r\n"),
                );
                c.link.set(Link::Exited(code));
                c.socket = None;
            }
            ServerMsg::Error { message } => {
                xterm::write_text(&c.term, &format!("\r\n\x1b[31m{message}\x1b[0m\r\n"));
            }
            // The socket closes next and is not reopened.
            ServerMsg::Revoked { message } => {
                xterm::write_text(&c.term, &format!("\r\n\x1b[31m{message}\x1b[0m\r\n"));
                c.link.set(Link::Failed(message));
                c.socket = None;
            }
        }
    }

    fn closed(key: u32) {
        let Some(conn) = get(key) else { return };
        if matches!(
            conn.borrow().link.get_untracked(),
            Link::Exited(_) | Link::Failed(_)
        ) {
            return;
        }
        retry(key);
    }

    /// Tries again, waiting longer after each failure (up to 5 s).
    fn retry(key: u32) {
        let Some(conn) = get(key) else { return };
        let mut c = conn.borrow_mut();
        c.attached = false;
        c.link.set(Link::Reconnecting);
        c.retries += 1;
        let delay = (250u64 << c.retries.min(5)).min(5000);
        set_timeout(
            move || connect(key),
            std::time::Duration::from_millis(delay),
        );
    }

    fn send(key: u32, bytes: &[u8]) {
        let Some(conn) = get(key) else { return };
        let c = conn.borrow();
        if let (true, Some(s)) = (c.attached, &c.socket) {
            let _ = s.ws.send_with_u8_array(bytes);
        }
    }

    fn send_control(key: u32, msg: ClientMsg) {
        let Some(conn) = get(key) else { return };
        let c = conn.borrow();
        if let (true, Some(s)) = (c.attached, &c.socket) {
            let _ =
                s.ws.send_with_str(&serde_json::to_string(&msg).unwrap_or_default());
        }
    }

    pub fn focus(key: u32) {
        if let Some(conn) = get(key) {
            xterm::focus(&conn.borrow().term);
        }
    }

    pub fn close(key: u32) {
        send_control(key, ClientMsg::Close);
        if let Some(conn) = CONNS.with_borrow_mut(|c| c.remove(&key)) {
            let mut c = conn.borrow_mut();
            c.socket = None;
            xterm::dispose(&c.term);
            remember(c.session);
        }
    }

    fn storage_key(session: Uuid) -> String {
        format!("webide-terminals:{session}")
    }

    /// The shells this browser tab showed for `session`, kept across reloads
    /// (per tab, like the page's own state) so they can be reattached.
    pub fn saved(session: Uuid) -> Vec<Uuid> {
        window()
            .session_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(&storage_key(session)).ok().flatten())
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default()
    }

    fn remember(session: Uuid) {
        let ids: Vec<Uuid> = CONNS.with_borrow(|conns| {
            let mut keyed: Vec<_> = conns
                .iter()
                .filter_map(|(k, c)| Some((*k, c.borrow().server_id?)))
                .collect();
            keyed.sort();
            keyed.into_iter().map(|(_, id)| id).collect()
        });
        if let Ok(Some(s)) = window().session_storage() {
            let _ = s.set_item(
                &storage_key(session),
                &serde_json::to_string(&ids).unwrap_or_default(),
            );
        }
    }
}
