//! Where a comment's lines went in a newer text: followed through a line diff,
//! so a comment stays on its code when lines are added or removed around it, and
//! is outdated (still shown against its old text) when its own lines changed.

use similar::{DiffOp, TextDiff};

/// The 1-based range `first..=last` of `old`, in `new`: `None` when any of its
/// lines was changed or removed.
pub fn follow(old: &str, new: &str, first: i32, last: i32) -> Option<(i32, i32)> {
    if first < 1 || last < first {
        return None;
    }
    let diff = TextDiff::from_lines(old, new);
    let (from, to) = ((first - 1) as usize, last as usize);
    let mut moved = None;
    for op in diff.ops() {
        let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = *op
        else {
            continue;
        };
        if old_index <= from && to <= old_index + len {
            let start = new_index + (from - old_index);
            moved = Some((start as i32 + 1, (start + (to - from)) as i32));
        }
    }
    moved
}

/// `text` with lines `first..=last` (1-based) replaced by `replacement`; `None`
/// when the range is not in the text.
pub fn replace_lines(text: &str, first: i32, last: i32, replacement: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if first < 1 || last < first || last as usize > lines.len() {
        return None;
    }
    let (from, to) = ((first - 1) as usize, last as usize);
    let mut out: String = lines[..from].concat();
    out.push_str(replacement);
    // The replaced lines' last newline stays, unless the text ended without one.
    if lines[to - 1].ends_with('\n') && !replacement.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&lines[to..].concat());
    Some(out)
}

/// The number of lines of `text` (a last line without a newline counts).
pub fn line_count(text: &str) -> i32 {
    text.split_inclusive('\n').count() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "a\nb\nc\nd\ne\n";

    #[test]
    fn lines_follow_insertions_and_removals_around_them() {
        assert_eq!(follow(OLD, "x\ny\na\nb\nc\nd\ne\n", 3, 4), Some((5, 6)));
        assert_eq!(follow(OLD, "b\nc\nd\ne\n", 3, 3), Some((2, 2)));
        assert_eq!(follow(OLD, "a\nb\nnew\nc\nd\ne\n", 3, 3), Some((4, 4)));
        assert_eq!(follow(OLD, OLD, 5, 5), Some((5, 5)));
    }

    #[test]
    fn changed_or_removed_lines_are_outdated() {
        assert_eq!(follow(OLD, "a\nb\nC\nd\ne\n", 3, 3), None);
        assert_eq!(follow(OLD, "a\nb\nC\nd\ne\n", 2, 4), None);
        assert_eq!(follow(OLD, "a\nb\nd\ne\n", 3, 3), None);
        assert_eq!(follow(OLD, "", 1, 1), None);
        assert_eq!(follow(OLD, OLD, 6, 6), None);
    }

    #[test]
    fn suggestions_replace_whole_lines() {
        assert_eq!(replace_lines(OLD, 2, 3, "B\n").unwrap(), "a\nB\nd\ne\n");
        assert_eq!(
            replace_lines(OLD, 2, 2, "B1\nB2").unwrap(),
            "a\nB1\nB2\nc\nd\ne\n"
        );
        assert_eq!(replace_lines("a\nb", 2, 2, "c").unwrap(), "a\nc");
        assert_eq!(replace_lines(OLD, 5, 6, "x"), None);
        assert_eq!(line_count("a\nb"), 2);
        assert_eq!(line_count(OLD), 5);
    }
}
