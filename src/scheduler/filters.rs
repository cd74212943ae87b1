//! Filters and the capacity weigher. Every filter gives a verdict with the
//! figures behind it, so "no valid backend" always says why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backends::Stats;
use crate::units::Bytes;

/// What the scheduler knows about one backend.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Backend name.
    pub name: String,
    /// Availability zone.
    pub zone: String,
    /// Capacity and free space (or why they could not be read).
    pub stats: Result<Stats, String>,
    /// Space already provisioned (in-flight creates included).
    pub provisioned: Bytes,
    /// Percentage of capacity kept free.
    pub reserved_percentage: u32,
    /// Thin over-subscription ratio.
    pub max_over_subscription_ratio: f64,
    /// Capabilities (configured and built-in).
    pub capabilities: BTreeMap<String, crate::config::Capability>,
}

/// What is being scheduled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Want {
    /// Size.
    pub size: Bytes,
    /// Required zone.
    pub zone: Option<String>,
    /// The volume type's extra specs.
    pub extra_specs: BTreeMap<String, String>,
    /// Only this backend (snapshot and clone requests).
    pub pinned_backend: Option<String>,
    /// Backends already tried by earlier attempts.
    pub tried: Vec<String>,
}

/// One filter's verdict on one backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The filter.
    pub filter: String,
    /// Whether the backend passes.
    pub pass: bool,
    /// Why, with figures.
    pub reason: String,
}

/// Everything decided about one backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    /// Backend name.
    pub backend: String,
    /// Each filter's verdict.
    pub verdicts: Vec<Verdict>,
    /// Whether every filter passed.
    pub passed: bool,
    /// Virtual free space, bytes (the capacity weigher's raw figure;
    /// negative when over-provisioned).
    pub virtual_free_bytes: Option<i64>,
    /// Normalised weight in [0, 1] among passing backends.
    pub weight: Option<f64>,
}

/// The outcome of scheduling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The chosen backend.
    pub chosen: Option<String>,
    /// What was decided about every backend.
    pub backends: Vec<BackendReport>,
}

impl Decision {
    /// Human text: one line per backend with every failed verdict (all
    /// verdicts with `verbose`), and the weights.
    pub fn explain(&self, verbose: bool) -> String {
        let mut out = String::new();
        for b in &self.backends {
            let mark = if Some(&b.backend) == self.chosen.as_ref() {
                "chosen"
            } else if b.passed {
                "passed"
            } else {
                "rejected"
            };
            let weight = b
                .weight
                .map(|w| format!(", weight {w:.3}"))
                .unwrap_or_default();
            out.push_str(&format!("  {} ({mark}{weight}):\n", b.backend));
            for v in b.verdicts.iter().filter(|v| verbose || !v.pass) {
                let sign = if v.pass { "ok  " } else { "FAIL" };
                out.push_str(&format!("    {sign} {}: {}\n", v.filter, v.reason));
            }
        }
        out
    }
}

/// A figure for people: up to two decimals, no trailing zeros (0.99 stays
/// 0.99, never rounds up to a misleading 1).
fn gb(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_string()
}

/// Whether a thin volume of this type may go on a thin backend.
fn wants_thin(want: &Want, stats: &Stats) -> bool {
    stats.thin
        && want
            .extra_specs
            .get("provisioning:type")
            .is_none_or(|t| t != "thick")
}

