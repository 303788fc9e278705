//! The renewals calendar: notice deadlines and renewal dates as an iCalendar feed that a
//! calendar app subscribes to. Events are all-day (`DTEND` is the next day: RFC 5545 ends are
//! exclusive), and a notice deadline carries an alarm at each of its reminder stages.

use super::dates::DeadlineKind;
use super::upcoming::{money, UpcomingRenewal};
use chrono::NaiveDate;
use icalendar::{Alarm, Calendar, Component, Event, EventLike, Trigger};

/// An all-day event on `day`: a zero-length one shows in no calendar app.
fn all_day(uid: &str, day: NaiveDate, stamp: chrono::DateTime<chrono::Utc>) -> Event {
    let mut e = Event::new();
    e.uid(uid).timestamp(stamp).starts(day);
    if let Some(next) = day.succ_opt() {
        e.ends(next);
    }
    e
}

/// Builds the feed. Event UIDs are stable per subscription, event and date, so a moved date
/// shows as a new event and a calendar app updates rather than duplicates.
pub fn feed(renewals: &[UpcomingRenewal], public_url: &str) -> String {
    let mut cal = Calendar::new();
    cal.name("stackward renewals").description("Notice deadlines and renewal dates of SaaS subscriptions");
    let stamp = chrono::Utc::now();
    for r in renewals {
        // The app's page shows its contracts, seats and findings: the place to decide a renewal.
        let link = format!("{public_url}/apps/{}", r.app_id);
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
        let uid = format!("stackward-sub{}-deadline-{}", r.subscription_id, r.notice_deadline);
        let mut deadline = all_day(&uid, r.notice_deadline, stamp);
        deadline.summary(&format!("{deadline_title}: {label}")).description(&details).url(&link);
        // The reminder stages, as the owner gets them by mail; none when the owner asked for none.
        for stage in r.reminder_days.iter().filter(|_| !r.no_action_needed) {
            let days = if *stage == 1 { "1 day".to_string() } else { format!("{stage} days") };
            let note = format!("{deadline_title} in {days}: {label}");
            let mut alarm = Alarm::display(&note, Trigger::before_start(chrono::Duration::days(i64::from(*stage))));
            // chrono writes the offset in seconds (-PT5184000S); in days it reads as meant.
            alarm.add_property("TRIGGER", format!("-P{stage}D"));
            deadline.alarm(alarm);
        }
        cal.push(deadline.done());
        if r.renewal_date != r.notice_deadline {
            let uid = format!("stackward-sub{}-renewal-{}", r.subscription_id, r.renewal_date);
            let mut renewal = all_day(&uid, r.renewal_date, stamp);
            renewal.summary(&format!("{renewal_title}: {label}")).description(&details).url(&link);
            cal.push(renewal.done());
        }
    }
    cal.done().to_string()
}
