//! `serve` (the HTTP API with the scheduler) and `migrate`.

use super::open;
use crate::config::Settings;
use crate::context::Context;
use crate::scheduler;
use anyhow::Context as _;

/// Checks the schedules and settings, migrates, then serves HTTP with the scheduler running
/// until the server stops.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Refuse bad schedules and stages before serving anything.
    scheduler::schedules(&settings).map_err(anyhow::Error::msg)?;
    scheduler::reminder_settings(&settings).map_err(anyhow::Error::msg)?;
    scheduler::sla_settings(&settings).map_err(anyhow::Error::msg)?;
    let db = open(&settings)?;
    let mut ctx = Context::new(db, settings)?;
    ctx.scheduler_running = true;
    let mut sched = scheduler::start(ctx.clone()).await.context("cannot start the scheduler")?;
    let served = crate::web::serve(ctx).await;
    let _ = sched.shutdown().await;
    served.context("the HTTP server stopped")?;
    Ok(())
}

/// Applies pending migrations.
pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open(settings)?;
    eprintln!("database is up to date");
    Ok(())
}
