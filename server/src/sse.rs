//! Server-sent events from a feed of typed events: each one JSON, a keep-alive
//! comment between them; the response ends when the feed does.

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::future::Future;

pub trait Feed: Send + 'static {
    type Event: serde::Serialize + Send;
    /// The next event, or `None` to end the stream.
    fn next(&mut self) -> impl Future<Output = Option<Self::Event>> + Send;
}

pub fn respond<F: Feed>(feed: F) -> Response {
    let stream = futures_util::stream::unfold(feed, |mut f| async move {
        let event = f.next().await?;
        let sse = Event::default().json_data(&event).ok()?;
        Some((Ok::<_, std::convert::Infallible>(sse), f))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
