//! The renewals calendar: notice deadlines and renewal dates as an iCalendar feed that a
//! calendar app subscribes to.

use super::dates::DeadlineKind;
use super::upcoming::{money, UpcomingRenewal};
use icalendar::{Calendar, Component, Event, EventLike};

/// Builds the feed. Event UIDs are stable per subscription, event and date, so a moved date
/// shows as a new event and a calendar app updates rather than duplicates.
pub fn feed(renewals: &[UpcomingRenewal], public_url: &str) -> String {
    let mut cal = Calendar::new();
    cal.name("stackward renewals").description("Notice deadlines and renewal dates of SaaS subscriptions");
    let stamp = chrono::Utc::now();
    for r in renewals {
        let link = format!("{public_url}/subscriptions/{}", r.subscription_id);
        let cost =
            r.annual_cost_cents.map(|c| format!("{}/yr", money(c, &r.currency))).unwrap_or_else(|| "unknown".into());
        let seats = match r.seats_purchased {
            Some(b) => format!("{} of {b} seats in use", r.seats_used),
            None => format!("{} seats in use (unlimited plan)", r.seats_used),
        };
        let details = format!("{seats}. Cost: {cost}. Recommendation: {}. {link}", r.recommendation);
        let (deadline_title, renewal_title) = match r.deadline_kind {
            DeadlineKind::Cancel => ("Notice deadline (cancel or change by)", "Renews"),
            DeadlineKind::Renew => ("Decide on renewal by", "Term ends"),
            DeadlineKind::Expiry => ("Expires", "Expires"),
        };
        let label = format!("{} {}", r.app_name, r.plan);
        cal.push(
            Event::new()
                .uid(&format!("stackward-sub{}-deadline-{}", r.subscription_id, r.notice_deadline))
                .timestamp(stamp)
                .summary(&format!("{deadline_title}: {label}"))
                .description(&details)
                .url(&link)
                .all_day(r.notice_deadline)
                .done(),
        );
        if r.renewal_date != r.notice_deadline {
            cal.push(
                Event::new()
                    .uid(&format!("stackward-sub{}-renewal-{}", r.subscription_id, r.renewal_date))
                    .timestamp(stamp)
                    .summary(&format!("{renewal_title}: {label}"))
                    .description(&details)
                    .url(&link)
                    .all_day(r.renewal_date)
                    .done(),
            );
        }
    }
    cal.done().to_string()
}
