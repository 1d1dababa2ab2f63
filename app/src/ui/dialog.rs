//! One modal dialog at a time: a question with an optional text input.

use leptos::prelude::*;
use std::sync::Arc;

#[derive(Clone)]
pub struct DialogSpec {
    pub title: String,
    pub message: String,
    /// `Some(initial)` shows a text input starting with `initial`.
    pub input: Option<String>,
    pub confirm: String,
    pub danger: bool,
    /// A plain closure rather than a `Callback`: dialogs are often opened from views
    /// (menus) that are gone by the time the user answers, taking their arena with them.
    pub on_ok: Arc<dyn Fn(String) + Send + Sync>,
}

/// The page's dialog slot; `open` replaces whatever is shown.
#[derive(Clone, Copy)]
pub struct Dialogs(RwSignal<Option<DialogSpec>>);

impl Dialogs {
    pub fn provide() -> Self {
        let d = Self(RwSignal::new(None));
        provide_context(d);
        d
    }

    pub fn open(&self, spec: DialogSpec) {
        self.0.set(Some(spec));
    }

    /// Asks for a name, starting from `initial`.
    pub fn prompt(
        &self,
        title: &str,
        initial: &str,
        confirm: &str,
        on_ok: impl Fn(String) + Send + Sync + 'static,
    ) {
        self.open(DialogSpec {
            title: title.into(),
            message: String::new(),
            input: Some(initial.into()),
            confirm: confirm.into(),
            danger: false,
            on_ok: Arc::new(on_ok),
        });
    }

    pub fn confirm(
        &self,
        title: &str,
        message: &str,
        confirm: &str,
        on_ok: impl Fn() + Send + Sync + 'static,
    ) {
        self.open(DialogSpec {
            title: title.into(),
            message: message.into(),
            input: None,
            confirm: confirm.into(),
            danger: true,
            on_ok: Arc::new(move |_| on_ok()),
        });
    }
}

pub fn use_dialogs() -> Dialogs {
    expect_context::<Dialogs>()
}

#[component]
pub fn DialogHost() -> impl IntoView {
    let dialogs = use_dialogs();
    move || {
        dialogs.0.get().map(|spec| {
            let value = RwSignal::new(spec.input.clone().unwrap_or_default());
            let has_input = spec.input.is_some();
            let on_ok = spec.on_ok.clone();
            let close = move || dialogs.0.set(None);
            let submit = move || {
                let answer = value.get_untracked();
                close();
                on_ok(answer);
            };
            let input_ref = NodeRef::<leptos::html::Input>::new();
            let ok_ref = NodeRef::<leptos::html::Button>::new();
            Effect::new(move |_| {
                if let Some(i) = input_ref.get() {
                    let _ = i.focus();
                    i.select();
                } else if let Some(b) = ok_ref.get() {
                    let _ = b.focus();
                }
            });
            view! {
                <div class="modal-backdrop" on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                    <form
                        class="modal"
                        role="dialog"
                        aria-modal="true"
                        aria-label=spec.title.clone()
                        on:submit=move |ev| {
                            ev.prevent_default();
                            submit();
                        }
                    >
                        <h2>{spec.title.clone()}</h2>
                        {(!spec.message.is_empty()).then(|| view! { <p>{spec.message.clone()}</p> })}
                        {has_input.then(|| view! { <input class="modal-input" node_ref=input_ref bind:value=value /> })}
                        <div class="modal-actions">
                            <button type="button" class="button" on:click=move |_| close()>"Cancel"</button>
                            <button
                                type="submit"
                                class="button primary"
                                class:danger=spec.danger
                                node_ref=ok_ref
                            >
                                {spec.confirm.clone()}
                            </button>
                        </div>
                    </form>
                </div>
            }
        })
    }
}
