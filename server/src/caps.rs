//! Caps on what one server, one session and one user may hold open: sandboxes
//! running, terminals of a session, sockets and streams of a user. Past one, the
//! request is refused with a message that says what to close.

use app::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub sandboxes: usize,
    pub terminals_per_session: usize,
    pub sockets_per_user: usize,
}

impl Caps {
    /// Sandboxes sized to the machine: one per 128 MiB of memory, at least 4.
    pub fn sandboxes_for_this_machine() -> usize {
        let kib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse::<usize>()
                    .ok()
            })
            .unwrap_or(0);
        (kib / (128 * 1024)).max(4)
    }
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            sandboxes: Self::sandboxes_for_this_machine(),
            terminals_per_session: 8,
            sockets_per_user: 32,
        }
    }
}

/// The terminal sockets and events streams each user has open.
#[derive(Default)]
pub struct Sockets {
    max: usize,
    open: Mutex<HashMap<i64, usize>>,
}

/// One open socket or stream of a user's; its place is given back when dropped.
pub struct Slot {
    sockets: Arc<Sockets>,
    user: i64,
}

impl Sockets {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more of `user`'s, or 429.
    pub fn take(self: &Arc<Self>, user: i64) -> Result<Slot, AppError> {
        let mut open = self.open.lock().expect("lock");
        let n = open.entry(user).or_default();
        if *n >= self.max {
            return Err(AppError::too_many(format!(
                "you have {} terminals and live views open, the most one user may: close some first",
                self.max
            )));
        }
        *n += 1;
        Ok(Slot {
            sockets: self.clone(),
            user,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.sockets.open.lock().expect("lock");
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_given_back() {
        let s = Sockets::new(2);
        let a = s.take(1).unwrap();
        let _b = s.take(1).unwrap();
        assert!(s.take(1).is_err());
        assert!(s.take(2).is_ok(), "another user's count is apart");
        drop(a);
        assert!(s.take(1).is_ok());
    }
}
