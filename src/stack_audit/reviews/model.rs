//! Access reviews and their items as stored.

use crate::db::schema::{access_reviews, review_items};
use crate::db::JsonText;
use crate::inventory::{AccountId, AppId, PersonStatus};
use crate::workflow::RequestId;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

crate::id_type!(
    /// Id of an access review.
    ReviewId
);

crate::id_type!(
    /// Id of an access review item.
    ReviewItemId
);

crate::text_enum!(
    /// Where a review stands.
    ReviewStatus {
        /// Reviewers are deciding.
        Open => "open",
        /// Closed: every item has a decision.
        Closed => "closed",
    }
);

crate::text_enum!(
    /// A reviewer's decision on one seat.
    ReviewDecision {
        /// The person keeps the seat.
        Keep => "keep",
        /// The seat is taken back.
        Revoke => "revoke",
    }
);

/// An access review.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = access_reviews)]
pub struct AccessReview {
    /// Review id.
    pub id: ReviewId,
    /// Name, e.g. `2026-Q4 engineering tools`.
    pub name: String,
    /// When decisions are due.
    pub due_on: NaiveDate,
    /// Open or closed.
    pub status: ReviewStatus,
    /// Who started it.
    pub created_by: String,
    /// When it started.
    pub created_at: NaiveDateTime,
    /// When reviewers were reminded.
    pub reminded_at: Option<NaiveDateTime>,
    /// When it was closed.
    pub closed_at: Option<NaiveDateTime>,
    /// Who closed it.
    pub closed_by: Option<String>,
}

/// One seat under review.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = review_items)]
pub struct ReviewItem {
    /// Item id.
    pub id: ReviewItemId,
    /// The review.
    pub review_id: ReviewId,
    /// The app.
    pub app_id: AppId,
    /// The seat.
    pub account_id: AccountId,
    /// The person's email (or the seat's when unmatched).
    pub person_email: Option<String>,
    /// The person's status when the review started; none when the seat matches no person.
    pub person_status: Option<PersonStatus>,
    /// Role at the vendor.
    pub role: Option<String>,
    /// Last activity when the review started.
    pub last_active_at: Option<NaiveDateTime>,
    /// Dormant when the review started; none when activity is unknown.
    pub dormant: Option<bool>,
    /// Why it is dormant or unknown.
    pub dormant_reason: Option<String>,
    /// Who may decide, as a JSON list of `person:EMAIL` and `role:ROLE` entries.
    pub reviewers: JsonText<Vec<String>>,
    /// The decision; none while undecided.
    pub decision: Option<ReviewDecision>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<NaiveDateTime>,
    /// Decided by the review's close rather than a reviewer.
    pub by_default: bool,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// The reclaim request a revoked seat went into.
    pub request_id: Option<RequestId>,
}

impl ReviewItem {
    /// The reviewer entries.
    pub fn reviewer_list(&self) -> &[String] {
        &self.reviewers.0
    }

    /// True when keeping this seat needs a comment: it is dormant or its person left.
    pub fn needs_reason_to_keep(&self) -> bool {
        self.dormant == Some(true) || self.person_status == Some(PersonStatus::Departed)
    }

    /// The decision a close gives an undecided item: revoke dormant seats and leavers' seats.
    pub fn default_decision(&self) -> ReviewDecision {
        if self.needs_reason_to_keep() {
            ReviewDecision::Revoke
        } else {
            ReviewDecision::Keep
        }
    }
}
