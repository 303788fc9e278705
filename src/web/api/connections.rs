//! `/api/v1/connectors`, `/api/v1/connections` and `/api/v1/sync-runs`: which vendors stackward
//! can read, the connections to them (secrets write-only), syncs and their runs, and the OAuth
//! sign-in for vendors that need one.

use super::views::{self, SyncRun};
use crate::context::Context;
use crate::sync::{
    self, connections, oauth, runs, Connection, ConnectionChanges, ConnectionId, NewConnection, SyncRunId,
};
use crate::web::access::{INVENTORY_READERS, INVENTORY_WRITERS, RUN_READERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A setting or secret a connector asks for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParameterInfo {
    /// What it is.
    pub description: String,
    /// Must be given.
    pub required: bool,
    /// Used when not given.
    pub default: Option<String>,
}

/// A connector as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectorInfo {
    /// Its name, used when creating a connection.
    pub name: String,
    /// What people call it.
    pub title: String,
    /// What it reads and what the vendor account needs.
    pub description: String,
    /// The vendor's default API root.
    pub base_url: Option<String>,
    /// How it authenticates (bearer, oauth2_authorization_code, …).
    pub auth: String,
    /// Settings a connection gives.
    pub settings: BTreeMap<String, ParameterInfo>,
    /// Secrets a connection gives.
    pub secrets: BTreeMap<String, ParameterInfo>,
    /// What it reads.
    pub streams: Vec<String>,
    /// Canonical records it emits.
    pub emits: Vec<String>,
    /// Write actions it offers (reclaim).
    pub actions: Vec<String>,
    /// The file it came from.
    pub file: String,
}

/// Connectors and the definition files that could not load.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectorList {
    /// Usable connectors.
    pub items: Vec<ConnectorInfo>,
    /// Files that could not load, with line and reason.
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<crate::connectors::Problem>,
}

fn params(p: &BTreeMap<String, crate::connectors::definition::Parameter>) -> BTreeMap<String, ParameterInfo> {
    p.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                ParameterInfo {
                    description: v.description.clone(),
                    required: v.is_required(),
                    default: v.default.clone(),
                },
            )
        })
        .collect()
}

/// Every connector this server can run, and the definition files that could not load.
#[utoipa::path(tag = "connections", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = ConnectorList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/connectors")]
pub async fn connectors(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let items = ctx
        .registry
        .all()
        .map(|(d, file)| ConnectorInfo {
            name: d.name.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            base_url: d.base_url.clone(),
            auth: d.auth.kind().into(),
            settings: params(&d.settings),
            secrets: params(&d.secrets),
            streams: d.streams.iter().map(|s| s.name.clone()).collect(),
            emits: sync::emits(d).into_iter().map(str::to_string).collect(),
            actions: d.actions.iter().map(|a| a.name.clone()).collect(),
            file: file.to_string(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ConnectorList { items, problems: ctx.registry.problems().to_vec() }))
}

/// Filters for listing connections.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConnectionQuery {
    /// Include deleted connections.
    include_deleted: Option<bool>,
}

/// Connections (secret names only, never values).
#[utoipa::path(tag = "connections", params(ConnectionQuery), description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<Connection>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/connections")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<ConnectionQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let all = q.parse()?.include_deleted.unwrap_or(false);
    let rows = ctx.db.run(move |c| connections::list(c, all)).await?;
    let items: Vec<Connection> = rows.iter().map(|r| r.view(&ctx.secrets)).collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Connect a vendor: connector, name, settings and secrets (stored encrypted, never shown again).
