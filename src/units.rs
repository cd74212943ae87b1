//! Sizes as types: [`Bytes`] at the backends' seam (what files, devices and
//! qemu-img measure), [`GiB`] where volctl's interface is in GiB (volume and
//! snapshot sizes, quota `gigabytes`, configuration limits). Converting is
//! explicit, so a GiB figure can never be passed where bytes are meant.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Bytes in one GiB.
const GIB: u64 = 1 << 30;
/// Bytes in one MiB: the granularity of volume sizes.
pub const MIB: u64 = 1 << 20;

/// A size in bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Bytes(pub u64);

/// A size a flow records as its input (`extend --size`): written as
/// `{"size": GiB, "size_bytes": n}`; an input recorded before sizes were
/// bytes is a bare number of GiB, and reads as that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedSize(pub Bytes);

impl Serialize for RecordedSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        size_fields::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for RecordedSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            LegacyGib(u64),
            Fields(#[serde(with = "size_fields")] Bytes),
        }
        Ok(RecordedSize(match Wire::deserialize(d)? {
            Wire::LegacyGib(g) => Bytes::gib(g),
            Wire::Fields(b) => b,
        }))
    }
}

/// A size in whole GiB (2^30 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct GiB(pub u64);

impl Bytes {
    /// The number of bytes.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// In GiB, rounded up (what a byte size costs in whole GiB).
    pub const fn ceil_gib(self) -> GiB {
        GiB(self.0.div_ceil(GIB))
    }

    /// In GiB, as a fraction (for display and capacity arithmetic).
    pub fn as_gib_f64(self) -> f64 {
        self.0 as f64 / GIB as f64
    }

    /// `self - other`, 0 when `other` is larger.
    pub const fn saturating_sub(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_sub(other.0))
    }

    /// `self + other`, saturating.
    pub const fn saturating_add(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(other.0))
    }

    /// `n` GiB.
    pub const fn gib(n: u64) -> Bytes {
        GiB(n).bytes()
    }

    /// `n` MiB.
    pub const fn mib(n: u64) -> Bytes {
        Bytes(n.saturating_mul(MIB))
    }

    /// Rounded up to a multiple of `unit` (a power of two or not; `unit`
    /// 0 leaves it as it is).
    pub const fn round_up(self, unit: u64) -> Bytes {
        if unit == 0 {
            self
        } else {
            Bytes(self.0.div_ceil(unit).saturating_mul(unit))
        }
    }

    /// Whether it is a whole number of GiB.
    pub const fn is_whole_gib(self) -> bool {
        self.0 % GIB == 0
    }

    /// The GiB figure volctl's JSON gives beside `size_bytes`: an integer
    /// when the size is whole GiB (as every size was before sizes were
    /// bytes), else a fraction rounded to 6 places (so 512 MiB is `0.5`).
    pub fn gib_json(self) -> serde_json::Number {
        if self.is_whole_gib() {
            serde_json::Number::from(self.0 / GIB)
        } else {
            let rounded = (self.as_gib_f64() * 1e6).round() / 1e6;
            serde_json::Number::from_f64(rounded).unwrap_or_else(|| 0.into())
        }
    }

    /// For people: the largest binary unit that keeps at least 1 in front,
    /// with at most two decimals. A size that unit says exactly has no
    /// trailing zeros (`512 MiB`, `1.5 GiB`, `10 GiB`, `0 B`); one it does
    /// not is given in a smaller unit while that says it exactly in under
    /// 10 000 (`2047 MiB`, not `2 GiB`), and else rounded to two decimals,
    /// kept (`251.97 GiB`, `10.00 GiB`: the zeros say it is rounded).
    pub fn human(self) -> String {
        const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        let mut top = 0;
        while top + 1 < UNITS.len() && self.0 >= 1 << (10 * (top + 1)) {
            top += 1;
        }
        // Exact with two decimals: 100 × bytes is a multiple of the unit.
        let exact = |unit: usize| (u128::from(self.0) * 100) % (1u128 << (10 * unit)) == 0;
        let whole = |unit: usize| u128::from(self.0) % (1u128 << (10 * unit)) == 0;
        let value = |unit: usize| self.0 as f64 / (1u64 << (10 * unit)) as f64;
        let trimmed = |unit: usize| {
            let text = format!("{:.2}", value(unit));
            let text = text.trim_end_matches('0').trim_end_matches('.').to_string();
            format!("{text} {}", UNITS[unit])
        };
        if exact(top) {
            return trimmed(top);
        }
        // A whole number of a smaller unit, while it stays short.
        let mut unit = top;
        while unit > 0 && value(unit - 1) < 10_000.0 {
            unit -= 1;
            if whole(unit) {
                return trimmed(unit);
            }
        }
        format!("{:.2} {}", value(top), UNITS[top])
    }
}

/// A count with its noun, singular or plural: `1 use`, `3 uses`.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Serializes a size as its GiB figure ([`Bytes::gib_json`]).
pub fn serialize_gib<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    b.gib_json().serialize(s)
}

