//! Renewals: renewal dates and notice deadlines, upcoming renewals with their figures, the
//! reminder pass, the owner digest and the iCalendar feed.

pub mod calendar;
pub mod dates;
pub mod digest;
pub mod reminders;
pub mod seat_use;
pub mod stale;
pub mod upcoming;