#[utoipa::path(tag = "connections", description = "Roles: admin, it.", request_body = NewConnection,
    responses((status = 201, body = Connection), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/connections")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, body: Json<NewConnection>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let new = body.parse()?;
    let (registry, sealer) = (ctx.registry.clone(), ctx.secrets.clone());
    let created = ctx.db.run(move |c| connections::create(c, &who.actor(), &registry, &sealer, new)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One connection.
#[utoipa::path(tag = "connections", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Connection), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/connections/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: ConnectionId = path_id("connection", &id)?;
    let row = ctx.db.run(move |c| connections::find(c, id)).await?;
    Ok(HttpResponse::Ok().json(row.view(&ctx.secrets)))
}

/// Change a connection; settings and secrets merge (null removes one). Changing `base_url`, or a
/// setting that is part of a vendor URL, moves where the secrets go: admin only, and the request
/// must give the connection's secrets again (else 400 naming `secrets`).
#[utoipa::path(tag = "connections", description = "Roles: admin, it; admin alone may change base_url or a host setting.", request_body = ConnectionChanges,
    responses((status = 200, body = Connection), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/connections/{id}")]
pub async fn update(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<ConnectionChanges>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let id: ConnectionId = path_id("connection", &id)?;
    let (registry, sealer) = (ctx.registry.clone(), ctx.secrets.clone());
    // Moving a connection to another host redirects its secrets: an admin's decision alone.
    let may_move_host = who.holds_any(&[crate::auth::Role::Admin]);
    let updated = ctx
        .db
        .run(move |c| connections::update(c, &who.actor(), &registry, &sealer, id, changes, may_move_host))
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Delete a connection: it stops syncing and its secrets are dropped; it, its runs and its seats stay.
#[utoipa::path(tag = "connections", description = "Roles: admin, it.",
    responses((status = 200, body = Connection), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/connections/{id}")]
pub async fn remove(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let id: ConnectionId = path_id("connection", &id)?;
    let sealer = ctx.secrets.clone();
    let deleted = ctx.db.run(move |c| connections::delete(c, &who.actor(), &sealer, id)).await?;
    Ok(HttpResponse::Ok().json(deleted))
}

/// A started sync.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SyncStarted {
    /// Follow it at `/api/v1/sync-runs/{run_id}`.
    pub run_id: SyncRunId,
    /// The run as started.
    pub run: SyncRun,
}

/// Sync a connection now, in the background; 409 while one is running.
#[utoipa::path(tag = "connections", description = "Roles: admin, it.",
    responses((status = 202, body = SyncStarted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/connections/{id}/sync")]
pub async fn sync_now(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_WRITERS)?;
    let id: ConnectionId = path_id("connection", &id)?;
    let run = sync::start(&ctx, id, "api").await?;
    Ok(HttpResponse::Accepted().json(SyncStarted { run_id: run.id, run: run.into() }))
}

/// A connection's latest runs, newest first.
#[utoipa::path(tag = "connections", description = "Roles: admin, it.",
    responses((status = 200, body = Vec<SyncRun>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/connections/{id}/runs")]
pub async fn runs_list(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(RUN_READERS)?;
    let id: ConnectionId = path_id("connection", &id)?;
    let rows = ctx
        .db
        .run(move |c| {
            connections::find(c, id)?;
            Ok::<_, sync::SyncError>(runs::list_for_connection(c, id, 100)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::all::<_, SyncRun>(rows)))
}

/// One sync run: status, counts, API calls, error.
#[utoipa::path(tag = "connections", description = "Roles: admin, it.",
    responses((status = 200, body = SyncRun), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/sync-runs/{id}")]
pub async fn run_get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(RUN_READERS)?;
    let id: SyncRunId = path_id("sync run", &id)?;
    let run = ctx.db.run(move |c| runs::find(c, id)).await?;
    Ok(HttpResponse::Ok().json(SyncRun::from(run)))
}

/// Sign a connection in with the vendor: redirects to the vendor's consent page (OAuth 2.0 + PKCE).
#[utoipa::path(tag = "connections", description = "Roles: admin, it.",
    responses((status = 302, description = "to the vendor"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/connections/{id}/oauth/start")]
pub async fn oauth_start(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_WRITERS)?;
    let id: ConnectionId = path_id("connection", &id)?;
    let url = oauth::begin(&ctx, id).await?;
    Ok(HttpResponse::Found().insert_header(("location", url)).finish())
}

/// What the vendor sends back.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The authorization code.
    code: Option<String>,
    /// The state stackward sent.
    state: Option<String>,
    /// The vendor's error, when consent was refused.
    error: Option<String>,
    /// The vendor's explanation.
    error_description: Option<String>,
}

/// Where the vendor returns the admin; authenticated by the single-use `state`, not a token.
#[utoipa::path(tag = "connections", params(Callback), security(()),
    description = "Roles: none; the single-use state from /oauth/start authenticates it.",
    responses((status = 200, description = "signed in"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/connections/{id}/oauth/callback")]
pub async fn oauth_callback(
    ctx: web::Data<Context>,
    id: web::Path<String>,
    q: Query<Callback>,
) -> Result<HttpResponse, ApiError> {
    let id: ConnectionId = path_id("connection", &id)?;
    let q: Callback = q.parse()?;
    if let Some(e) = q.error {
        let detail = q.error_description.unwrap_or_default();
        return Err(ApiError::invalid(
            "code",
            format!("the vendor did not grant access: {e} {detail}").trim().to_string(),
        ));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(ApiError::invalid("state", "the callback needs code and state"));
    };
    oauth::complete(&ctx, id, &code, &state).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><title>Connected</title><p>The connection is signed in. You can close this page and run a sync.</p>"))
}
