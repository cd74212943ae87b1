//! "Did you mean …?" for misspelt names (extra-spec scopes, quota
//! resources, configuration keys).

/// The edit distance between `a` and `b` (insertions, deletions,
/// substitutions), by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be what was
/// meant (at most a third of its length away, and at least one edit).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)`, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_what_is_close_and_nothing_else() {
        assert_eq!(distance("capabilites", "capabilities"), 1);
        assert_eq!(
            closest("capabilites", ["capabilities", "volctl"]),
            Some("capabilities")
        );
        assert_eq!(closest("volums", ["volumes", "snapshots"]), Some("volumes"));
        assert_eq!(
            closest("bogus", ["volumes", "gigabytes", "snapshots"]),
            None
        );
        assert_eq!(did_you_mean("qos", ["capabilities", "volctl"]), "");
    }
}
