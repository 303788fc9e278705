//! Deciding an access review: a reviewer keeps or revokes one seat (a comment is needed to
//! keep a dormant seat or a leaver's); closing gives every undecided seat its default (revoke
//! dormant seats and leavers' seats, keep the rest) and puts the revoked seats of each app into
//! one reclaim request through the approval workflow.

use super::model::{AccessReview, ReviewDecision, ReviewId, ReviewItem, ReviewItemId, ReviewStatus};
use super::start::{self, ItemFilter};
use crate::audit;
use crate::db::schema::{access_reviews, review_items};
use crate::db::Conn;
use crate::inventory::AppId;
use crate::stack_audit::error::{Result, StackAuditError};
use crate::workflow::{self, Decider, RequestId, RequestInput, RequestKind};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// A decision as a reviewer sends it.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    /// keep or revoke.
    pub decision: ReviewDecision,
    /// Why; required to keep a dormant seat or a leaver's.
    pub comment: Option<String>,
}

/// True when `who` may decide `item`: they are one of its reviewers by email, or it falls to a role they hold.
pub fn is_reviewer(who: &Decider, item: &ReviewItem) -> bool {
    item.reviewer_list().iter().any(|entry| match entry.split_once(':') {
        Some(("person", e)) => who.email.as_deref().is_some_and(|w| w.eq_ignore_ascii_case(e)),
        Some(("role", r)) => who.roles.iter().any(|held| held.as_str() == r),
        _ => false,
    })
}

fn open(conn: &mut Conn, id: ReviewId) -> Result<AccessReview> {
    let review = start::find(conn, id)?;
    if review.status != ReviewStatus::Open {
        return Err(StackAuditError::Conflict(format!("access review {id} is closed; its decisions are final")));
    }
    Ok(review)
}

fn who_label(who: &Decider) -> String {
    who.email.clone().unwrap_or_else(|| who.actor.0.clone())
}

/// Records `who`'s decision on item `item_id` of review `id`.
pub fn decide(
    conn: &mut Conn,
    who: &Decider,
    id: ReviewId,
    item_id: ReviewItemId,
    input: DecisionInput,
    now: NaiveDateTime,
) -> Result<ReviewItem> {
    crate::db::write_tx(conn, |conn| {
        open(conn, id)?;
        let item: ReviewItem = review_items::table
            .find(item_id)
            .filter(review_items::review_id.eq(id))
            .select(ReviewItem::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| StackAuditError::NotFound(format!("access review {id} has no item {item_id}")))?;
        if !is_reviewer(who, &item) {
            return Err(StackAuditError::Forbidden(format!(
                "only this seat's reviewers decide it: {}",
                item.reviewer_list().join(", ")
            )));
        }
        let comment = input.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if input.decision == ReviewDecision::Keep && item.needs_reason_to_keep() && comment.is_none() {
            let why = if item.dormant == Some(true) { "the seat is dormant" } else { "its person has left" };
            return Err(StackAuditError::invalid("comment", format!("is required to keep this seat: {why}")));
        }
        if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
            return Err(StackAuditError::invalid("comment", "is longer than 2000 characters"));
        }
        let after: ReviewItem = diesel::update(review_items::table.find(item_id))
            .set((
                review_items::decision.eq(Some(input.decision)),
                review_items::decided_by.eq(Some(who_label(who))),
                review_items::decided_at.eq(Some(now)),
                review_items::by_default.eq(false),
                review_items::comment.eq(comment),
            ))
            .returning(review_items::all_columns)
            .get_result(conn)?;
        let change = json!({"item": item_id, "account_id": after.account_id, "decision": input.decision,
            "comment": after.comment});
        audit::record(conn, &who.actor, "access_review.decide", "access_review", id, None, Some(&change))?;
        Ok(after)
    })
}

/// What closing a review did.
#[derive(Debug, Clone, Default)]
pub struct CloseReport {
    /// Undecided items kept by default.
    pub kept_by_default: i64,
    /// Undecided items revoked by default.
    pub revoked_by_default: i64,
    /// The reclaim requests made, one per app with revoked seats.
    pub requests: Vec<(AppId, RequestId)>,
}

/// Closes review `id` as `who`: defaults for undecided items, then one reclaim request per app
/// with revoked seats, made in `who`'s name.
pub fn close(
    conn: &mut Conn,
    env: workflow::Env<'_>,
    who: &Decider,
    id: ReviewId,
    now: NaiveDateTime,
) -> Result<(AccessReview, CloseReport)> {
    crate::db::write_tx(conn, |conn| {
        open(conn, id)?;
        let mut report = CloseReport::default();
        let closer = format!("{} (review closed)", who_label(who));
        for item in start::items(conn, id, ItemFilter { app_id: None, decision: Some(None) })? {
            let d = item.default_decision();
            match d {
                ReviewDecision::Keep => report.kept_by_default += 1,
                ReviewDecision::Revoke => report.revoked_by_default += 1,
            }
            diesel::update(review_items::table.find(item.id))
                .set((
                    review_items::decision.eq(Some(d)),
                    review_items::decided_by.eq(Some(&closer)),
                    review_items::decided_at.eq(Some(now)),
                    review_items::by_default.eq(true),
                ))
                .execute(conn)?;
        }
        let revoked =
            start::items(conn, id, ItemFilter { app_id: None, decision: Some(Some(ReviewDecision::Revoke)) })?;
        let mut per_app: BTreeMap<AppId, Vec<&ReviewItem>> = BTreeMap::new();
        for item in &revoked {
            per_app.entry(item.app_id).or_default().push(item);
        }
        let review = start::find(conn, id)?;
        // The request's requester is the person closing; a token naming nobody is refused by the workflow.
        for (app, items) in per_app {
            let input = RequestInput {
                kind: Some(RequestKind::Reclaim),
                app_id: Some(app),
                account_ids: Some(items.iter().map(|i| i.account_id).collect()),
                purpose: Some(format!("Access review \"{}\" (#{}) revoked these seats", review.name, review.id)),
                ..Default::default()
            };
            let made = workflow::submit(conn, env, who, input, now)?;
            let item_ids: Vec<ReviewItemId> = items.iter().map(|i| i.id).collect();
            diesel::update(review_items::table.filter(review_items::id.eq_any(&item_ids)))
                .set(review_items::request_id.eq(Some(made.id)))
                .execute(conn)?;
            report.requests.push((app, made.id));
        }
        let review: AccessReview = diesel::update(access_reviews::table.find(id))
            .set((
                access_reviews::status.eq(ReviewStatus::Closed),
                access_reviews::closed_at.eq(Some(now)),
                access_reviews::closed_by.eq(Some(who_label(who))),
            ))
            .returning(access_reviews::all_columns)
            .get_result(conn)?;
        let change = json!({"kept_by_default": report.kept_by_default, "revoked_by_default": report.revoked_by_default,
            "requests": report.requests.iter().map(|(_, r)| r.to_string()).collect::<Vec<_>>()});
        audit::record(conn, &who.actor, "access_review.close", "access_review", id, None, Some(&change))?;
        Ok((review, report))
    })
}
