//! What seats cost: the per-seat monthly price from a subscription's unit price and billing
//! frequency, and savings for a number of seats. Unknown prices stay unknown, never zero.

use crate::inventory::{BillingFrequency, Subscription};

/// Savings in minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Savings {
    /// Per month.
    pub monthly_cents: i64,
    /// Per year.
    pub annual_cents: i64,
}

/// One seat's cost per month in minor units (fractional), or None when it cannot be known.
pub fn seat_per_month(s: &Subscription) -> Option<f64> {
    let price = s.unit_price_cents? as f64;
    let months = match s.billing_frequency {
        BillingFrequency::Monthly => 1.0,
        BillingFrequency::Annual => 12.0,
        BillingFrequency::MultiYear => {
            let months = crate::renewals::dates::months_between(s.term_start, s.term_end?.succ_opt()?);
            if months == 0 {
                return None;
            }
            f64::from(months)
        }
        BillingFrequency::Usage => return None,
    };
    Some(price / months)
}

/// Savings from giving up `seats` seats of `s`.
pub fn for_seats(s: &Subscription, seats: i64) -> Option<Savings> {
    let per_month = seat_per_month(s)?;
    let monthly = per_month * seats as f64;
    Some(Savings { monthly_cents: monthly.round() as i64, annual_cents: (monthly * 12.0).round() as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::fixture::Fixture;

    fn sub(price: Option<i64>, freq: BillingFrequency, start: &str, end: Option<&str>) -> Subscription {
        let mut f = Fixture::new();
        let s = f.sub(1, 1, Some(10), price);
        s.billing_frequency = freq;
        s.term_start = start.parse().unwrap();
        s.term_end = end.map(|e| e.parse().unwrap());
        s.clone()
    }

    #[test]
    fn savings_table() {
        use BillingFrequency::*;
        let cases = [
            ("monthly $15 x 14", sub(Some(1500), Monthly, "2026-01-01", None), 14, Some((21000, 252000))),
            ("annual $180 x 14", sub(Some(18000), Annual, "2026-01-01", None), 14, Some((21000, 252000))),
            ("three years $540", sub(Some(54000), MultiYear, "2026-01-01", Some("2028-12-31")), 1, Some((1500, 18000))),
            ("unknown price", sub(None, Monthly, "2026-01-01", None), 14, None),
            ("usage billing", sub(Some(100), Usage, "2026-01-01", None), 3, None),
            ("multi-year without end", sub(Some(100), MultiYear, "2026-01-01", None), 3, None),
            ("zero seats", sub(Some(1500), Monthly, "2026-01-01", None), 0, Some((0, 0))),
        ];
        for (label, s, seats, want) in cases {
            let got = for_seats(&s, seats).map(|v| (v.monthly_cents, v.annual_cents));
            assert_eq!(got, want, "{label}");
        }
    }
}
