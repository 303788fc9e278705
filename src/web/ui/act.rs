//! What the forms that change requests share: run the workflow change as the viewer, with the
//! catalog and public URL the workflow needs and the current time, on the database pool.

use super::error::PageError;
use super::viewer::Viewer;
use crate::context::Context;
use crate::db::Conn;
use crate::workflow::{Decider, Env};
use chrono::NaiveDateTime;

/// Runs `change` as the viewer, in the workflow's environment, now.
pub async fn as_viewer<T, E, F>(ctx: &Context, viewer: &Viewer, change: F) -> Result<T, PageError>
where
    F: FnOnce(&mut Conn, Env<'_>, &Decider, NaiveDateTime) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<PageError>,
{
    let who = viewer.decider.clone();
    let (catalog, url, notice) =
        (ctx.catalog.clone(), ctx.settings.public_url(), i32::from(ctx.settings.default_notice_days));
    let now = crate::time::now();
    ctx.db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            change(c, env, &who, now).map_err(Into::into)
        })
        .await
}
