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
