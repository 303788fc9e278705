//! The seats a finding names (its evidence's `accounts` list, or its one `account`), read as
//! account records and paged in id order: one idle-seat finding can name every seat of an app,
//! more than a list of findings should carry.

use super::FindingId;
use crate::db::schema::{accounts, findings};
use crate::db::{Conn, JsonText, Page};
use crate::inventory::Account;
use diesel::prelude::*;
use serde_json::Value;

/// The account ids a finding's evidence names, ascending, each once.
pub fn account_ids(evidence: &Value) -> Vec<i64> {
    let listed = evidence["accounts"].as_array().into_iter().flatten();
    // Ids are written as strings, like every id the API gives out.
    let id = |a: &Value| a["id"].as_i64().or_else(|| a["id"].as_str().and_then(|s| s.parse().ok()));
    let mut ids: Vec<i64> = listed.chain(std::iter::once(&evidence["account"])).filter_map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// One page of the seats finding `id` names, with the id to continue after; None when there is no
/// such finding.
pub fn accounts_of(conn: &mut Conn, id: FindingId, page: Page) -> QueryResult<Option<(Vec<Account>, Option<i64>)>> {
    let Some(evidence) =
        findings::table.find(id).select(findings::evidence).first::<JsonText<Value>>(conn).optional()?
    else {
        return Ok(None);
    };
    let wanted: Vec<i64> =
        account_ids(&evidence).into_iter().filter(|a| *a > page.after).take(page.fetch() as usize).collect();
    let rows: Vec<Account> = accounts::table
        .filter(accounts::id.eq_any(&wanted))
        .order(accounts::id.asc())
        .select(Account::as_select())
        .load(conn)?;
    Ok(Some(page.finish(rows, |a| a.id.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_list_or_the_one_account() {
        let listed = serde_json::json!({"accounts": [{"id": "9"}, {"id": 3}, {"id": 9}, {"who": "x"}]});
        assert_eq!(account_ids(&listed), vec![3, 9]);
        assert_eq!(account_ids(&serde_json::json!({"account": {"id": "4"}, "person": {"id": "7"}})), vec![4]);
        assert!(account_ids(&serde_json::json!({"seats_purchased": 10})).is_empty());
    }
}