/// Cinder's capacity filter, returning (pass, reason, virtual free GiB).
pub fn capacity(want: &Want, c: &Candidate) -> (bool, String, Option<f64>) {
    let stats = match &c.stats {
        Ok(s) => s,
        Err(e) => return (false, format!("cannot read capacity: {e}"), None),
    };
    let total = stats.total.as_gib_f64();
    let free = stats.free.as_gib_f64();
    let reserved = (total * f64::from(c.reserved_percentage) / 100.0).floor();
    let provisioned = c.provisioned.as_gib_f64();
    let size = want.size.as_gib_f64();
    if wants_thin(want, stats) {
        let ratio = c.max_over_subscription_ratio;
        let total_available = (total - reserved) * ratio;
        let virtual_free = total_available - provisioned;
        let figures = format!(
            "total {}, reserved {} %, provisioned {}, ratio {}",
            gb(total),
            c.reserved_percentage,
            gb(provisioned),
            gb(ratio)
        );
        if free - reserved <= 0.0 {
            return (
                false,
                format!(
                    "needs {}, but only {} GiB is really free and {} GiB is reserved ({figures})",
                    want.size.human(),
                    gb(free),
                    gb(reserved)
                ),
                Some(virtual_free),
            );
        }
        (
            virtual_free >= size,
            format!(
                "needs {}, virtual free {} GiB ({figures})",
                want.size.human(),
                gb(virtual_free)
            ),
            Some(virtual_free),
        )
    } else {
        let virtual_free = (free - reserved).min(total - reserved - provisioned);
        (
            virtual_free >= size,
            format!(
                "needs {}, free {} GiB (thick; total {}, free {}, reserved {} %, provisioned {})",
                want.size.human(),
                gb(virtual_free),
                gb(total),
                gb(free),
                c.reserved_percentage,
                gb(provisioned)
            ),
            Some(virtual_free),
        )
    }
}

/// Cinder's extra-spec operators: `<is>`, `<in>`, `<or>`, `=` (numeric
/// at least), `==`, `!=`, `>=`, `<=`, `s==`, `s!=`, `s<`, `s<=`, `s>`,
/// `s>=`; without an operator, string equality.
pub fn spec_matches(capability: &str, requirement: &str) -> bool {
    let req = requirement.trim();
    let num = |s: &str| s.trim().parse::<f64>().ok();
    let Some((op, arg)) = req.split_once(' ').filter(|(op, _)| {
        matches!(
            *op,
            "<is>"
                | "<in>"
                | "<or>"
                | "="
                | "=="
                | "!="
                | ">="
                | "<="
                | "s=="
                | "s!="
                | "s<"
                | "s<="
                | "s>"
                | "s>="
        )
    }) else {
        return capability == req;
    };
    let arg = arg.trim();
    match op {
        "<is>" => capability.eq_ignore_ascii_case(arg),
        "<in>" => capability.contains(arg),
        "<or>" => arg
            .split("<or>")
            .map(str::trim)
            .any(|alt| alt == capability),
        "=" => matches!((num(capability), num(arg)), (Some(c), Some(a)) if c >= a),
        "==" => matches!((num(capability), num(arg)), (Some(c), Some(a)) if c == a),
        "!=" => matches!((num(capability), num(arg)), (Some(c), Some(a)) if c != a),
        ">=" => matches!((num(capability), num(arg)), (Some(c), Some(a)) if c >= a),
        "<=" => matches!((num(capability), num(arg)), (Some(c), Some(a)) if c <= a),
        "s==" => capability == arg,
        "s!=" => capability != arg,
        "s<" => capability < arg,
        "s<=" => capability <= arg,
        "s>" => capability > arg,
        "s>=" => capability >= arg,
        _ => false,
    }
}

/// The capabilities filter: every unscoped or `capabilities:`-scoped extra
/// spec must match the backend's capability.
pub fn capabilities(want: &Want, c: &Candidate) -> (bool, String) {
    let mut checked = Vec::new();
    for (key, req) in &want.extra_specs {
        let cap_key = match key.split_once(':') {
            Some(("capabilities", k)) => k,
            Some(_) => continue, // other scopes (provisioning:, qos:) are not capabilities
            None => key.as_str(),
        };
        match c.capabilities.get(cap_key) {
            None => {
                return (
                    false,
                    format!("has no capability `{cap_key}` (the type requires `{req}`)"),
                );
            }
            Some(have) if !spec_matches(&have.to_string(), req) => {
                return (
                    false,
                    format!("{cap_key} is `{have}`, the type requires `{req}`"),
                );
            }
            Some(have) => checked.push(format!("{cap_key}={have}")),
        }
    }
    if checked.is_empty() {
        (true, "the type requires no capability".to_string())
    } else {
        (true, format!("matches {}", checked.join(", ")))
    }
}

