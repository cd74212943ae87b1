//! Labels: the user's key=value pairs on a volume (`create --label`,
//! `volctl label`), and selectors over them (`list --label`, `delete
//! --label`, `gc`).
//!
//! A key is 1-63 characters of letters, digits and `._/-`, starting with a
//! letter or digit (a shell word needs no quoting); a value is at most 255
//! characters without control characters. Selectors are matched in Rust,
//! not in SQL (a `.` in a key would nest in a JSON path).

use crate::error::{Error, Result};
use crate::store::volumes::Labels;

/// Checks a label key.
pub fn check_key(key: &str) -> Result<()> {
    let ok = (1..=63).contains(&key.len())
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "label key `{key}` must be 1-63 letters, digits, `.`, `_`, `/` or `-`, starting with a letter or digit"
        )))
    }
}

/// Checks a label value.
pub fn check_value(key: &str, value: &str) -> Result<()> {
    if value.len() > 255 || value.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "the value of label `{key}` must be at most 255 characters without control characters"
        )));
    }
    Ok(())
}

/// Parses `key=value`.
pub fn parse(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| Error::invalid(format!("label `{s}` is not KEY=VALUE")))?;
    check_key(k)?;
    check_value(k, v)?;
    Ok((k.to_string(), v.to_string()))
}

/// Parses several `key=value`, a key at most once.
pub fn parse_all(items: &[String]) -> Result<Labels> {
    let mut out = Labels::new();
    for s in items {
        let (k, v) = parse(s)?;
        if out.insert(k.clone(), v).is_some() {
            return Err(Error::invalid(format!("label `{k}` is given twice")));
        }
    }
    Ok(out)
}

/// A change to a volume's labels (`volctl label VOL k=v k2-`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// Set (added or replaced).
    pub set: Labels,
    /// Removed.
    pub remove: Vec<String>,
}

impl Change {
    /// Parses `k=v` (set) and `k-` (remove) words.
    pub fn parse(words: &[String]) -> Result<Change> {
        let mut c = Change::default();
        for w in words {
            if let Some(k) = w.strip_suffix('-').filter(|_| !w.contains('=')) {
                check_key(k)?;
                c.remove.push(k.to_string());
            } else {
                let (k, v) = parse(w)?;
                c.set.insert(k, v);
            }
        }
        if let Some(k) = c.remove.iter().find(|k| c.set.contains_key(*k)) {
            return Err(Error::invalid(format!(
                "label `{k}` is both set and removed"
            )));
        }
        Ok(c)
    }

    /// `labels` with the change made.
    pub fn apply(&self, labels: &Labels) -> Labels {
        let mut out = labels.clone();
        for k in &self.remove {
            out.remove(k);
        }
        out.extend(self.set.clone());
        out
    }
}

/// Whether `labels` has every pair of `selector`.
pub fn matches(labels: &Labels, selector: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_and_changes() {
        assert_eq!(parse("job=1234").unwrap(), ("job".into(), "1234".into()));
        assert_eq!(parse("team/ci=").unwrap().1, "");
        for bad in ["=x", "-job=1", "j b=1", "job", "x\"y=1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse_all(&["a=1".into(), "a=2".into()]).is_err());
        let c = Change::parse(&["a=1".into(), "b-".into()]).unwrap();
        let before: Labels = [("b".into(), "x".into()), ("c".into(), "y".into())].into();
        let after = c.apply(&before);
        assert_eq!(
            after,
            [("a".into(), "1".into()), ("c".into(), "y".into())].into()
        );
        assert!(matches(&after, &[("a".into(), "1".into())].into()));
        assert!(!matches(&after, &[("a".into(), "2".into())].into()));
        assert!(Change::parse(&["a=1".into(), "a-".into()]).is_err());
    }
}
