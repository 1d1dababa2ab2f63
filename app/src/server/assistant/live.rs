//! The answers this replica is streaming, for their readers: each one's text so
//! far and its end, which a reader follows from any point (it starts from the
//! whole text), and the request to stop it. Readers on other replicas follow the
//! stored row instead, which the answer's task updates as it goes.

use crate::wire::assistant::AnswerStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

/// An answer as far as it has come.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub text: String,
    /// Its status and error once it has ended.
    pub end: Option<(AnswerStatus, Option<String>)>,
}

struct Answer {
    state: watch::Sender<Snapshot>,
    stop: Arc<Notify>,
}

#[derive(Default)]
pub struct Live {
    answers: Mutex<HashMap<Uuid, Answer>>,
}

/// The answer task's side of one answer; it leaves the table when dropped.
pub struct Writer {
    live: Arc<Live>,
    id: Uuid,
    state: watch::Sender<Snapshot>,
    pub stop: Arc<Notify>,
}

impl Live {
    pub fn begin(self: &Arc<Self>, id: Uuid) -> Writer {
        let (state, _) = watch::channel(Snapshot::default());
        let stop = Arc::new(Notify::new());
        self.answers.lock().unwrap().insert(
            id,
            Answer {
                state: state.clone(),
                stop: stop.clone(),
            },
        );
        Writer {
            live: self.clone(),
            id,
            state,
            stop,
        }
    }

    /// The answer's updates, if this replica is streaming it.
    pub fn follow(&self, id: Uuid) -> Option<watch::Receiver<Snapshot>> {
        let answers = self.answers.lock().unwrap();
        answers.get(&id).map(|a| a.state.subscribe())
    }

    /// Asks the answer to stop, if it streams here.
    pub fn stop(&self, id: Uuid) {
        if let Some(a) = self.answers.lock().unwrap().get(&id) {
            a.stop.notify_one();
        }
    }
}

impl Writer {
    pub fn push(&self, text: &str) {
        self.state.send_modify(|s| s.text.push_str(text));
    }

    pub fn text(&self) -> String {
        self.state.borrow().text.clone()
    }

    /// Ends the answer for its readers (after it was stored, so a reader who
    /// comes later reads the same from the row).
    pub fn end(self, status: AnswerStatus, error: Option<String>) {
        self.state.send_modify(|s| s.end = Some((status, error)));
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.live.answers.lock().unwrap().remove(&self.id);
    }
}
