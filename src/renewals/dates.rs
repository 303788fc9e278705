//! Renewal dates and notice deadlines, and which reminder stage is due: pure functions of a
//! contract and a day.
//!
//! - `term_end` is the last day the current term covers; the renewal date is the day after it
//!   (a term 2026-01-01..2026-12-31 renews on 2027-01-01).
//! - With no `term_end`, the term is the renewal term when one is set, else one billing period
//!   from `term_start` (monthly and usage: one month, annual: twelve); a multi-year term with
//!   neither cannot be known.
//! - The notice deadline is the renewal date minus the notice days, or the explicit opt-out
//!   date when that is earlier. The opt-out date belongs to the stated term only.
//! - An auto-renewing term whose renewal date has come renewed silently: it is rolled forward
//!   by whole renewal terms, always counted from the original date so month ends do not drift.
//!   The renewal term is the contract's (`renewal_term_months`, else the stated term's length to
//!   the nearest month), never the billing period: a 12-month term billed monthly renews for 12.
//! - Manual and none terms are never rolled; `none` expires on its renewal date, without notice.

use crate::inventory::{BillingFrequency, RenewalType};
use chrono::{Days, Months, NaiveDate};

/// What the deadline asks of the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Auto-renewing: the last day to cancel or change before it renews.
    Cancel,
    /// Manual: the last day to decide to renew.
    Renew,
    /// No renewal: the day it expires.
    Expiry,
}

/// The next renewal of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalDates {
    /// First day of the (possibly rolled) current term.
    pub term_start: NaiveDate,
    /// Last day of it.
    pub term_end: NaiveDate,
    /// The day after `term_end`: the next term's first day, or the day it is gone.
    pub renewal_date: NaiveDate,
    /// The last day to act.
    pub notice_deadline: NaiveDate,
    /// What acting means.
    pub kind: DeadlineKind,
    /// How many unrecorded automatic renewals were assumed (0 = as stated).
    pub rolled_terms: u32,
}

/// The contract terms that decide renewal dates, mirroring a subscription's columns.
#[derive(Debug, Clone, Copy)]
pub struct Contract {
    /// First day of the stated term.
    pub term_start: NaiveDate,
    /// Last day of the stated term, if known.
    pub term_end: Option<NaiveDate>,
    /// Billing period.
    pub billing_frequency: BillingFrequency,
    /// What happens at the end of the term.
    pub renewal_type: RenewalType,
    /// Days of notice needed.
    pub notice_days: Option<i32>,
    /// Explicit opt-out date of the stated term.
    pub opt_out_date: Option<NaiveDate>,
    /// Months each renewal runs; None = as long as the stated term.
    pub renewal_term_months: Option<i32>,
}

impl Contract {
    /// The contract terms of a subscription.
    pub fn of(s: &crate::inventory::Subscription) -> Self {
        Contract {
            term_start: s.term_start,
            term_end: s.term_end,
            billing_frequency: s.billing_frequency,
            renewal_type: s.renewal_type,
            notice_days: s.notice_days,
            opt_out_date: s.opt_out_date,
            renewal_term_months: s.renewal_term_months,
        }
    }

    fn renewal_months(&self) -> Option<u32> {
        self.renewal_term_months.and_then(|m| u32::try_from(m).ok()).filter(|m| *m > 0)
    }
}

/// Default reminder stages, in days before the deadline.
pub const DEFAULT_STAGES: [u32; 4] = [90, 60, 30, 7];

fn period_months(b: BillingFrequency) -> Option<u32> {
    match b {
        BillingFrequency::Monthly | BillingFrequency::Usage => Some(1),
        BillingFrequency::Annual => Some(12),
        BillingFrequency::MultiYear => None,
    }
}

/// Whole months from `a` to `b` (counting a month when the day of month is reached or clamped).
pub fn months_between(a: NaiveDate, b: NaiveDate) -> u32 {
    let mut n = 0u32;
    while a.checked_add_months(Months::new(n + 1)).is_some_and(|d| d <= b) {
        n += 1;
    }
    n
}

/// A term's length in whole months, to the nearest month and at least one: a term that ends a
/// day early (2023-03-01 to 2024-02-28) is still a year.
fn term_months(start: NaiveDate, next_start: NaiveDate) -> u32 {
    let n = months_between(start, next_start);
    let gap = |m: u32| start.checked_add_months(Months::new(m)).map(|d| (d - next_start).num_days().abs());
    let closer = match (gap(n), gap(n + 1)) {
        (Some(below), Some(above)) if above < below => n + 1,
        _ => n,
    };
    closer.max(1)
}

