//! The policy in force, kept in the database so every replica routes by the same one. Each
//! replacement is a new version; older versions stay for the record.

use super::error::{Result, WorkflowError};
use super::policy::{self, Policy};
use crate::audit::{self, Actor};
use crate::db::schema::workflow_policies;
use crate::db::{Conn, DbError};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Recorded<'a> {
    version: i32,
    text: &'a str,
}

/// The policy in force: the highest stored version, or the built-in default.
pub fn current(conn: &mut Conn) -> Result<Policy> {
    let row: Option<(i32, String)> = workflow_policies::table
        .order(workflow_policies::version.desc())
        .select((workflow_policies::version, workflow_policies::text))
        .first(conn)
        .optional()?;
    let Some((version, text)) = row else { return Ok(policy::default_policy()) };
    // Stored text was checked when it was stored; if a later release reads it differently,
    // requests must not be routed by a guess.
    let steps = policy::parse(&text).map_err(|e| {
        WorkflowError::Db(DbError::Task(format!("stored approval policy v{version} no longer loads: {e}")))
    })?;
    Ok(Policy { version, text, steps })
}

/// Replaces the policy with `text` if it loads; otherwise nothing changes.
pub fn replace(conn: &mut Conn, actor: &Actor, text: &str) -> Result<Policy> {
    let steps = policy::parse(text)?;
    crate::db::write_tx(conn, |conn| {
        let before = current(conn)?;
        let version = before.version + 1;
        diesel::insert_into(workflow_policies::table)
            .values((
                workflow_policies::version.eq(version),
                workflow_policies::text.eq(text),
                workflow_policies::created_by.eq(&actor.0),
                workflow_policies::created_at.eq(crate::time::now()),
            ))
            .execute(conn)?;
        let old = Recorded { version: before.version, text: &before.text };
        let new = Recorded { version, text };
        audit::record(conn, actor, "policy.replace", "policy", version, Some(&old), Some(&new))?;
        Ok(Policy { version, text: text.to_string(), steps })
    })
}
