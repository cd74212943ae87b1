//! Printing results: one JSON document per command with `--json`, plain
//! tables and lines otherwise. Results go to stdout; everything else to
//! stderr.

use std::io::Write;

use serde::Serialize;

use super::style;
use crate::error::Error;
use crate::store::volumes::Volume;

/// Prints `value` as one line of JSON.
pub fn json<T: Serialize>(value: &T) {
    let text = serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Prints a line on stdout.
pub fn line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Prints a note for people on stderr (above any progress bars).
pub fn note(text: &str) {
    super::console::note(text);
}

/// Prints rows under headers, columns aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    // Terminal cells, not characters: wide characters count two, colour
    // codes nothing.
    let mut widths: Vec<usize> = headers.iter().map(|h| style::width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(style::width(cell));
        }
    }
    let fmt = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    style::pad(c, widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", fmt(headers.to_vec()));
    for row in rows {
        let _ = writeln!(out, "{}", fmt(row.iter().map(String::as_str).collect()));
    }
}

/// Prints `key: value` lines.
pub fn fields(pairs: &[(&str, String)]) {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (k, v) in pairs {
        let _ = writeln!(out, "{k:<w$}  {v}");
    }
}

/// `-` for nothing.
pub fn or_dash(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

/// A volume as `key: value` lines.
pub fn volume_fields(v: &Volume) {
    fields(&[
        ("id", v.id.clone()),
        ("name", or_dash(v.name.as_deref())),
        ("status", style::state(&v.status.to_string())),
        ("size", v.size.human()),
        ("project", v.project.clone()),
        ("type", or_dash(v.type_name.as_deref())),
        ("zone", or_dash(v.zone.as_deref())),
        ("backend", or_dash(v.backend.as_deref())),
        ("path", or_dash(v.path.as_deref())),
        (
            "device",
            match (&v.device, v.attach_mode) {
                (Some(d), Some(m)) => format!("{d} ({m})"),
                (d, _) => or_dash(d.as_deref()),
            },
        ),
        (
            "source",
            match &v.source_id {
                Some(id) => format!("{} {id}", v.source_kind.as_str()),
                None => v.source_kind.as_str().to_string(),
            },
        ),
        ("attempts", v.attempts.to_string()),
        ("created_at", v.created_at.clone()),
        ("updated_at", v.updated_at.clone()),
        ("error", or_dash(v.error.as_deref())),
    ]);
}

/// The JSON form of an error.
pub fn error_json(e: &Error) -> serde_json::Value {
    let mut err = serde_json::json!({
        "kind": e.kind,
        "message": e.message,
        "exit_code": e.kind.exit_code(),
    });
    if !e.details.is_null() {
        err["details"] = e.details.clone();
    }
    serde_json::json!({ "error": err })
}
