//! Message sizes as a person writes them on the command line (`1KiB,64KiB,1MiB`, or plain
//! bytes), and as the sweep's tables show them.

/// Why a `--sizes` list cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("no sizes given: list them separated by commas, e.g. 1KiB,64KiB,1MiB")]
    Empty,
    #[error("`{0}`: a size is a whole number of bytes with an optional unit B, KiB or MiB, e.g. 1024, 64KiB, 4MiB")]
    Malformed(String),
    #[error("`{given}`: unit `{unit}` is not known; use B, KiB (1024 B) or MiB (1024 KiB){hint}")]
    Unit { given: String, unit: String, hint: &'static str },
    #[error("`{0}`: a message has at least 1 byte")]
    Zero(String),
    #[error("`{0}`: more than 4 GiB, beyond any payloadBytes")]
    TooLarge(String),
    #[error("`{0}` is given twice")]
    Duplicate(String),
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// One size: `512`, `512B`, `64KiB`, `4MiB` (also `64 KiB`; units case-insensitive).
pub fn parse_size(text: &str) -> Result<u32, SizeError> {
    let given = text.trim();
    let digits = given.find(|c: char| !c.is_ascii_digit()).unwrap_or(given.len());
    let (number, unit) = given.split_at(digits);
    if number.is_empty() {
        return Err(SizeError::Malformed(given.to_owned()));
    }
    let unit = unit.trim_start();
    let factor = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => KIB,
        "mib" | "m" => MIB,
        "." | "," => return Err(SizeError::Malformed(given.to_owned())),
        lower => {
            let hint = match lower {
                "kb" | "mb" => ": KB and MB are ambiguous (1000 or 1024); write KiB or MiB",
                "gib" | "gb" | "g" => ": sizes in GiB are beyond any payloadBytes",
                _ if lower.starts_with('.') => ": sizes are whole numbers; write a smaller unit (1536KiB, not 1.5MiB)",
                _ => "",
            };
            return Err(SizeError::Unit { given: given.to_owned(), unit: unit.to_owned(), hint });
        }
    };
    let n: u64 = number.parse().map_err(|_| SizeError::TooLarge(given.to_owned()))?;
    let bytes = n.checked_mul(factor).ok_or_else(|| SizeError::TooLarge(given.to_owned()))?;
    match u32::try_from(bytes) {
        Ok(0) => Err(SizeError::Zero(given.to_owned())),
        Ok(b) => Ok(b),
        Err(_) => Err(SizeError::TooLarge(given.to_owned())),
    }
}

/// A comma-separated list of sizes, smallest first (the sweep runs them in that order, so "the
/// first size where delivery drops" reads left to right); a size given twice is an error.
pub fn parse_sizes(text: &str) -> Result<Vec<u32>, SizeError> {
    let mut sizes: Vec<u32> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let b = parse_size(part)?;
        if sizes.contains(&b) {
            return Err(SizeError::Duplicate(part.to_owned()));
        }
        sizes.push(b);
    }
    if sizes.is_empty() {
        return Err(SizeError::Empty);
    }
    sizes.sort_unstable();
    Ok(sizes)
}

/// `1 KiB`, `64 KiB`, `1.5 MiB`, `1000 B`: whole units where they divide, else one decimal.
pub fn label(bytes: u32) -> String {
    let b = u64::from(bytes);
    if b >= MIB && b % (MIB / 1024) == 0 {
        trim(b as f64 / MIB as f64, "MiB")
    } else if b >= KIB && b % 64 == 0 {
        trim(b as f64 / KIB as f64, "KiB")
    } else {
        format!("{b} B")
    }
}

fn trim(v: f64, unit: &str) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0} {unit}")
    } else {
        format!("{} {unit}", format!("{v:.3}").trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_plain_bytes() {
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("256 kib"), Ok(262_144));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("4MiB"), Ok(4_194_304));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("1500"), Ok(1500));
        assert_eq!(parse_size(" 8M "), Ok(8 << 20));
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        assert_eq!(parse_size("KiB"), Err(SizeError::Malformed("KiB".into())));
        assert_eq!(parse_size("-1"), Err(SizeError::Malformed("-1".into())));
        assert_eq!(parse_size("0KiB"), Err(SizeError::Zero("0KiB".into())));
        assert!(parse_size("5GiB").expect_err("too big").to_string().contains("GiB are beyond"));
        let mb = parse_size("1MB").expect_err("ambiguous").to_string();
        assert!(mb.contains("`1MB`: unit `MB` is not known") && mb.contains("ambiguous"), "{mb}");
        assert!(parse_size("1.5MiB").expect_err("fraction").to_string().contains("1536KiB"));
        assert_eq!(parse_size("4096MiB"), Err(SizeError::TooLarge("4096MiB".into())));
        assert_eq!(parse_size("99999999999999999999"), Err(SizeError::TooLarge("99999999999999999999".into())));
    }

    #[test]
    fn lists_are_sorted_and_checked() {
        assert_eq!(parse_sizes("1KiB,64KiB,256KiB,1MiB,4MiB"), Ok(vec![1024, 65_536, 262_144, 1 << 20, 4 << 20]));
        assert_eq!(parse_sizes("1MiB, 1KiB,"), Ok(vec![1024, 1 << 20]));
        assert_eq!(parse_sizes(" , "), Err(SizeError::Empty));
        assert_eq!(parse_sizes("1KiB,1024"), Err(SizeError::Duplicate("1024".into())));
        assert!(matches!(parse_sizes("1KiB,2XB"), Err(SizeError::Unit { .. })));
    }

    #[test]
    fn labels_read_as_written() {
        assert_eq!(label(1024), "1 KiB");
        assert_eq!(label(65_536), "64 KiB");
        assert_eq!(label(1 << 20), "1 MiB");
        assert_eq!(label(3 << 19), "1.5 MiB");
        assert_eq!(label(1000), "1000 B");
        assert_eq!(label(20), "20 B");
    }
}
