//! `/connections`: the vendor connections with their last run; adding one from a connector's
//! declared settings and secrets (secrets are write-only: never shown, only replaced); sync
//! now; and a connection's run history with counts and errors. A running sync's page reloads
//! itself every few seconds (a meta refresh, so progress shows with JavaScript off).

use super::error::PageError;
use super::forms::Form;
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::sync::{self, connections, runs, ConnectionId, NewConnection};
use crate::web::access::{INVENTORY_READERS, INVENTORY_WRITERS};
use crate::web::extract::path_id;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;

/// Runs shown on a connection's page.
const RUNS_SHOWN: i64 = 50;

/// A setting or secret a connector declares.
#[derive(Debug, Serialize)]
struct Param {
    key: String,
    description: String,
    required: bool,
    default: Option<String>,
}

/// A connector that can be added.
#[derive(Debug, Serialize)]
struct ConnectorChoice {
    name: String,
    title: String,
    description: String,
    base_url: Option<String>,
    settings: Vec<Param>,
    secrets: Vec<Param>,
}

fn params(p: &BTreeMap<String, crate::connectors::definition::Parameter>) -> Vec<Param> {
    p.iter()
        .map(|(k, v)| Param {
            key: k.clone(),
            description: v.description.clone(),
            required: v.is_required(),
            default: v.default.clone(),
        })
        .collect()
}

fn choices(ctx: &Context) -> Vec<ConnectorChoice> {
    let mut out: Vec<ConnectorChoice> = ctx
        .registry
        .all()
        .map(|(d, _)| ConnectorChoice {
            name: d.name.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            base_url: d.base_url.clone(),
            settings: params(&d.settings),
            secrets: params(&d.secrets),
        })
        .collect();
    out.sort_by_key(|c| c.title.to_lowercase());
    out
}

/// A connection with its latest run.
#[derive(Debug, Serialize)]
struct Listed {
    connection: sync::Connection,
    run: Option<runs::SyncRun>,
}

/// Connections, and the form to add one (`?connector=NAME` picks the connector).
#[get("/connections")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_READERS)?;
    #[derive(serde::Deserialize, Default)]
    struct Q {
        connector: Option<String>,
    }
    let q: Q = super::forms::query(&req)?;
    let sealer = ctx.secrets.clone();
    let listed = ctx
        .db
        .run(move |c| {
            let mut out = Vec::new();
            for row in connections::list(c, false)? {
                let run = runs::list_for_connection(c, row.id, 1)?.into_iter().next();
                out.push(Listed { connection: row.view(&sealer), run });
            }
            Ok::<_, PageError>(out)
        })
        .await?;
    let all = choices(&ctx);
    let chosen = q.connector.as_deref().and_then(|n| all.iter().find(|c| c.name == n));
    let ctx = minijinja::context! {
        title => "Connections", active => "/connections",
        connections => listed, connectors => &all, chosen,
        may_write => viewer.has_any(INVENTORY_WRITERS),
    };
    render::page(&viewer, "connections.html", ctx)
}

/// Adds a connection: `connector`, `name`, `base_url`, `schedule`, `settings.KEY`, `secrets.KEY`.
#[post("/connections")]
pub async fn create(ctx: web::Data<Context>, viewer: Viewer, form: Form) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_WRITERS)?;
    let mut new = NewConnection::default();
    for (k, v) in form.pairs(&viewer)? {
        match k {
            "connector" => new.connector = v.to_string(),
            "name" => new.name = v.trim().to_string(),
            "base_url" => new.base_url = Some(v.trim().to_string()),
            "schedule" => new.schedule = Some(v.trim().to_string()),
            _ => {
                if let Some(key) = k.strip_prefix("settings.") {
                    new.settings.insert(key.to_string(), v.to_string());
                } else if let Some(key) = k.strip_prefix("secrets.") {
                    new.secrets.insert(key.to_string(), v.to_string());
                } else {
                    return Err(PageError::Invalid {
                        field: Some(k.to_string()),
                        message: "is not a field of this form".into(),
                    });
                }
            }
        }
    }
    let actor = viewer.decider.actor.clone();
    let (registry, sealer) = (ctx.registry.clone(), ctx.secrets.clone());
    let created = ctx.db.run(move |c| connections::create(c, &actor, &registry, &sealer, new)).await?;
    Ok(render::see_other(&format!("/connections/{}", created.id)))
}

/// One connection: its settings (secret names only), run history and a running sync's progress.
#[get("/connections/{id}")]
pub async fn show(ctx: web::Data<Context>, viewer: Viewer, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_READERS)?;
    let id: ConnectionId = path_id("connection", &id)?;
    let sealer = ctx.secrets.clone();
    let (connection, history) = ctx
        .db
        .run(move |c| {
            let row = connections::find(c, id)?;
            Ok::<_, PageError>((row.view(&sealer), runs::list_for_connection(c, id, RUNS_SHOWN)?))
        })
        .await?;
    let running = history.iter().any(|r| r.status == "running");
    let ctx = minijinja::context! {
        title => connection.name.clone(), active => "/connections",
        connection, runs => history, running,
        may_write => viewer.has_any(INVENTORY_WRITERS),
    };
    render::page(&viewer, "connection.html", ctx)
}

/// Starts a sync in the background and shows the connection (409 page while one runs).
#[post("/connections/{id}/sync")]
pub async fn sync_now(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_WRITERS)?;
    form.pairs(&viewer)?;
    let id: ConnectionId = path_id("connection", &id)?;
    sync::start(&ctx, id, "page").await?;
    Ok(render::see_other(&format!("/connections/{id}")))
}
