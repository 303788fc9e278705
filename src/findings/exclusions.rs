//! Exclusions: apps or accounts (service accounts, break-glass admins) that rules leave out,
//! for one kind of finding or all.

use super::FindingKind;
use crate::audit::{self, Actor};
use crate::db::schema::finding_exclusions;
use crate::db::Conn;
use crate::inventory::{accounts, apps, AccountId, AppId, InventoryError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// An exclusion as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = finding_exclusions)]
pub struct ExclusionRecord {
    /// Exclusion id.
    #[serde(serialize_with = "id_string")]
    pub id: i64,
    /// The app left out.
    pub app_id: Option<AppId>,
    /// The account left out.
    pub account_id: Option<AccountId>,
    /// Only for this kind of finding; null for all.
    pub kind: Option<String>,
    /// Why.
    pub reason: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
}

fn id_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// An exclusion to add: an app, an account, or both; optionally one kind.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExclusion {
    /// The app to leave out.
    pub app_id: Option<AppId>,
    /// The account to leave out.
    pub account_id: Option<AccountId>,
    /// Only for this kind of finding.
    pub kind: Option<FindingKind>,
    /// Why (required).
    pub reason: String,
}

/// Every exclusion.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<ExclusionRecord>> {
    finding_exclusions::table.order(finding_exclusions::id.asc()).select(ExclusionRecord::as_select()).load(conn)
}

/// Adds an exclusion after checking what it names exists.
pub fn add(conn: &mut Conn, actor: &Actor, new: NewExclusion) -> Result<ExclusionRecord, InventoryError> {
    let invalid = |f: &str, m: &str| InventoryError::Invalid(crate::inventory::validate::Invalid::new(f, m));
    if new.app_id.is_none() && new.account_id.is_none() {
        return Err(invalid("app_id", "name an app_id, an account_id, or both"));
    }
    let reason = new.reason.trim().to_string();
    if reason.is_empty() {
        return Err(invalid("reason", "is required"));
    }
    crate::db::write_tx(conn, |conn| {
        if let Some(a) = new.app_id {
            apps::find(conn, a).map_err(|_| invalid("app_id", "no such app"))?;
        }
        if let Some(a) = new.account_id {
            accounts::find(conn, a).map_err(|_| invalid("account_id", "no such account"))?;
        }
        let rec: ExclusionRecord = diesel::insert_into(finding_exclusions::table)
            .values((
                finding_exclusions::app_id.eq(new.app_id),
                finding_exclusions::account_id.eq(new.account_id),
                finding_exclusions::kind.eq(new.kind.map(|k| k.as_str())),
                finding_exclusions::reason.eq(&reason),
                finding_exclusions::created_by.eq(&actor.0),
                finding_exclusions::created_at.eq(crate::time::now()),
            ))
            .returning(finding_exclusions::all_columns)
            .get_result(conn)?;
        audit::record(conn, actor, "finding_exclusion.create", "finding_exclusion", rec.id, None, Some(&rec))?;
        Ok(rec)
    })
}

/// Removes an exclusion; the next refresh judges the app or account again.
pub fn remove(conn: &mut Conn, actor: &Actor, id: i64) -> Result<ExclusionRecord, InventoryError> {
    crate::db::write_tx(conn, |conn| {
        let rec: ExclusionRecord = finding_exclusions::table
            .find(id)
            .select(ExclusionRecord::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| InventoryError::not_found("exclusion", id))?;
        diesel::delete(finding_exclusions::table.find(id)).execute(conn)?;
        audit::record(conn, actor, "finding_exclusion.delete", "finding_exclusion", id, Some(&rec), None)?;
        Ok(rec)
    })
}
