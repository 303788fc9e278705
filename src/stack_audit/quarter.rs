//! Calendar quarters as users write them (`2026-Q4`): parsed strictly, with their first and last day.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// The year.
    pub year: i32,
    /// 1 to 4.
    pub q: u32,
}

impl Quarter {
    /// Parses `YYYY-QN` with N from 1 to 4; the error says what is expected.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a quarter: write it as YYYY-Q1 to YYYY-Q4, e.g. 2026-Q4");
        let (year, q) = s.trim().split_once("-Q").ok_or_else(bad)?;
        if year.len() != 4 || q.len() != 1 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let q: u32 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) || year < 1970 {
            return Err(bad());
        }
        Ok(Self { year, q })
    }

    /// The quarter `day` falls in.
    pub fn of(day: NaiveDate) -> Self {
        Self { year: day.year(), q: (day.month() - 1) / 3 + 1 }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.q - 1) * 3 + 1, 1).unwrap_or_default()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        let next =
            if self.q == 4 { Self { year: self.year + 1, q: 1 } } else { Self { year: self.year, q: self.q + 1 } };
        next.first_day().pred_opt().unwrap_or_default()
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strictly_and_knows_its_days() {
        let q = Quarter::parse("2026-Q4").unwrap();
        assert_eq!(q.to_string(), "2026-Q4");
        assert_eq!(q.first_day().to_string(), "2026-10-01");
        assert_eq!(q.last_day().to_string(), "2026-12-31");
        assert_eq!(Quarter::parse("2026-Q1").unwrap().last_day().to_string(), "2026-03-31");
        for bad in ["2026-Q5", "2026-Q0", "2026Q4", "26-Q4", "2026-Q44", "", "2026-q4"] {
            assert!(Quarter::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Quarter::of("2026-08-15".parse().unwrap()).to_string(), "2026-Q3");
    }
}
