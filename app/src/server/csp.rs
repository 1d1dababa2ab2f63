//! The pages' Content-Security-Policy. Scripts run only from this server or
//! inline with the page's nonce (Leptos' hydration and streaming scripts carry
//! it); WebAssembly compiles; nothing else is evaluated. Monaco and xterm.js set
//! styles from script, so inline styles stay allowed; images may be `data:` (a
//! binary file's preview); workers come from this server or a `blob:` (Monaco's);
//! no page may be framed, and forms post only here.

use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
         worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sends the policy with the page being rendered, with this render's nonce.
pub fn send() {
    let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    else {
        return;
    };
    if let Ok(v) = http::HeaderValue::from_str(&policy(&nonce)) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
}