/// The `(de)serialize_with` pair for a size field, flattened into its
/// struct as two keys: `size_bytes` (exact) and `size` (GiB, see
/// [`Bytes::gib_json`]). Records written before sizes were bytes (a flow or
/// a queued request recorded by an older volctl) have `size` only, in whole
/// GiB: they read as that many GiB.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct V {
///     #[serde(flatten, with = "volctl::units::size_fields")]
///     size: volctl::units::Bytes,
/// }
/// let v: V = serde_json::from_str(r#"{"size": 2}"#).unwrap();
/// assert_eq!(v.size, volctl::units::Bytes::gib(2));
/// let json = serde_json::to_string(&V { size: volctl::units::Bytes::mib(512) }).unwrap();
/// assert_eq!(json, r#"{"size":0.5,"size_bytes":536870912}"#);
/// ```
pub mod size_fields {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Bytes;

    #[derive(Serialize)]
    struct Out {
        size: serde_json::Number,
        size_bytes: u64,
    }

    /// Writes `size` and `size_bytes`.
    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        Out {
            size: b.gib_json(),
            size_bytes: b.0,
        }
        .serialize(s)
    }

    /// Reads `size_bytes`, or a legacy record's whole-GiB `size`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        // `size` may be a fraction in a new record; only `size_bytes` is
        // read then, so a non-integer `size` must not fail the record.
        #[derive(Deserialize)]
        struct Any {
            size: Option<serde_json::Value>,
            size_bytes: Option<u64>,
        }
        let any = Any::deserialize(d)?;
        if let Some(b) = any.size_bytes {
            return Ok(Bytes(b));
        }
        match any.size.as_ref().and_then(serde_json::Value::as_u64) {
            Some(gib) => Ok(Bytes::gib(gib)),
            None => Err(serde::de::Error::missing_field("size_bytes")),
        }
    }

    /// The same for an optional size: no keys when there is none.
    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::Bytes;

        /// Writes `size` and `size_bytes`, or nothing.
        pub fn serialize<S: Serializer>(b: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            match b {
                Some(b) => super::serialize(b, s),
                None => s.serialize_map(Some(0))?.end(),
            }
        }

        /// Reads a size if either key is there.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
            #[derive(Deserialize)]
            struct Any {
                size: Option<serde_json::Value>,
                size_bytes: Option<u64>,
            }
            let any = Any::deserialize(d)?;
            match (any.size_bytes, any.size) {
                (Some(b), _) => Ok(Some(Bytes(b))),
                (None, None) | (None, Some(serde_json::Value::Null)) => Ok(None),
                (None, Some(v)) => v
                    .as_u64()
                    .map(|gib| Some(Bytes::gib(gib)))
                    .ok_or_else(|| serde::de::Error::custom("size: expected whole GiB")),
            }
        }
    }
}

impl GiB {
    /// The number of GiB.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// In bytes (saturating: no configured size comes near 2^34 GiB).
    pub const fn bytes(self) -> Bytes {
        Bytes(self.0.saturating_mul(GIB))
    }
}

/// Parses a size as people write it: a number (decimals allowed) with a
/// binary unit — `K`, `M`, `G`, `T`, `P`, optionally followed by `i`, `iB`
/// or `B` (`512M`, `1.5T`, `4096KiB`) — or a plain number, meaning GiB.
/// Fractions of a byte are rounded up.
pub fn parse_size(s: &str) -> crate::error::Result<Bytes> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "G" | "GI" | "GIB" | "GB" => 30,
        "K" | "KI" | "KIB" | "KB" => 10,
        "M" | "MI" | "MIB" | "MB" => 20,
        "T" | "TI" | "TIB" | "TB" => 40,
        "P" | "PI" | "PIB" | "PB" => 50,
        _ => {
            return Err(crate::error::Error::invalid(format!(
                "size `{s}`: unknown unit `{unit}` (use K, M, G, T or P, binary; a plain number is GiB)"
            )));
        }
    };
    let bad = || {
        crate::error::Error::invalid(format!(
            "size `{s}` is not a size (write e.g. 10, 512M, 1.5T)"
        ))
    };
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    if whole.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    // The fraction exactly, as digits / 10^len, scaled by the unit.
    let frac_bytes = if frac.is_empty() {
        0
    } else {
        if frac.len() > 18 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let digits: u128 = frac.parse().map_err(|_| bad())?;
        let scale = 10u128.pow(frac.len() as u32);
        (digits << shift).div_ceil(scale)
    };
    let bytes = (whole as u128) << shift;
    u64::try_from(bytes + frac_bytes)
        .map(Bytes)
        .map_err(|_| crate::error::Error::invalid(format!("size `{s}` is too large")))
}

