//! Finds the shell-integration marks in a PTY stream: OSC 133 (A prompt, C
//! command start, D;N command end) and OSC 633;E (the command line), each ending
//! with the terminal's nonce (`;NONCE`); a mark without it was printed by some
//! program and is not one. Sequences may be split across reads; the bytes
//! themselves pass through untouched.

use memchr::{memchr, memchr2};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Prompt,
    CommandLine(String),
    CommandStart,
    CommandEnd(Option<i32>),
}

/// An unterminated sequence longer than this is not ours: it is dropped.
const MAX_PENDING: usize = 8 * 1024;

pub struct Scanner {
    pending: Vec<u8>,
    nonce: String,
}

impl Scanner {
    pub fn new(nonce: impl Into<String>) -> Self {
        Self {
            pending: Vec::new(),
            nonce: nonce.into(),
        }
    }

    /// Marks in `chunk`, each with the offset in `chunk` just past its sequence.
    pub fn feed(&mut self, chunk: &[u8], marks: &mut Vec<(usize, Mark)>) {
        if self.pending.is_empty() {
            self.scan(chunk, marks);
        } else {
            let mut joined = std::mem::take(&mut self.pending);
            let carried = joined.len();
            joined.extend_from_slice(chunk);
            let from = marks.len();
            self.scan(&joined, marks);
            for (offset, _) in &mut marks[from..] {
                *offset = offset.saturating_sub(carried);
            }
        }
    }

    fn scan(&mut self, buf: &[u8], marks: &mut Vec<(usize, Mark)>) {
        let mut i = 0;
        while let Some(p) = memchr(0x1b, &buf[i..]) {
            let start = i + p;
            match buf.get(start + 1) {
                None => return self.keep(&buf[start..]),
                Some(b']') => {}
                Some(_) => {
                    i = start + 1;
                    continue;
                }
            }
            let body = start + 2;
            match terminator(&buf[body..]) {
                Some((len, seq_len)) => {
                    if let Some(mark) = parse(&buf[body..body + len], &self.nonce) {
                        marks.push((body + seq_len, mark));
                    }
                    i = body + seq_len;
                }
                None => return self.keep(&buf[start..]),
            }
        }
    }

    fn keep(&mut self, tail: &[u8]) {
        if tail.len() <= MAX_PENDING {
            self.pending = tail.to_vec();
        }
    }
}

/// Length of the body and of body plus terminator (BEL or ESC \), if complete.
fn terminator(buf: &[u8]) -> Option<(usize, usize)> {
    let p = memchr2(0x07, 0x1b, buf)?;
    if buf[p] == 0x07 {
        return Some((p, p + 1));
    }
    match buf.get(p + 1) {
        Some(b'\\') => Some((p, p + 2)),
        // Another escape cuts the sequence short: not ours, resume scanning there.
        Some(_) => Some((p, p)),
        None => None,
    }
}

fn parse(body: &[u8], nonce: &str) -> Option<Mark> {
    let text = std::str::from_utf8(body).ok()?;
    let (text, theirs) = text.rsplit_once(';')?;
    if nonce.is_empty() || theirs != nonce {
        return None;
    }
    if let Some(rest) = text.strip_prefix("133;") {
        let mut parts = rest.split(';');
        return match parts.next()? {
            "A" => Some(Mark::Prompt),
            "C" => Some(Mark::CommandStart),
            "D" => Some(Mark::CommandEnd(parts.next().and_then(|c| c.parse().ok()))),
            _ => None,
        };
    }
    // The line's own `;` are escaped: it is one field.
    let line = text.strip_prefix("633;E;")?;
    Some(Mark::CommandLine(unescape(line)))
}

/// Undoes VS Code's escaping: `\\` for a backslash, `\xNN` for a byte.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'x') {
                if let Some(v) = s
                    .get(i + 2..i + 4)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Terminal output as plain text for history: escape sequences and carriage
/// returns removed.
pub fn plain_text(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            0x1b => {
                i += 1;
                match raw.get(i) {
                    Some(b'[') => {
                        i += 1;
                        while i < raw.len() && !(0x40..=0x7e).contains(&raw[i]) {
                            i += 1;
                        }
                        i += 1;
                    }
                    Some(b']') => {
                        let (_, seq) = terminator(&raw[i + 1..]).unwrap_or((0, raw.len() - i - 1));
                        i += 1 + seq;
                    }
                    _ => i += 1,
                }
            }
            b'\r' | 0x07 => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<Mark> {
        let mut s = Scanner::new("n0nce");
        let mut marks = Vec::new();
        for c in chunks {
            s.feed(c, &mut marks);
        }
        marks.into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn finds_marks_whole_and_split() {
        let stream = b"\x1b]133;A;n0nce\x07$ \x1b]633;E;echo a\\x3bb;n0nce\x07\x1b]133;C;n0nce\x07out\r\n\x1b]133;D;2;n0nce\x1b\\";
        let want = vec![
            Mark::Prompt,
            Mark::CommandLine("echo a;b".into()),
            Mark::CommandStart,
            Mark::CommandEnd(Some(2)),
        ];
        assert_eq!(all(&[stream]), want);
        for cut in 1..stream.len() {
            assert_eq!(all(&[&stream[..cut], &stream[cut..]]), want, "cut at {cut}");
        }
    }

    #[test]
    fn offsets_point_past_the_sequence() {
        let mut s = Scanner::new("n0nce");
        let mut marks = Vec::new();
        s.feed(b"ab\x1b]133;C;n0", &mut marks);
        s.feed(b"nce\x07out", &mut marks);
        assert_eq!(marks, vec![(4, Mark::CommandStart)]);
    }

    #[test]
    fn ignores_other_sequences() {
        assert_eq!(
            all(&[b"\x1b[31mred\x1b]0;title\x07\x1b]133;D;n0nce\x07"]),
            vec![Mark::CommandEnd(None)]
        );
        assert_eq!(plain_text(b"\x1b[31mred\x1b[0m\r\n\x1b]0;t\x07x"), "red\nx");
    }

    #[test]
    fn marks_without_the_terminals_nonce_are_not_marks() {
        // Printed by a program: no nonce, another one, or the nonce in another field.
        assert_eq!(
            all(&[b"\x1b]133;D;0\x07\x1b]133;C\x07\x1b]633;E;rm -rf ~\x07"]),
            vec![]
        );
        assert_eq!(
            all(&[b"\x1b]133;D;0;guess\x07\x1b]133;A;n0nceX\x07"]),
            vec![]
        );
        assert_eq!(all(&[b"\x1b]633;E;n0nce;x\x07"]), vec![]);
        let mut s = Scanner::new("");
        let mut marks = Vec::new();
        s.feed(b"\x1b]133;D;0;\x07", &mut marks);
        assert!(marks.is_empty(), "an empty nonce matches nothing");
    }
}
