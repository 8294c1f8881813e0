//! Small value types whose `Deserialize` checks their own range, so that a bad value is
//! reported at its own line and column.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// A percentage from 0 to 100 with 0.01 resolution, held exactly in hundredths of a
/// percent (basis points, 0..=10_000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Percent(u32);

impl Percent {
    pub const ZERO: Percent = Percent(0);
    pub const HUNDRED: Percent = Percent(10_000);

    /// From hundredths of a percent; `None` above 10_000.
    pub fn from_basis_points(bp: u32) -> Option<Percent> {
        (bp <= 10_000).then_some(Percent(bp))
    }

    /// From a number of percent; errors say what is wrong in words an operator can act on.
    pub fn from_f64(value: f64) -> Result<Percent, String> {
        if !value.is_finite() {
            return Err(format!("{value} is not a percentage; give a number from 0 to 100"));
        }
        if value < 0.0 {
            return Err(format!("{value} is below 0; give a number from 0 to 100"));
        }
        if value > 100.0 {
            return Err(format!("{value} is above 100; give a number from 0 to 100"));
        }
        let scaled = value * 100.0;
        let rounded = scaled.round();
        if (scaled - rounded).abs() > 1e-6 {
            return Err(format!("{value} is finer than the 0.01 resolution of percentages"));
        }
        Ok(Percent(rounded as u32))
    }

    pub fn basis_points(self) -> u32 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 100 == 0 {
            write!(f, "{}%", self.0 / 100)
        } else {
            write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage: a number from 0 to 100 (0.01 resolution)")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                Percent::from_f64(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                Percent::from_f64(v as f64).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                Percent::from_f64(v as f64).map_err(E::custom)
            }
        }
        d.deserialize_f64(V)
    }
}

/// A duration written with its unit: `250ms`, `5s`, `2m`, `1h` (a decimal number is
/// allowed: `1.5s`). A bare number is rejected because its unit would be a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DurationText(pub Duration);

impl DurationText {
    pub fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{t:?} has no unit; write it like 250ms, 5s, 2m or 1h"))?;
        let (number, unit) = t.split_at(split);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("{t:?} is not a duration; write it like 250ms, 5s, 2m or 1h"))?;
        let seconds_per_unit = match unit.trim() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "{t:?} has unit {other:?}; use ms, s, m or h (like 250ms, 5s, 2m, 1h)"
                ))
            }
        };
        let seconds = value * seconds_per_unit;
        if !seconds.is_finite() || seconds > 365.0 * 24.0 * 3600.0 {
            return Err(format!("{t:?} is longer than a year"));
        }
        Ok(Duration::from_secs_f64(seconds))
    }
}

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_duration(self.0, f)
    }
}

/// Writes a duration the way the config spells it.
pub fn format_duration(d: Duration, f: &mut dyn fmt::Write) -> fmt::Result {
    let ms = d.as_millis();
    if ms == 0 && !d.is_zero() {
        write!(f, "{}ms", d.as_secs_f64() * 1000.0)
    } else if ms % 3_600_000 == 0 && ms > 0 {
        write!(f, "{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 && ms > 0 {
        write!(f, "{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        write!(f, "{}s", ms / 1000)
    } else {
        write!(f, "{ms}ms")
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with a unit, like 250ms, 5s, 2m or 1h")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationText, E> {
                DurationText::parse(v).map(DurationText).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationText, E> {
                Err(E::custom(format!("{v} has no unit; write it like {v}ms or {v}s")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationText, E> {
                Err(E::custom(format!("{v} has no unit; write it like {v}ms or {v}s")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationText, E> {
                Err(E::custom(format!("{v} has no unit; write it like {v}s")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A moment in UTC written in RFC 3339 (`2026-11-23T10:00:00Z`, or with an offset such
/// as `+01:00`), held as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        let bad = || {
            format!("{text:?} is not an RFC 3339 time; write it like 2026-11-23T10:00:00Z")
        };
        let b = text.trim().as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':' || b[16] != b':'
        {
            return Err(bad());
        }
        let num = |from: usize, to: usize| -> Result<i64, String> {
            let s = std::str::from_utf8(&b[from..to]).map_err(|_| bad())?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse::<i64>().map_err(|_| bad())
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        let mut rest = 19;
        let mut millis = 0i64;
        if b.get(rest) == Some(&b'.') {
            let start = rest + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return Err(bad());
            }
            let digits = &text.trim()[start..end.min(start + 3)];
            millis = digits.parse::<i64>().map_err(|_| bad())? * 10i64.pow(3 - digits.len() as u32);
            rest = end;
        }
        let offset_minutes = match &b[rest..] {
            [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let hours = num(rest + 1, rest + 3)?;
                let minutes = num(rest + 4, rest + 6)?;
                let total = hours * 60 + minutes;
                if *sign == b'-' { -total } else { total }
            }
            _ => return Err(bad()),
        };
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            _ => return Err(format!("{text:?}: month {month} does not exist")),
        };
        if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
            return Err(format!("{text:?}: that date or time of day does not exist"));
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Ok(Timestamp(secs * 1000 + millis))
    }

    pub fn from_system_time(t: std::time::SystemTime) -> Timestamp {
        // Seconds and sub-second millis separately: a u128 division costs more than
        // the rest of a decision.
        let millis = |d: std::time::Duration| {
            (d.as_secs().min(i64::MAX as u64 / 1000) as i64) * 1000 + i64::from(d.subsec_millis())
        };
        match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Timestamp(millis(d)),
            Err(e) => Timestamp(-millis(e.duration())),
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1000);
        let millis = self.0.rem_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60)?;
        if millis != 0 {
            write!(f, ".{millis:03}")?;
        }
        f.write_str("Z")
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time like 2026-11-23T10:00:00Z")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_resolution_and_range() {
        assert_eq!(Percent::from_f64(25.0).unwrap().basis_points(), 2500);
        assert_eq!(Percent::from_f64(0.01).unwrap().basis_points(), 1);
        assert_eq!(Percent::from_f64(33.33).unwrap().basis_points(), 3333);
        assert!(Percent::from_f64(0.001).unwrap_err().contains("0.01 resolution"));
        assert!(Percent::from_f64(100.5).unwrap_err().contains("above 100"));
        assert!(Percent::from_f64(-1.0).unwrap_err().contains("below 0"));
        assert_eq!(Percent::from_f64(12.5).unwrap().to_string(), "12.50%");
        assert_eq!(Percent::from_f64(5.0).unwrap().to_string(), "5%");
    }

    #[test]
    fn durations_need_units() {
        assert_eq!(DurationText::parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(DurationText::parse("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(DurationText::parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(DurationText::parse("5").unwrap_err().contains("no unit"));
        assert!(DurationText::parse("5d").unwrap_err().contains("unit \"d\""));
        assert_eq!(DurationText(Duration::from_secs(120)).to_string(), "2m");
        assert_eq!(DurationText(Duration::from_millis(1500)).to_string(), "1500ms");
    }

    #[test]
    fn timestamps_round_trip() {
        let t = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(t.0, 1_795_428_000_000);
        assert_eq!(t.to_string(), "2026-11-23T10:00:00Z");
        assert_eq!(Timestamp::parse("2026-11-23T11:00:00+01:00").unwrap(), t);
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00.250Z").unwrap().0, 250);
        assert!(Timestamp::parse("2026-02-30T00:00:00Z").is_err());
        assert!(Timestamp::parse("tomorrow").is_err());
    }
}
