//! Sync: runs a connection's connector and applies what it reads to the inventory — seats
//! upserted by (app, external id), people from identity providers, licence pools and app
//! grants — then, only after a complete successful run, marks what was not seen as removed.
//! A failed or interrupted run changes nothing it did not see. Findings refresh after each
//! successful run. Connections carry a cron schedule the scheduler follows.

pub mod connections;
pub mod oauth;
pub mod pools;
pub mod runs;
mod seats;
pub mod store;

pub use connections::{Connection, ConnectionChanges, ConnectionId, ConnectionRow, NewConnection};
pub use runs::{Counts, SkippedRecords, SyncRun, SyncRunId};

use crate::connectors::{self, Batch, ConnectorError, Definition, RecordKind};
use crate::context::Context;
use crate::db::DbError;
use std::sync::{Arc, Mutex};

/// Why a sync operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Input broke a rule; nothing changed.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No such record.
    #[error("{0} {1} not found")]
    NotFound(&'static str, String),
    /// A clash with the current state (a running sync, a duplicate name).
    #[error("{message}")]
    Conflict {
        /// The field concerned.
        field: String,
        /// What clashes.
        message: String,
    },
    /// The caller's role may not make this change (moving a connection to another host).
    #[error("{0}")]
    Forbidden(String),
    /// The connector failed.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// A stored secret cannot be opened or sealed.
    #[error(transparent)]
    Secret(#[from] crate::auth::SecretError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SyncError {
    fn from(e: diesel::result::Error) -> Self {
        SyncError::Db(DbError::Query(e))
    }
}

/// True when some stream of the definition reports sign-in activity for seats.
fn tracks_activity(def: &Definition) -> bool {
    def.streams.iter().any(|s| {
        s.account.as_ref().is_some_and(|m| m.contains_key("last_active_at"))
            || s.activity.as_ref().is_some_and(|m| m.contains_key("last_active_at"))
    })
}

/// Progress a caller can watch (the CLI's progress bar).
pub type Progress = Arc<dyn Fn(&Counts, u64) + Send + Sync>;

struct DbSink {
    ctx: Context,
    run: SyncRunId,
    state: Arc<Mutex<store::RunState>>,
    counts: Counts,
    progress: Option<Progress>,
    pages: u64,
}

impl connectors::Sink for DbSink {
    async fn batch(&mut self, batch: Batch) -> Result<(), String> {
        let (state, catalog, run) = (self.state.clone(), self.ctx.catalog.clone(), self.run);
        let counts = self
            .ctx
            .db
            .run(move |c| {
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                let counts = store::apply(c, &mut st, &catalog, &batch).map_err(DbError::from)?;
                Ok::<_, DbError>(counts)
            })
            .await
            .map_err(|e| e.to_string())?;
        self.counts += counts;
        self.pages += 1;
        let (c, run) = (self.counts, run);
        self.ctx
            .db
            .run(move |conn| runs::progress(conn, run, c).map_err(DbError::from))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(p) = &self.progress {
            p(&self.counts, self.pages);
        }
        Ok(())
    }
}

/// Starts a sync of `id` in the background and returns its run at once.
pub async fn start(ctx: &Context, id: ConnectionId, trigger: &str) -> Result<SyncRun, SyncError> {
    let trigger = trigger.to_string();
    let row = ctx.db.run(move |c| connections::find(c, id)).await?;
    if row.status != "active" {
        return Err(SyncError::Conflict {
            field: "connection_id".into(),
            message: "a deleted connection does not sync".into(),
        });
    }
    let run = ctx.db.run(move |c| runs::start(c, id, &trigger)).await?;
    let (ctx, started) = (ctx.clone(), run.clone());
    tokio::spawn(async move {
        if let Err(e) = execute(&ctx, started, None).await {
            tracing::error!(connection = %id, error = %e, "sync failed");
        }
    });
    Ok(run)
}

/// Runs a sync of `id` to the end in the foreground (CLI, scheduler).
pub async fn run_now(
    ctx: &Context,
    id: ConnectionId,
    trigger: &str,
    progress: Option<Progress>,
) -> Result<SyncRun, SyncError> {
    let trigger = trigger.to_string();
    let run = ctx.db.run(move |c| runs::start(c, id, &trigger)).await?;
    execute(ctx, run, progress).await
}

/// Runs a started run and records how it ended; errors are recorded on the run, then returned.
async fn execute(ctx: &Context, run: SyncRun, progress: Option<Progress>) -> Result<SyncRun, SyncError> {
    let run_id = run.id;
    let outcome = sync_connection(ctx, &run, progress).await;
    let (counts, calls, skipped, error) = match &outcome {
        Ok((c, calls, skipped)) => (*c, *calls, skipped.clone(), None),
        Err((c, calls, e)) => (*c, *calls, SkippedRecords::default(), Some(e.to_string())),
    };
    // Findings refresh before the run is marked finished, so whoever sees "succeeded" sees them too.
    if outcome.is_ok() {
        refresh_findings(ctx).await;
    }
    let e = error.clone();
    let finished = ctx
        .db
        .run(move |c| runs::finish(c, run_id, counts, calls, &skipped, e.as_deref()).map_err(DbError::from))
        .await?;
    match outcome {
        Ok(_) => {
            tracing::info!(run = %run_id, seen = counts.seen, added = counts.added, updated = counts.updated, removed = counts.removed, api_calls = calls, "sync finished");
            Ok(finished)
        }
        Err((_, _, e)) => Err(e),
    }
}

async fn refresh_findings(ctx: &Context) {
    match crate::findings::refresh_now(ctx, chrono::Utc::now().date_naive()).await {
        Ok(r) => tracing::info!(opened = r.opened, resolved = r.resolved, "findings refreshed after sync"),
        Err(e) => tracing::error!(error = %e, "findings refresh after sync failed"),
    }
}

type RunResult = Result<(Counts, u64, SkippedRecords), (Counts, u64, SyncError)>;

async fn sync_connection(ctx: &Context, run: &SyncRun, progress: Option<Progress>) -> RunResult {
    let id = run.connection_id;
    let fail = |e: SyncError| (Counts::default(), 0, e);
    let row = ctx.db.run(move |c| connections::find(c, id)).await.map_err(fail)?;
    let def = ctx.registry.get(&row.connector).ok_or_else(|| {
        fail(SyncError::Invalid {
            field: "connector".into(),
            message: format!("connector {} is not installed", row.connector),
        })
    })?;
    let params = row.params(&def, &ctx.secrets).map_err(fail)?;
    let default_app = params.render(&def.app).map_err(|e| fail(e.into()))?;
    let mut state = store::RunState::new(id, default_app, tracks_activity(&def), def.identity_provider, run.started_at);
    state.merged_fields =
        def.streams.iter().filter_map(|s| s.activity.as_ref()).flat_map(|m| m.keys().cloned()).collect();
    let state = Arc::new(Mutex::new(state));
    let mut sink =
        DbSink { ctx: ctx.clone(), run: run.id, state: state.clone(), counts: Counts::default(), progress, pages: 0 };
    let result = connectors::run_counted(&def, params, ctx.http.clone(), &mut sink).await;
    let counts = sink.counts;
    let outcome = match result {
        Ok(o) => o,
        Err(f) => {
            tracing::warn!(connection = %row.name, error = %f.error, api_calls = f.api_calls, "sync failed; nothing was removed");
            return Err((counts, f.api_calls, f.error.into()));
        }
    };
    if let Some(tokens) = outcome.tokens.clone() {
        let sealer = ctx.secrets.clone();
        ctx.db
            .run(move |c| connections::store_tokens(c, &sealer, id, tokens))
            .await
            .map_err(|e| (counts, outcome.api_calls, e))?;
    }
    for w in &outcome.warnings {
        tracing::warn!(connection = %row.name, "{w}");
    }
    // A skipped optional stream that feeds seats leaves its apps unseen; only apps seen are swept,
    // and the connector's own app only when every seat stream ran.
    let seat_stream_skipped = outcome
        .skipped_streams
        .iter()
        .any(|s| def.streams.iter().any(|d| s.starts_with(&format!("{}:", d.name)) && d.account.is_some()));
    let st = state.clone();
    let removed = ctx
        .db
        .run(move |c| {
            let mut st = st.lock().unwrap_or_else(|e| e.into_inner());
            if !seat_stream_skipped
                && def.streams.iter().any(|s| s.account.as_ref().is_some_and(|m| !m.contains_key("app")))
            {
                let name = st.default_app.clone();
                if let Some(app) = crate::inventory::apps::find_by_name(c, &name)? {
                    st.covered_apps.insert(app.id);
                }
            }
            store::sweep(c, &st).map_err(DbError::from)
        })
        .await
        .map_err(|e| (counts, outcome.api_calls, SyncError::Db(e)))?;
    let mut counts = counts;
    counts.removed += removed;
    let skipped = SkippedRecords { count: outcome.skipped_count, first: outcome.skipped.clone() };
    Ok((counts, outcome.api_calls, skipped))
}

/// Which record kinds a connector emits (for listings).
pub fn emits(def: &Definition) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for s in &def.streams {
        for (k, m) in [
            (RecordKind::Person, s.person.is_some()),
            (RecordKind::Account, s.account.is_some()),
            (RecordKind::LicencePool, s.licence_pool.is_some()),
            (RecordKind::AppGrant, s.app_grant.is_some()),
            (RecordKind::Activity, s.activity.is_some()),
        ] {
            if m && !kinds.contains(&k.name()) {
                kinds.push(k.name());
            }
        }
    }
    kinds
}

/// Syncs every connection whose schedule is due, one at a time; returns how many ran.
pub async fn run_due(ctx: &Context) -> anyhow::Result<usize> {
    let now = crate::time::now();
    let due: Vec<ConnectionRow> = ctx
        .db
        .run(move |c| {
            Ok::<_, SyncError>(
                connections::list(c, false)?.into_iter().filter(|r| r.next_sync_at.is_some_and(|t| t <= now)).collect(),
            )
        })
        .await?;
    let mut ran = 0;
    for row in due {
        let next = crate::time::parse_schedule("schedule", &row.schedule)
            .ok()
            .flatten()
            .and_then(|c| connections::next_occurrence(&c));
        let id = row.id;
        // Another replica may have claimed it first; the compare-and-set decides.
        if !ctx.db.run(move |c| connections::claim_due(c, id, now, next)).await? {
            continue;
        }
        match run_now(ctx, id, "schedule", None).await {
            Ok(_) => ran += 1,
            Err(SyncError::Conflict { message, .. }) => tracing::info!(connection = %row.name, "{message}"),
            Err(e) => tracing::error!(connection = %row.name, error = %e, "scheduled sync failed"),
        }
    }
    Ok(ran)
}