/// Runs every filter on every backend, weighs the ones that pass by virtual
/// free capacity, and picks the heaviest (the first in configuration order on
/// a tie).
pub fn schedule(want: &Want, candidates: &[Candidate]) -> Decision {
    let mut reports: Vec<BackendReport> = candidates
        .iter()
        .map(|c| {
            let mut verdicts = Vec::new();
            let mut v = |filter: &str, pass: bool, reason: String| {
                verdicts.push(Verdict {
                    filter: filter.to_string(),
                    pass,
                    reason,
                })
            };
            if let Some(p) = &want.pinned_backend {
                v(
                    "pinned",
                    *p == c.name,
                    if *p == c.name {
                        "the request is pinned to this backend (its source is here)".into()
                    } else {
                        format!("the request is pinned to backend `{p}` (its source is there)")
                    },
                );
            }
            if !want.tried.is_empty() {
                let tried = want.tried.contains(&c.name);
                v(
                    "retry",
                    !tried,
                    if tried {
                        "already tried by an earlier attempt".into()
                    } else {
                        "not tried yet".into()
                    },
                );
            }
            match &want.zone {
                Some(z) => v(
                    "availability_zone",
                    *z == c.zone,
                    if *z == c.zone {
                        format!("in zone {z}")
                    } else {
                        format!("in zone {}, the request wants {z}", c.zone)
                    },
                ),
                None => v(
                    "availability_zone",
                    true,
                    format!("in zone {}, any zone requested", c.zone),
                ),
            }
            let (pass, reason, virtual_free) = capacity(want, c);
            v("capacity", pass, reason);
            let (pass, reason) = capabilities(want, c);
            v("capabilities", pass, reason);
            let passed = verdicts.iter().all(|v| v.pass);
            BackendReport {
                backend: c.name.clone(),
                verdicts,
                passed,
                virtual_free_bytes: virtual_free.map(|gib| (gib * (1u64 << 30) as f64) as i64),
                weight: None,
            }
        })
        .collect();

    // Capacity weigher: normalise virtual free space to [0, 1].
    let frees: Vec<f64> = reports
        .iter()
        .filter(|r| r.passed)
        .filter_map(|r| r.virtual_free_bytes.map(|b| b as f64))
        .collect();
    let (lo, hi) = frees
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &f| {
            (lo.min(f), hi.max(f))
        });
    for r in reports.iter_mut().filter(|r| r.passed) {
        let f = r.virtual_free_bytes.unwrap_or(0) as f64;
        r.weight = Some(if hi > lo { (f - lo) / (hi - lo) } else { 1.0 });
    }
    let chosen = reports
        .iter()
        .filter(|r| r.passed)
        .fold(None::<&BackendReport>, |best, r| match best {
            Some(b) if b.weight >= r.weight => Some(b),
            _ => Some(r),
        })
        .map(|r| r.backend.clone());
    Decision {
        chosen,
        backends: reports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, total: f64, free: f64, provisioned: u64, thin: bool) -> Candidate {
        Candidate {
            name: name.into(),
            zone: "nova".into(),
            stats: Ok(Stats {
                total: Bytes((total * (1u64 << 30) as f64) as u64),
                free: Bytes((free * (1u64 << 30) as f64) as u64),
                thin,
                allocation_unit: Bytes(0),
            }),
            provisioned: Bytes::gib(provisioned),
            reserved_percentage: 0,
            max_over_subscription_ratio: 20.0,
            capabilities: BTreeMap::new(),
        }
    }

    fn want(size: u64) -> Want {
        Want {
            size: Bytes::gib(size),
            ..Want::default()
        }
    }

    #[test]
    fn thin_capacity_uses_reserved_and_over_subscription() {
        let mut c = cand("a", 100.0, 50.0, 1890, true);
        c.reserved_percentage = 5;
        let (pass, reason, vf) = capacity(&want(10), &c);
        // (100 - 5) * 20 - 1890 = 10
        assert!(pass, "{reason}");
        assert_eq!(vf, Some(10.0));
        assert_eq!(
            reason,
            "needs 10 GiB, virtual free 10 GiB (total 100, reserved 5 %, provisioned 1890, ratio 20)"
        );
        let (pass, reason, _) = capacity(&want(11), &c);
        assert!(!pass, "{reason}");
    }

    #[test]
    fn thick_capacity_uses_real_free_space() {
        let c = cand("a", 100.0, 30.0, 60, false);
        let (pass, reason, vf) = capacity(&want(30), &c);
        assert!(pass);
        assert_eq!(vf, Some(30.0));
        assert!(reason.contains("thick"), "{reason}");
        let c = cand("a", 100.0, 80.0, 90, false);
        let (pass, _, vf) = capacity(&want(11), &c);
        assert!(!pass);
        assert_eq!(vf, Some(10.0), "total - provisioned bounds it");
        // A thick type on a thin backend is thick.
        let mut w = want(11);
        w.extra_specs
            .insert("provisioning:type".into(), "thick".into());
        assert!(!capacity(&w, &cand("a", 100.0, 80.0, 90, true)).0);
    }

    #[test]
    fn full_thin_backend_is_rejected() {
        let mut c = cand("a", 100.0, 4.0, 0, true);
        c.reserved_percentage = 5;
        let (pass, reason, _) = capacity(&want(1), &c);
        assert!(!pass);
        assert!(reason.contains("really free"), "{reason}");
    }

    #[test]
    fn extra_spec_operators() {
        assert!(spec_matches("ssd", "ssd"));
        assert!(!spec_matches("hdd", "ssd"));
        assert!(spec_matches("True", "<is> True"));
        assert!(spec_matches("true", "<is> True"));
        assert!(spec_matches("5000", ">= 3000"));
        assert!(!spec_matches("2000", ">= 3000"));
        assert!(spec_matches("5000", "= 3000"), "`=` means at least");
        assert!(spec_matches("3000", "== 3000"));
        assert!(spec_matches("fast-ssd", "<in> ssd"));
        assert!(spec_matches("b", "<or> a <or> b"));
        assert!(!spec_matches("c", "<or> a <or> b"));
        assert!(spec_matches("abc", "s< abd"));
        assert!(
            !spec_matches("x", "<= 3"),
            "non-numbers never match numeric operators"
        );
    }

    #[test]
    fn capabilities_filter_scopes() {
        let mut c = cand("a", 100.0, 50.0, 0, true);
        c.capabilities
            .insert("tier".into(), crate::config::Capability::Text("ssd".into()));
        let mut w = want(1);
        w.extra_specs
            .insert("capabilities:tier".into(), "ssd".into());
        w.extra_specs.insert("qos:iops".into(), "100".into());
        assert!(capabilities(&w, &c).0);
        w.extra_specs.insert("tier".into(), "hdd".into());
        let (pass, reason) = capabilities(&w, &c);
        assert!(!pass);
        assert_eq!(reason, "tier is `ssd`, the type requires `hdd`");
        let mut w = want(1);
        w.extra_specs
            .insert("replicated".into(), "<is> True".into());
        assert!(
            capabilities(&w, &c)
                .1
                .contains("has no capability `replicated`")
        );
    }

    #[test]
    fn schedule_weighs_free_space_and_explains_rejections() {
        let mut far = cand("far", 100.0, 50.0, 0, true);
        far.zone = "az2".into();
        let cands = vec![
            cand("small", 10.0, 10.0, 195, true),
            cand("big", 100.0, 50.0, 100, true),
            far,
            cand("tried", 1000.0, 500.0, 0, true),
        ];
        let mut w = want(100);
        w.zone = Some("nova".into());
        w.tried = vec!["tried".into()];
        let d = schedule(&w, &cands);
        assert_eq!(d.chosen.as_deref(), Some("big"));
        let text = d.explain(false);
        assert!(text.contains("small (rejected)"), "{text}");
        assert!(
            text.contains("needs 100 GiB, virtual free 5 GiB (total 10, reserved 0 %, provisioned 195, ratio 20)"),
            "{text}"
        );
        assert!(
            text.contains("in zone az2, the request wants nova"),
            "{text}"
        );
        assert!(text.contains("already tried"), "{text}");
        assert!(text.contains("big (chosen, weight 1.000)"), "{text}");

        let mut w = want(10);
        w.pinned_backend = Some("small".into());
        let d = schedule(&w, &cands[..2]);
        assert_eq!(d.chosen, None, "pinned backend full: no fallback elsewhere");
        assert!(d.explain(false).contains("pinned to backend `small`"));
    }

    #[test]
    fn ties_go_to_the_first_configured() {
        let cands = vec![
            cand("a", 100.0, 50.0, 0, true),
            cand("b", 100.0, 50.0, 0, true),
        ];
        assert_eq!(schedule(&want(1), &cands).chosen.as_deref(), Some("a"));
    }
}
