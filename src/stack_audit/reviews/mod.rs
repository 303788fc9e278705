//! Access reviews: owners certify who keeps each seat of their apps; undecided seats get a
//! default when the review closes, and revoked seats become reclaim requests.

mod decide;
mod model;
mod start;

pub use decide::{close, decide, is_reviewer, CloseReport, DecisionInput};
pub use model::{AccessReview, ReviewDecision, ReviewId, ReviewItem, ReviewItemId, ReviewStatus};
pub use start::{
    app_names, counts, create, find, items, list, remind_due, reviewers_of, ItemFilter, ReviewInput, REMIND_DAYS_BEFORE,
};
