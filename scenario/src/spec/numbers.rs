//! Numbers whose range is part of their type ([`PositiveF64`], [`NonNegativeF64`],
//! [`Fraction`]): checked while parsing, so an out-of-range value is reported at its own
//! line and column.

use serde::{Deserialize, Serialize};

macro_rules! checked_f64 {
    ($name:ident, $check:expr, $what:literal) => {
        #[doc = concat!("An `f64` that must be ", $what, "; checked while parsing so the error has a location.")]
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = f64::deserialize(d)?;
                let ok: fn(f64) -> bool = $check;
                if v.is_finite() && ok(v) {
                    Ok($name(v))
                } else {
                    Err(serde::de::Error::custom(format!(concat!("must be ", $what, ", got {}"), v)))
                }
            }
        }
    };
}
checked_f64!(PositiveF64, |v| v > 0.0, "a positive number");
checked_f64!(NonNegativeF64, |v| v >= 0.0, "zero or more");
checked_f64!(Fraction, |v| (0.0..=1.0).contains(&v), "between 0 and 1");
