//! News for the pages that have a session open: one broadcast channel per
//! session, made when the first page subscribes and dropped with the last.

use app::wire::events::Event;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Events kept for a subscriber that falls behind; past that it reloads everything.
const BACKLOG: usize = 64;

#[derive(Default)]
pub struct News {
    channels: Mutex<HashMap<Uuid, broadcast::Sender<Event>>>,
}

impl News {
    pub fn subscribe(&self, session: Uuid) -> broadcast::Receiver<Event> {
        let mut channels = self.channels.lock().expect("lock");
        channels.retain(|_, tx| tx.receiver_count() > 0);
        channels
            .entry(session)
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe()
    }

    pub fn tell(&self, session: Uuid, event: Event) {
        if let Some(tx) = self.channels.lock().expect("lock").get(&session) {
            let _ = tx.send(event);
        }
    }

    /// Ends every subscription: the server is going down.
    pub fn close_all(&self) {
        self.channels.lock().expect("lock").clear();
    }
}
