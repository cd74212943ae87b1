//! Sizes as types: [`Bytes`] at the backends' seam (what files, devices and
//! qemu-img measure), [`GiB`] where volctl's interface is in GiB (volume and
//! snapshot sizes, quota `gigabytes`, configuration limits). Converting is
//! explicit, so a GiB figure can never be passed where bytes are meant.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Bytes in one GiB.
const GIB: u64 = 1 << 30;

/// A size in bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Bytes(pub u64);

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

/// Parses a size (as [`parse_size`]) that must be a whole number of GiB,
/// as volume sizes are for now; returns the GiB.
pub fn parse_whole_gib(s: &str) -> crate::error::Result<u64> {
    let b = parse_size(s)?;
    if b.0 % GIB != 0 {
        return Err(crate::error::Error::invalid(format!(
            "size `{s}` is not a whole number of GiB: volume sizes are whole GiB for now"
        )));
    }
    Ok(b.0 / GIB)
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
        use super::{parse_size, parse_whole_gib};
        assert_eq!(parse_size("10").unwrap().get(), 10 << 30);
        assert_eq!(parse_size("512M").unwrap().get(), 512 << 20);
        assert_eq!(parse_size("1.5T").unwrap().get(), 3 << 39);
        assert_eq!(parse_size("4096KiB").unwrap().get(), 4 << 20);
        assert_eq!(parse_size("1.5").unwrap().get(), 3 << 29);
        assert_eq!(parse_size(" 2 G ").unwrap().get(), 2 << 30);
        for bad in ["", "G", "1.2.3", "-1", "12X", "1e3", "99999999999P"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_whole_gib("8G").unwrap(), 8);
        assert_eq!(parse_whole_gib("1T").unwrap(), 1024);
        assert!(parse_whole_gib("512M").is_err());
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
    }
}