/// The next renewal as of `today`, or None when it cannot be known (multi-year with no end).
pub fn next_renewal(c: &Contract, today: NaiveDate) -> Option<RenewalDates> {
    let stated_end = match c.term_end {
        Some(end) => end,
        None => {
            let months = c.renewal_months().or_else(|| period_months(c.billing_frequency))?;
            c.term_start.checked_add_months(Months::new(months))?.pred_opt()?
        }
    };
    let anchor = stated_end.succ_opt()?;
    let kind = match c.renewal_type {
        RenewalType::Auto => DeadlineKind::Cancel,
        RenewalType::Manual => DeadlineKind::Renew,
        RenewalType::None => DeadlineKind::Expiry,
    };
    let (mut term_start, mut renewal_date, mut rolled) = (c.term_start, anchor, 0u32);
    if kind == DeadlineKind::Cancel && anchor <= today {
        // The contract term, not the billing period: billing monthly does not make a year's term monthly.
        let step = c.renewal_months().unwrap_or_else(|| term_months(c.term_start, anchor));
        while renewal_date <= today {
            rolled += 1;
            // From the anchor every time: Jan 31 + 1 month is Feb 28, + 2 months is Mar 31.
            term_start = anchor.checked_add_months(Months::new(step * (rolled - 1)))?;
            renewal_date = anchor.checked_add_months(Months::new(step * rolled))?;
        }
    }
    let notice_deadline = match kind {
        DeadlineKind::Expiry => renewal_date,
        _ => {
            let notice = u64::try_from(c.notice_days.unwrap_or(0).max(0)).unwrap_or(0);
            let by_notice = renewal_date.checked_sub_days(Days::new(notice))?;
            match c.opt_out_date {
                Some(opt_out) if rolled == 0 && opt_out < by_notice => opt_out,
                _ => by_notice,
            }
        }
    };
    Some(RenewalDates {
        term_start,
        term_end: renewal_date.pred_opt()?,
        renewal_date,
        notice_deadline,
        kind,
        rolled_terms: rolled,
    })
}

fn send_date(deadline: NaiveDate, days: u32) -> Option<NaiveDate> {
    deadline.checked_sub_days(Days::new(u64::from(days)))
}

/// The stage to send on `today`: the most urgent one whose send date (deadline minus its days)
/// has come, while the deadline has not passed. None when nothing is due.
pub fn due_stage(deadline: NaiveDate, stages: &[u32], today: NaiveDate) -> Option<u32> {
    if today > deadline {
        return None;
    }
    stages.iter().copied().filter(|d| send_date(deadline, *d).is_some_and(|s| s <= today)).min()
}