/// Parses a volume size (as [`parse_size`]): at least 1 MiB, rounded up
/// to a whole MiB (volumes have MiB granularity; a backend may round up
/// further, to its allocation unit, and says so).
pub fn parse_volume_size(s: &str) -> crate::error::Result<Bytes> {
    let b = parse_size(s)?;
    if b.0 == 0 {
        return Err(crate::error::Error::invalid(format!(
            "size `{s}` is zero: a volume is at least 1M"
        )));
    }
    Ok(b.round_up(MIB))
}

impl From<GiB> for Bytes {
    fn from(g: GiB) -> Bytes {
        g.bytes()
    }
}

impl fmt::Display for GiB {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} GiB", self.0)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_as_people_write_them() {
        use super::{Bytes, parse_size, parse_volume_size};
        assert_eq!(parse_size("10").unwrap().get(), 10 << 30);
        assert_eq!(parse_size("512M").unwrap().get(), 512 << 20);
        assert_eq!(parse_size("1.5T").unwrap().get(), 3 << 39);
        assert_eq!(parse_size("4096KiB").unwrap().get(), 4 << 20);
        assert_eq!(parse_size("1.5").unwrap().get(), 3 << 29);
        assert_eq!(parse_size(" 2 G ").unwrap().get(), 2 << 30);
        for bad in ["", "G", "1.2.3", "-1", "12X", "1e3", "99999999999P"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_volume_size("8G").unwrap(), Bytes::gib(8));
        assert_eq!(parse_volume_size("512M").unwrap(), Bytes::mib(512));
        assert_eq!(parse_volume_size("1K").unwrap(), Bytes::mib(1));
        assert_eq!(parse_volume_size("1.3G").unwrap(), Bytes::mib(1332));
        assert!(parse_volume_size("0").is_err());
        assert!(parse_volume_size("0M").is_err());
    }

    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(GiB(3).bytes(), Bytes(3 << 30));
        assert_eq!(Bytes(1).ceil_gib(), GiB(1));
        assert_eq!(Bytes(1 << 30).ceil_gib(), GiB(1));
        assert_eq!(Bytes((1 << 30) + 1).ceil_gib(), GiB(2));
        assert_eq!(Bytes(0).ceil_gib(), GiB(0));
        assert_eq!(Bytes(3 << 29).as_gib_f64(), 1.5);
        assert_eq!(GiB(u64::MAX).bytes(), Bytes(u64::MAX));
        assert_eq!(serde_json::to_string(&GiB(4)).unwrap(), "4");
        assert_eq!(Bytes::mib(1536).round_up(1 << 30), Bytes::gib(2));
        assert_eq!(Bytes::mib(5).round_up(4 << 20), Bytes::mib(8));
    }

    #[test]
    fn sizes_for_people_and_json() {
        assert_eq!(Bytes(0).human(), "0 B");
        assert_eq!(Bytes(1023).human(), "1023 B");
        assert_eq!(Bytes::mib(512).human(), "512 MiB");
        assert_eq!(Bytes::mib(1536).human(), "1.5 GiB");
        assert_eq!(Bytes::gib(10).human(), "10 GiB");
        assert_eq!(Bytes::gib(2048).human(), "2 TiB");
        assert_eq!(Bytes::mib(2047).human(), "2047 MiB", "never rounded");
        assert_eq!(
            Bytes((1 << 20) - 1).human(),
            "1024.00 KiB",
            "rounded, and says so"
        );
        assert_eq!(Bytes(270_553_174_016).human(), "251.97 GiB");
        assert_eq!(Bytes::mib(10241).human(), "10.00 GiB");
        assert_eq!(Bytes(6_907_158_528).human(), "6.43 GiB", "not 6587.25 MiB");
        assert_eq!(Bytes::mib(1332).human(), "1332 MiB");
        assert_eq!(Bytes::mib(1280).human(), "1.25 GiB");
        assert_eq!(Bytes::gib(3).gib_json().to_string(), "3");
        assert_eq!(Bytes::mib(512).gib_json().to_string(), "0.5");
        assert_eq!(Bytes::mib(1).gib_json().to_string(), "0.000977");
    }

    #[test]
    fn size_fields_read_legacy_and_new_records() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct R {
            id: u32,
            #[serde(flatten, with = "super::size_fields")]
            size: Bytes,
        }
        let new = R {
            id: 1,
            size: Bytes::mib(1536),
        };
        let json = serde_json::to_string(&new).unwrap();
        assert_eq!(json, r#"{"id":1,"size":1.5,"size_bytes":1610612736}"#);
        assert_eq!(serde_json::from_str::<R>(&json).unwrap(), new);
        let legacy: R = serde_json::from_str(r#"{"id":1,"size":3}"#).unwrap();
        assert_eq!(legacy.size, Bytes::gib(3));
        assert!(serde_json::from_str::<R>(r#"{"id":1}"#).is_err());
        let legacy: RecordedSize = serde_json::from_str("4").unwrap();
        assert_eq!(legacy.0, Bytes::gib(4));
        let new = RecordedSize(Bytes::mib(3));
        let back: RecordedSize =
            serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
    }
}
