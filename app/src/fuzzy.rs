//! Fuzzy matching of file paths for quick open, ranked as VS Code ranks them:
//! the query's characters in order, case-insensitively, with runs of consecutive
//! characters and matches at the start of a word (after `/`, `_`, `-`, `.`, a
//! space, or a lower-to-upper case change) first, and matches within the file's
//! own name before matches spread over its folders.

/// A match: its score (higher is better) and the matched character positions.
pub type Scored = (i64, Vec<u32>);

/// At most this many starting points are tried for the first character.
const STARTS: usize = 32;

fn is_separator(c: char) -> bool {
    matches!(c, '/' | '\\' | '_' | '-' | '.' | ' ')
}

/// Whether position `i` of `chars` starts a word.
fn word_start(chars: &[char], i: usize) -> bool {
    i == 0 || is_separator(chars[i - 1]) || (chars[i - 1].is_lowercase() && chars[i].is_uppercase())
}

/// Matches `query` in `target` from `start` on, taking each next character at
/// once when it follows, else at the next word start, else at the next place.
fn from(query: &[char], target: &[char], start: usize) -> Option<Vec<usize>> {
    let eq = |a: char, b: char| a.to_lowercase().eq(b.to_lowercase());
    let mut positions = vec![start];
    let mut at = start + 1;
    for &q in &query[1..] {
        let rest = &target[at..];
        let next = if rest.first().is_some_and(|&c| eq(c, q)) {
            Some(at)
        } else {
            let word = (at..target.len()).find(|&i| eq(target[i], q) && word_start(target, i));
            word.or_else(|| rest.iter().position(|&c| eq(c, q)).map(|p| at + p))
        };
        let i = next?;
        positions.push(i);
        at = i + 1;
    }
    Some(positions)
}

fn score_of(query: &[char], target: &[char], positions: &[usize], name_start: usize) -> i64 {
    let mut score = 0i64;
    for (n, &i) in positions.iter().enumerate() {
        score += 1;
        let follows = n > 0 && positions[n - 1] + 1 == i;
        if follows {
            // A run is worth more than scattered word starts.
            score += 15;
        } else {
            if word_start(target, i) {
                score += 8;
            }
            if n > 0 {
                score -= ((i - positions[n - 1] - 1) as i64).min(5);
            }
        }
        if target[i] == query[n] {
            score += 1;
        }
    }
    if positions.first().is_some_and(|&p| p >= name_start) {
        // The whole query within the file's name.
        score += 20;
        if positions[0] == name_start {
            score += 10;
        }
    }
    score
}

/// The best match of `query` in `path`, if every character of it is there.
pub fn score(query: &str, path: &str) -> Option<Scored> {
    let query: Vec<char> = query.chars().filter(|c| !c.is_whitespace()).collect();
    if query.is_empty() {
        return Some((0, Vec::new()));
    }
    let target: Vec<char> = path.chars().collect();
    let name_start = path.rfind('/').map_or(0, |i| path[..=i].chars().count());
    let first = query[0].to_lowercase().collect::<String>();
    let starts = target
        .iter()
        .enumerate()
        .filter(|(_, c)| c.to_lowercase().collect::<String>() == first)
        .map(|(i, _)| i);
    // Starts in the file's name are tried first: they are the best places.
    let (in_name, before): (Vec<usize>, Vec<usize>) = starts.partition(|&i| i >= name_start);
    in_name
        .into_iter()
        .chain(before)
        .take(STARTS)
        .filter_map(|s| from(&query, &target, s))
        .map(|p| (score_of(&query, &target, &p, name_start), p))
        .max_by_key(|(s, _)| *s)
        .map(|(s, p)| (s, p.into_iter().map(|i| i as u32).collect()))
}

/// The paths that match `query`, best first (then shorter, then by name), at
/// most `limit`.
pub fn rank<'a>(
    query: &str,
    paths: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<(String, Scored)> {
    let mut hits: Vec<(String, Scored)> = paths
        .into_iter()
        .filter_map(|p| score(query, p).map(|s| (p.to_string(), s)))
        .collect();
    hits.sort_by(|(a, (sa, _)), (b, (sb, _))| {
        sb.cmp(sa).then(a.len().cmp(&b.len())).then(a.cmp(b))
    });
    hits.truncate(limit);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(query: &str, paths: &[&str]) -> Vec<String> {
        rank(query, paths.iter().copied(), 10)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    #[test]
    fn every_character_in_order() {
        assert!(score("mnpy", "main.py").is_some());
        assert!(score("ypm", "main.py").is_none());
        assert_eq!(score("MAIN", "src/main.rs").unwrap().1, vec![4, 5, 6, 7]);
    }

    #[test]
    fn consecutive_and_word_starts_first() {
        assert_eq!(
            order("main", &["src/m_a_i_n.txt", "lib/domain.rs", "src/main.rs"]),
            ["src/main.rs", "lib/domain.rs", "src/m_a_i_n.txt"]
        );
        // Initials of words: "user service test".
        assert_eq!(
            order(
                "ust",
                &["docs/used_stuff.md", "src/user_service_test.py", "ust.txt"]
            )[..2],
            ["ust.txt", "src/user_service_test.py"]
        );
        assert_eq!(
            order("fb", &["afoobar.js", "src/FooBar.ts"]),
            ["src/FooBar.ts", "afoobar.js"]
        );
    }

    #[test]
    fn the_file_name_before_its_folders() {
        assert_eq!(
            order("util", &["util/helpers/a.py", "src/util.py"]),
            ["src/util.py", "util/helpers/a.py"]
        );
    }
}