/// Stages whose send date has also come but that are less urgent than the due one: missed
/// while the service was down, recorded as superseded rather than sent.
pub fn superseded_stages(deadline: NaiveDate, stages: &[u32], today: NaiveDate) -> Vec<u32> {
    let Some(due) = due_stage(deadline, stages, today) else { return Vec::new() };
    let mut out: Vec<u32> =
        stages.iter().copied().filter(|d| *d > due && send_date(deadline, *d).is_some_and(|s| s <= today)).collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use BillingFrequency::*;
    use DeadlineKind::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn contract(start: &str, end: Option<&str>, b: BillingFrequency, r: RenewalType) -> Contract {
        Contract {
            term_start: d(start),
            term_end: end.map(d),
            billing_frequency: b,
            renewal_type: r,
            notice_days: None,
            opt_out_date: None,
            renewal_term_months: None,
        }
    }

    fn notice(mut c: Contract, n: i32) -> Contract {
        c.notice_days = Some(n);
        c
    }

    fn opt(mut c: Contract, o: &str) -> Contract {
        c.opt_out_date = Some(d(o));
        c
    }

    fn term(mut c: Contract, months: i32) -> Contract {
        c.renewal_term_months = Some(months);
        c
    }

    /// Expected (term_start, renewal_date, deadline, kind, rolled), or None when unknown.
    type Want = Option<(&'static str, &'static str, &'static str, DeadlineKind, u32)>;
    /// (label, contract, today, expected)
    type Case = (&'static str, Contract, &'static str, Want);

    /// Cases within the stated or first term: notice, opt-out and renewal kinds.
    fn first_term_cases() -> Vec<Case> {
        let auto = RenewalType::Auto;
        let manual = RenewalType::Manual;
        let none = RenewalType::None;
        vec![
            (
                "annual stated",
                contract("2026-01-01", Some("2026-12-31"), Annual, auto),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2027-01-01", Cancel, 0)),
            ),
            (
                "annual no end",
                contract("2026-03-15", None, Annual, auto),
                "2026-06-01",
                Some(("2026-03-15", "2027-03-15", "2027-03-15", Cancel, 0)),
            ),
            (
                "monthly no end",
                contract("2026-06-10", None, Monthly, manual),
                "2026-06-11",
                Some(("2026-06-10", "2026-07-10", "2026-07-10", Renew, 0)),
            ),
            (
                "usage no end",
                contract("2026-06-10", None, Usage, auto),
                "2026-06-11",
                Some(("2026-06-10", "2026-07-10", "2026-07-10", Cancel, 0)),
            ),
            (
                "multi-year stated",
                contract("2025-01-01", Some("2027-12-31"), MultiYear, auto),
                "2026-01-01",
                Some(("2025-01-01", "2028-01-01", "2028-01-01", Cancel, 0)),
            ),
            ("multi-year no end unknown", contract("2025-01-01", None, MultiYear, auto), "2026-01-01", None),
            (
                "notice days",
                notice(contract("2026-01-01", Some("2026-12-31"), Annual, auto), 30),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2026-12-02", Cancel, 0)),
            ),
            (
                "notice zero",
                notice(contract("2026-01-01", Some("2026-12-31"), Annual, auto), 0),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2027-01-01", Cancel, 0)),
            ),
            (
                "opt-out earlier than notice",
                opt(notice(contract("2026-01-01", Some("2026-12-31"), Annual, auto), 30), "2026-10-31"),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2026-10-31", Cancel, 0)),
            ),
            (
                "notice earlier than opt-out",
                opt(notice(contract("2026-01-01", Some("2026-12-31"), Annual, auto), 60), "2026-12-15"),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2026-11-02", Cancel, 0)),
            ),
            (
                "opt-out alone",
                opt(contract("2026-01-01", Some("2026-12-31"), Annual, manual), "2026-11-30"),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2026-11-30", Renew, 0)),
            ),
            (
                "none expires without notice",
                notice(contract("2026-01-01", Some("2026-12-31"), Annual, none), 30),
                "2026-06-01",
                Some(("2026-01-01", "2027-01-01", "2027-01-01", Expiry, 0)),
            ),
        ]
    }

    /// Cases on or past a term's end: automatic renewals roll, manual ones stay.
    fn later_term_cases() -> Vec<Case> {
        let auto = RenewalType::Auto;
        let manual = RenewalType::Manual;
        vec![
            (
                "auto rolls a past annual term",
                notice(contract("2024-01-01", Some("2024-12-31"), Annual, auto), 30),
                "2026-03-01",
                Some(("2026-01-01", "2027-01-01", "2026-12-02", Cancel, 2)),
            ),
            (
                "auto renewal date today rolls",
                contract("2026-01-01", Some("2026-12-31"), Annual, auto),
                "2027-01-01",
                Some(("2027-01-01", "2028-01-01", "2028-01-01", Cancel, 1)),
            ),
            (
                "manual renewal date today stays",
                contract("2026-01-01", Some("2026-12-31"), Annual, manual),
                "2027-01-01",
                Some(("2026-01-01", "2027-01-01", "2027-01-01", Renew, 0)),
            ),
            (
                "manual past stays",
                contract("2025-01-01", Some("2025-12-31"), Annual, manual),
                "2026-06-01",
                Some(("2025-01-01", "2026-01-01", "2026-01-01", Renew, 0)),
            ),
            (
                "monthly Jan 31 anchor rolls to Feb 28",
                contract("2026-01-01", Some("2026-01-30"), Monthly, auto),
                "2026-02-01",
                Some(("2026-01-31", "2026-02-28", "2026-02-28", Cancel, 1)),
            ),
            (
                "monthly Jan 31 anchor does not drift",
                contract("2026-01-01", Some("2026-01-30"), Monthly, auto),
                "2026-03-05",
                Some(("2026-02-28", "2026-03-31", "2026-03-31", Cancel, 2)),
            ),
            (
                "monthly Jan 31 anchor to Apr 30",
                contract("2026-01-01", Some("2026-01-30"), Monthly, auto),
                "2026-04-01",
                Some(("2026-03-31", "2026-04-30", "2026-04-30", Cancel, 3)),
            ),
            (
                "leap day anchor: non-leap year",
                contract("2023-03-01", Some("2024-02-28"), Annual, auto),
                "2024-03-01",
                Some(("2024-02-29", "2025-02-28", "2025-02-28", Cancel, 1)),
            ),
            (
                "leap day anchor: next leap year",
                contract("2023-03-01", Some("2024-02-28"), Annual, auto),
                "2027-03-01",
                Some(("2027-02-28", "2028-02-29", "2028-02-29", Cancel, 4)),
            ),
            (
                "multi-year rolls by its own length",
                contract("2020-01-01", Some("2022-12-31"), MultiYear, auto),
                "2024-06-01",
                Some(("2023-01-01", "2026-01-01", "2026-01-01", Cancel, 1)),
            ),
        ]
    }

    /// The renewal term is the contract term, whatever the billing frequency.
    fn contract_term_cases() -> Vec<Case> {
        let auto = RenewalType::Auto;
        vec![
            (
                "monthly-billed annual term renews for a year, not a month",
                notice(contract("2026-01-01", Some("2026-12-31"), Monthly, auto), 30),
                "2027-01-05",
                Some(("2027-01-01", "2028-01-01", "2027-12-02", Cancel, 1)),
            ),
            (
                "annual-billed three-year term renews for three years",
                contract("2024-01-01", Some("2026-12-31"), Annual, auto),
                "2027-03-01",
                Some(("2027-01-01", "2030-01-01", "2030-01-01", Cancel, 1)),
            ),
            (
                "month-to-month rolls monthly",
                contract("2026-06-01", None, Monthly, auto),
                "2026-08-15",
                Some(("2026-08-01", "2026-09-01", "2026-09-01", Cancel, 2)),
            ),
            (
                "a set renewal term: one year, then two-year renewals",
                term(contract("2026-01-01", Some("2026-12-31"), Annual, auto), 24),
                "2027-02-01",
                Some(("2027-01-01", "2029-01-01", "2029-01-01", Cancel, 1)),
            ),
            (
                "a set renewal term gives an open-ended multi-year its end",
                term(contract("2025-01-01", None, MultiYear, auto), 36),
                "2026-01-01",
                Some(("2025-01-01", "2028-01-01", "2028-01-01", Cancel, 0)),
            ),
            (
                "opt-out ignored after a roll",
                opt(notice(contract("2025-01-01", Some("2025-12-31"), Annual, auto), 10), "2025-10-01"),
                "2026-02-01",
                Some(("2026-01-01", "2027-01-01", "2026-12-22", Cancel, 1)),
            ),
        ]
    }

    #[test]
    fn renewal_dates_table() {
        let cases = first_term_cases().into_iter().chain(later_term_cases()).chain(contract_term_cases());
        for (label, c, today, want) in cases {
            let got = next_renewal(&c, d(today));
            let want = want.map(|(start, renew, deadline, kind, rolled)| RenewalDates {
                term_start: d(start),
                term_end: d(renew).pred_opt().unwrap(),
                renewal_date: d(renew),
                notice_deadline: d(deadline),
                kind,
                rolled_terms: rolled,
            });
            assert_eq!(got, want, "{label}");
        }
    }

    #[test]
    fn due_stage_table() {
        let deadline = d("2026-12-31");
        let stages = [7, 90, 30, 60]; // unsorted on purpose
        let cases = [
            ("long before", "2026-09-01", None, vec![]),
            ("day before 90", "2026-10-01", None, vec![]),
            ("on 90", "2026-10-02", Some(90), vec![]),
            ("day after 90", "2026-10-03", Some(90), vec![]),
            ("day before 60", "2026-10-31", Some(90), vec![]),
            ("on 60", "2026-11-01", Some(60), vec![90]),
            ("on 30", "2026-12-01", Some(30), vec![90, 60]),
            ("on 7", "2026-12-24", Some(7), vec![90, 60, 30]),
            ("deadline day", "2026-12-31", Some(7), vec![90, 60, 30]),
            ("after the deadline", "2027-01-01", None, vec![]),
        ];
        for (label, today, want, superseded) in cases {
            assert_eq!(due_stage(deadline, &stages, d(today)), want, "{label}");
            assert_eq!(superseded_stages(deadline, &stages, d(today)), superseded, "{label}");
        }
    }

    #[test]
    fn default_stages_parse_as_themselves() {
        let written = DEFAULT_STAGES.map(|d| d.to_string()).join(",");
        assert_eq!(crate::time::parse_stages(&written), Ok(DEFAULT_STAGES.to_vec()));
    }
}
