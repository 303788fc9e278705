//! Runs approved reclaims whose seats a connection brought: the connector's `reclaim` action
//! removes each seat at the vendor, outside any database transaction; the request records the
//! result (done, or a task for the owner with what failed).

use super::request;
use super::vendor::{self, Target};
use crate::context::Context;
use crate::inventory::AccountId;
use crate::sync::connections;
use crate::workflow::{self, WorkflowError};

/// Runs every queued reclaim; returns how many were handled.
pub async fn run_queued(ctx: &Context) -> anyhow::Result<usize> {
    let queued = ctx.db.run::<_, WorkflowError, _>(request::queued).await?;
    let mut handled = 0;
    for r in queued {
        let claimed = r.clone();
        if !ctx.db.run::<_, WorkflowError, _>(move |c| request::claim(c, &claimed)).await? {
            continue;
        }
        let for_accounts = r.clone();
        let seats =
            ctx.db.run::<_, WorkflowError, _>(move |c| workflow::reclaim::accounts_of(c, &for_accounts)).await?;
        let results = remove_seats(ctx, &seats).await;
        let (catalog, public_url, id) = (ctx.catalog.clone(), ctx.settings.public_url(), r.id);
        let notice = i32::from(ctx.settings.default_notice_days);
        ctx.db
            .run::<_, WorkflowError, _>(move |c| {
                let env = workflow::Env { catalog: &catalog, public_url: &public_url, default_notice_days: notice };
                request::finish(c, env, id, &results, crate::time::now())
            })
            .await?;
        handled += 1;
    }
    Ok(handled)
}

async fn remove_seats(ctx: &Context, seats: &[crate::inventory::Account]) -> Vec<(AccountId, Result<(), String>)> {
    let fail_all = |why: String| seats.iter().map(|a| (a.id, Err(why.clone()))).collect();
    let Some(connection) = seats.first().and_then(|a| a.connection_id) else {
        return fail_all("the seats came from no connection".into());
    };
    let row = match ctx.db.run(move |c| connections::find(c, connection)).await {
        Ok(r) => r,
        Err(e) => return fail_all(e.to_string()),
    };
    let Some(def) = ctx.registry.get(&row.connector) else {
        return fail_all(format!("connector {} is not installed", row.connector));
    };
    if !def.actions.iter().any(|a| a.name == "reclaim") {
        return fail_all(format!("connector {} cannot remove seats itself", def.title));
    }
    let params = match row.params(&def, &ctx.secrets) {
        Ok(p) => p,
        Err(e) => return fail_all(e.to_string()),
    };
    let targets: Vec<Target> = seats
        .iter()
        .map(|a| Target {
            external_id: a.external_id.clone(),
            email: a.email.clone(),
            username: a.username.clone(),
            licence: a.licence.clone(),
        })
        .collect();
    match vendor::run(&def, "reclaim", params, ctx.http.clone(), &targets).await {
        Ok(results) => seats.iter().zip(results).map(|(a, r)| (a.id, r.map_err(|e| e.to_string()))).collect(),
        Err(e) => fail_all(e.to_string()),
    }
}
