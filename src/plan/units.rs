//! Human-readable quantities for the plan file: durations like `"30m"` and sizes like `"20 GiB"`.
//!
//! People edit the plan file, so it must not ask them for milliseconds or raw byte counts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration, written as `"90s"`, `"30m"`, `"1h 30m"` or `"2d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

impl Duration {
    pub const fn secs(s: u64) -> Self {
        Self(s)
    }
    pub const fn mins(m: u64) -> Self {
        Self(m * 60)
    }
    pub const fn hours(h: u64) -> Self {
        Self(h * 3600)
    }
    pub fn as_secs(self) -> u64 {
        self.0
    }
    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        let mut parts = Vec::new();
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                parts.push(format!("{}{unit}", rest / size));
                rest %= size;
            }
        }
        f.write_str(&parts.join(" "))
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("invalid duration {text:?}: expected e.g. \"90s\", \"30m\", \"1h 30m\" or \"2d\"");
        let mut total = 0u64;
        let mut seen = false;
        for part in text.split_whitespace() {
            let split = part.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let (number, unit) = part.split_at(split);
            let number: u64 = number.parse().map_err(|_| bad())?;
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => return Err(bad()),
            };
            total = total
                .checked_add(number.checked_mul(scale).ok_or_else(bad)?)
                .ok_or_else(bad)?;
            seen = true;
        }
        if !seen {
            return Err(bad());
        }
        Ok(Self(total))
    }
}

/// A byte count, written as `"20 GiB"`, `"512 MB"` or a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", bytesize::ByteSize(self.0).display().iec())
    }
}

impl FromStr for Bytes {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text.trim()
            .parse::<bytesize::ByteSize>()
            .map(|b| Self(b.as_u64()))
            .map_err(|_| format!("invalid size {text:?}: expected e.g. \"20 GiB\" or \"512 MB\""))
    }
}

/// Serde for types that read and write themselves as strings.
macro_rules! serde_as_string {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_string!(Duration);
serde_as_string!(Bytes);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_the_way_people_write_them() {
        assert_eq!("1h 30m".parse::<Duration>().unwrap(), Duration(5400));
        assert_eq!("2d".parse::<Duration>().unwrap(), Duration(172_800));
        assert_eq!(Duration(5400).to_string(), "1h 30m");
        assert_eq!(Duration(0).to_string(), "0s");
        assert!("30 minutes".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
    }

    #[test]
    fn sizes_parse_binary_and_decimal_units() {
        assert_eq!("20 GiB".parse::<Bytes>().unwrap(), Bytes(20 << 30));
        assert_eq!("1 MB".parse::<Bytes>().unwrap(), Bytes(1_000_000));
        assert_eq!(Bytes(20 << 30).to_string(), "20.0 GiB");
        assert!("lots".parse::<Bytes>().is_err());
    }
}
