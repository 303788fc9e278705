//! Connections: a connector plus one tenant's settings and secrets (sealed with the secret key,
//! never returned, logged or shown), a base URL override and a sync schedule. Deleting a
//! connection keeps it, its runs and the seats it brought, for history.

use super::SyncError;
use crate::audit::{self, Actor};
use crate::auth::{SecretBox, Secrets};
use crate::connectors::{Definition, Params, Registry};
use crate::db::schema::connections;
pub use crate::db::ConnectionId;
use crate::db::{Conn, JsonText};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schedule a connection gets when none is given: daily at 03:00 UTC.
pub const DEFAULT_SCHEDULE: &str = "0 0 3 * * *";

/// A connection as stored (secrets sealed).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = connections)]
pub struct ConnectionRow {
    /// Id.
    pub id: ConnectionId,
    /// The connector's name.
    pub connector: String,
    /// A name people choose, unique.
    pub name: String,
    /// The vendor root, when it differs from the connector's.
    pub base_url: Option<String>,
    /// Settings, stored as JSON.
    pub settings: JsonText<BTreeMap<String, String>>,
    /// Secrets, sealed.
    pub secrets: String,
    /// Cron schedule (seconds first, UTC); blank = only by hand.
    pub schedule: String,
    /// `active` or `deleted`.
    pub status: String,
    /// When the scheduler syncs it next.
    pub next_sync_at: Option<NaiveDateTime>,
    /// A scheduler's claim on the next sync.
    pub sync_lease_until: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
    /// When it was deleted.
    pub deleted_at: Option<NaiveDateTime>,
}

/// A connection as the API shows it: secret names only, never values.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Connection {
    /// Id.
    pub id: ConnectionId,
    /// The connector.
    pub connector: String,
    /// Its name.
    pub name: String,
    /// Base URL override; null = the connector's own.
    pub base_url: Option<String>,
    /// Settings.
    pub settings: BTreeMap<String, String>,
    /// Which secrets are set (names only).
    pub secrets: Vec<String>,
    /// Cron schedule (seconds first, UTC); empty = only by hand.
    pub schedule: String,
    /// `active` or `deleted`.
    pub status: String,
    /// When the scheduler syncs it next.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_sync_at: Option<NaiveDateTime>,
    /// Created.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// Last changed.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// When it was deleted.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<NaiveDateTime>,
}

/// A new connection.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    /// The connector's name (`GET /api/v1/connectors`).
    pub connector: String,
    /// A unique name (`github-acme`).
    pub name: String,
    /// The vendor root when it differs (self-hosted vendors, test doubles).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Settings the connector asks for.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Secrets the connector asks for; stored encrypted, never shown again.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub secrets: BTreeMap<String, String>,
    /// Cron schedule (seconds first, UTC); default daily at 03:00; empty = only by hand.
    #[serde(default)]
    pub schedule: Option<String>,
}

/// Changes to a connection; absent fields stay, a secret set to null is removed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionChanges {
    /// New name.
    pub name: Option<String>,
    /// New base URL; null = the connector's own.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub base_url: Option<Option<String>>,
    /// Settings to set (merged; null removes one).
    #[serde(default)]
    pub settings: BTreeMap<String, Option<String>>,
    /// Secrets to set (merged; null removes one).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    pub secrets: BTreeMap<String, Option<String>>,
    /// New schedule.
    pub schedule: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> SyncError {
    SyncError::Invalid { field: field.to_string(), message: message.into() }
}

/// A unique-name violation as the 409 naming `name`; any other database error as it is.
fn name_taken(e: diesel::result::Error, name: &str) -> SyncError {
    if crate::db::is_unique_violation(&e) {
        SyncError::Conflict { field: "name".into(), message: format!("a connection named {name:?} exists") }
    } else {
        e.into()
    }
}

fn next_run(schedule: &str) -> Result<Option<NaiveDateTime>, SyncError> {
    let cron = crate::time::parse_schedule("schedule", schedule).map_err(|m| invalid("schedule", m))?;
    Ok(cron.and_then(|c| next_occurrence(&c)))
}

/// The schedule's next time after now, to the second.
pub fn next_occurrence(cron: &croner::Cron) -> Option<NaiveDateTime> {
    use chrono::SubsecRound;
    cron.find_next_occurrence(&chrono::Utc::now(), false).ok().map(|t| t.naive_utc().trunc_subsecs(0))
}

/// Checks settings, secrets and base URL against the connector's definition.
fn validate(
    def: &Definition,
    base_url: &mut Option<String>,
    settings: &BTreeMap<String, String>,
    secrets: &Secrets,
) -> Result<(), SyncError> {
    for key in settings.keys() {
        if !def.settings.contains_key(key) {
            let known: Vec<&str> = def.settings.keys().map(String::as_str).collect();
            return Err(invalid(
                &format!("settings.{key}"),
                format!("connector {} has no setting {key:?}; it has: {}", def.name, known.join(", ")),
            ));
        }
    }
    for (key, p) in &def.settings {
        if p.is_required() && settings.get(key).is_none_or(|v| v.trim().is_empty()) {
            return Err(invalid(&format!("settings.{key}"), format!("is required: {}", p.description)));
        }
    }
    for key in secrets.keys() {
        let oauth = key == crate::connectors::auth::ACCESS_TOKEN || key == crate::connectors::auth::REFRESH_TOKEN;
        if !def.secrets.contains_key(key) && !oauth {
            let known: Vec<&str> = def.secrets.keys().map(String::as_str).collect();
            return Err(invalid(
                &format!("secrets.{key}"),
                format!("connector {} has no secret {key:?}; it has: {}", def.name, known.join(", ")),
            ));
        }
    }
    for (key, p) in &def.secrets {
        if p.is_required() && !secrets.contains_key(key) {
            return Err(invalid(&format!("secrets.{key}"), format!("is required: {}", p.description)));
        }
    }
    if let Some(u) = base_url.as_mut() {
        *u = u.trim().trim_end_matches('/').to_string();
        let ok = url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if !ok {
            return Err(invalid("base_url", format!("{u:?} is not an http(s) URL")));
        }
        if let Ok(p) = url::Url::parse(u) {
            crate::connectors::http::guard(&p).map_err(|e| invalid("base_url", e.to_string()))?;
        }
    }
    if base_url.is_none() && def.base_url.is_none() {
        return Err(invalid(
            "base_url",
            format!("connector {} has no default address: give the server's base_url", def.name),
        ));
    }
    Ok(())
}

fn secrets_of(raw: BTreeMap<String, String>) -> Secrets {
    raw.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect()
}

impl ConnectionRow {
    /// The API view, with the secret names opened from the sealed value.
    pub fn view(&self, sealer: &SecretBox) -> Connection {
        let secrets = sealer.open_secrets(&self.secrets).map(|s| s.keys().cloned().collect()).unwrap_or_default();
        Connection {
            id: self.id,
            connector: self.connector.clone(),
            name: self.name.clone(),
            base_url: self.base_url.clone(),
            settings: self.settings.0.clone(),
            secrets,
            schedule: self.schedule.clone(),
            status: self.status.clone(),
            next_sync_at: self.next_sync_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        }
    }

    /// The values the connector runs with: settings with defaults, secrets opened, the base URL.
    pub fn params(&self, def: &Definition, sealer: &SecretBox) -> Result<Params, SyncError> {
        let mut settings = self.settings.0.clone();
        for (k, p) in &def.settings {
            if let (None, Some(d)) = (settings.get(k), &p.default) {
                settings.insert(k.clone(), d.clone());
            }
        }
        let secrets = sealer.open_secrets(&self.secrets)?;
        let mut params = Params {
            connection: self.name.clone(),
            settings,
            secrets,
            base_url: String::new(),
            overridden: self.base_url.is_some(),
        };
        params.base_url = match (&self.base_url, &def.base_url) {
            (Some(own), _) => own.clone(),
            (None, Some(theirs)) => params.render(theirs).map_err(|e| invalid("base_url", e.to_string()))?,
            (None, None) => return Err(invalid("base_url", "the connection needs a base_url")),
        };
        Ok(params)
    }
}

/// Finds a connection (deleted ones too).
pub fn find(conn: &mut Conn, id: ConnectionId) -> Result<ConnectionRow, SyncError> {
    connections::table
        .find(id)
        .select(ConnectionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(SyncError::NotFound("connection", id.to_string()))
}

/// Finds a live connection by name.
pub fn find_by_name(conn: &mut Conn, name: &str) -> Result<ConnectionRow, SyncError> {
    connections::table
        .filter(connections::name.eq(name.trim()))
        .filter(connections::status.eq("active"))
        .select(ConnectionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(SyncError::NotFound("connection", name.to_string()))
}

/// Every connection, live first then deleted, by id.
pub fn list(conn: &mut Conn, include_deleted: bool) -> Result<Vec<ConnectionRow>, SyncError> {
    let mut q = connections::table.into_boxed();
    if !include_deleted {
        q = q.filter(connections::status.eq("active"));
    }
    Ok(q.order(connections::id.asc()).select(ConnectionRow::as_select()).load(conn)?)
}

/// Creates a connection after checking it against its connector; secrets are sealed.
pub fn create(
    conn: &mut Conn,
    actor: &Actor,
    registry: &Registry,
    sealer: &SecretBox,
    new: NewConnection,
) -> Result<Connection, SyncError> {
    let Some(def) = registry.get(new.connector.trim()) else {
        let known: Vec<&str> = registry.all().map(|(d, _)| d.name.as_str()).collect();
        return Err(invalid(
            "connector",
            format!("no connector is named {:?}; known: {}", new.connector, known.join(", ")),
        ));
    };
    let name = new.name.trim().to_string();
    if name.is_empty() || name.len() > 200 {
        return Err(invalid("name", "must be 1 to 200 characters"));
    }
    let mut base_url = new.base_url.filter(|u| !u.trim().is_empty());
    let secrets = secrets_of(new.secrets);
    validate(&def, &mut base_url, &new.settings, &secrets)?;
    let schedule = new.schedule.unwrap_or_else(|| DEFAULT_SCHEDULE.to_string()).trim().to_string();
    let next = next_run(&schedule)?;
    let sealed = sealer.seal_secrets(&secrets)?;
    let now = crate::time::now();
    crate::db::write_tx(conn, |conn| {
        let id: ConnectionId = diesel::insert_into(connections::table)
            .values((
                connections::connector.eq(&def.name),
                connections::name.eq(&name),
                connections::base_url.eq(&base_url),
                connections::settings.eq(JsonText(new.settings.clone())),
                connections::secrets.eq(&sealed),
                connections::schedule.eq(&schedule),
                connections::status.eq("active"),
                connections::next_sync_at.eq(next),
                connections::created_at.eq(now),
                connections::updated_at.eq(now),
            ))
            .returning(connections::id)
            .get_result(conn)
            .map_err(|e| name_taken(e, &name))?;
        let view = find(conn, id)?.view(sealer);
        audit::record(conn, actor, "connection.create", "connection", id, None, Some(&view))?;
        Ok(view)
    })
}

/// Settings whose value is part of a URL the connector calls (`https://{settings.subdomain}…`,
/// a tenant in a token URL): changing one sends the connection's secrets somewhere else.
fn host_settings(def: &Definition) -> Vec<String> {
    use crate::connectors::definition::Auth;
    let mut templates: Vec<&str> = def.base_url.iter().map(String::as_str).collect();
    templates.extend(def.streams.iter().filter_map(|s| s.url.as_deref()));
    match &def.auth {
        Auth::Oauth2ClientCredentials { token_url, .. }
        | Auth::JwtBearer { token_url, .. }
        | Auth::TokenExchange { token_url, .. } => templates.push(token_url),
        Auth::Oauth2AuthorizationCode { authorize_url, token_url, .. } => {
            templates.extend([authorize_url.as_str(), token_url.as_str()]);
        }
        Auth::None | Auth::Bearer { .. } | Auth::Basic { .. } | Auth::Header { .. } => {}
    }
    def.settings
        .keys()
        .filter(|k| templates.iter().any(|t| t.contains(&format!("{{settings.{k}}}"))))
        .cloned()
        .collect()
}

/// What a host move asks for: the stored secrets were given for the old host, so they must be
/// given again, in the same request, for the new one (signed-in tokens are dropped: sign in again).
fn secrets_for_new_host(
    def: &Definition,
    stored: &Secrets,
    given: &BTreeMap<String, Option<String>>,
) -> Result<Secrets, SyncError> {
    let missing: Vec<&str> = def
        .secrets
        .iter()
        .filter(|(k, p)| p.is_required() || stored.contains_key(*k))
        .filter(|(k, _)| !matches!(given.get(*k), Some(Some(v)) if !v.is_empty()))
        .map(|(k, _)| k.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(invalid(
            "secrets",
            format!(
                "moving the connection to another host needs its secrets again in the same request: {}",
                missing.join(", ")
            ),
        ));
    }
    Ok(given.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), SecretString::from(v.clone())))).collect())
}

/// Changes a connection; settings and secrets merge; the result is checked again. A change that
/// moves the connection's requests to another host (its base URL, or a setting inside a URL)
/// needs `may_move_host` (admins) and its secrets again in the same request.
pub fn update(
    conn: &mut Conn,
    actor: &Actor,
    registry: &Registry,
    sealer: &SecretBox,
    id: ConnectionId,
    changes: ConnectionChanges,
    may_move_host: bool,
) -> Result<Connection, SyncError> {
    crate::db::write_tx(conn, |conn| {
        let row = find(conn, id)?;
        if row.status != "active" {
            return Err(SyncError::Conflict {
                field: "status".into(),
                message: "a deleted connection cannot change".into(),
            });
        }
        let def = registry
            .get(&row.connector)
            .ok_or_else(|| invalid("connector", format!("connector {} is no longer installed", row.connector)))?;
        let before = row.view(sealer);
        let stored_settings: BTreeMap<String, String> = row.settings.0.clone();
        let mut settings = stored_settings.clone();
        for (k, v) in changes.settings {
            match v {
                Some(v) => settings.insert(k, v),
                None => settings.remove(&k),
            };
        }
        let mut base_url = match changes.base_url {
            Some(b) => b.filter(|u| !u.trim().is_empty()),
            None => row.base_url.clone(),
        };
        if let Some(u) = base_url.as_mut() {
            *u = u.trim().trim_end_matches('/').to_string();
        }
        let moved_setting = host_settings(&def).into_iter().find(|k| settings.get(k) != stored_settings.get(k));
        let moves_host = base_url != row.base_url || moved_setting.is_some();
        let stored = sealer.open_secrets(&row.secrets)?;
        let secrets = if moves_host {
            if !may_move_host {
                let what = moved_setting.map(|k| format!("settings.{k}")).unwrap_or_else(|| "base_url".into());
                return Err(SyncError::Forbidden(format!(
                    "only an admin may change {what}: it moves where the connection's secrets are sent"
                )));
            }
            secrets_for_new_host(&def, &stored, &changes.secrets)?
        } else {
            let mut secrets = stored;
            for (k, v) in changes.secrets {
                match v {
                    Some(v) => secrets.insert(k, SecretString::from(v)),
                    None => secrets.remove(&k),
                };
            }
            secrets
        };
        validate(&def, &mut base_url, &settings, &secrets)?;
        let name = changes.name.map(|n| n.trim().to_string()).unwrap_or(row.name.clone());
        if name.is_empty() {
            return Err(invalid("name", "must not be blank"));
        }
        let schedule = changes.schedule.map(|s| s.trim().to_string()).unwrap_or(row.schedule.clone());
        let next = next_run(&schedule)?;
        diesel::update(connections::table.find(id))
            .set((
                connections::name.eq(&name),
                connections::base_url.eq(&base_url),
                connections::settings.eq(JsonText(settings.clone())),
                connections::secrets.eq(sealer.seal_secrets(&secrets)?),
                connections::schedule.eq(&schedule),
                connections::next_sync_at.eq(next),
                connections::updated_at.eq(crate::time::now()),
            ))
            .execute(conn)
            .map_err(|e| name_taken(e, &name))?;
        let after = find(conn, id)?.view(sealer);
        audit::record(conn, actor, "connection.update", "connection", id, Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// Stores tokens a run refreshed (authorization-code connections), sealed.
pub fn store_tokens(conn: &mut Conn, sealer: &SecretBox, id: ConnectionId, tokens: Secrets) -> Result<(), SyncError> {
    crate::db::write_tx(conn, |conn| {
        let row = find(conn, id)?;
        let mut secrets = sealer.open_secrets(&row.secrets)?;
        secrets.extend(tokens);
        diesel::update(connections::table.find(id))
            .set(connections::secrets.eq(sealer.seal_secrets(&secrets)?))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes a connection: it stops syncing and is renamed free, but it, its runs and its seats stay.
pub fn delete(conn: &mut Conn, actor: &Actor, sealer: &SecretBox, id: ConnectionId) -> Result<Connection, SyncError> {
    crate::db::write_tx(conn, |conn| {
        let row = find(conn, id)?;
        if row.status != "active" {
            return Ok(row.view(sealer));
        }
        let before = row.view(sealer);
        let now = crate::time::now();
        diesel::update(connections::table.find(id))
            .set((
                connections::status.eq("deleted"),
                connections::name.eq(format!("{} (deleted #{id})", row.name)),
                connections::deleted_at.eq(Some(now)),
                connections::next_sync_at.eq(None::<NaiveDateTime>),
                // The secrets are no longer needed: drop them rather than keep credentials around.
                connections::secrets.eq(sealer.seal_secrets(&Secrets::new())?),
                connections::updated_at.eq(now),
            ))
            .execute(conn)?;
        let after = find(conn, id)?.view(sealer);
        audit::record(conn, actor, "connection.delete", "connection", id, Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// Claims the connection's due scheduled sync (compare-and-set), moving its next time on.
pub fn claim_due(
    conn: &mut Conn,
    id: ConnectionId,
    now: NaiveDateTime,
    next: Option<NaiveDateTime>,
) -> Result<bool, SyncError> {
    let n = diesel::update(
        connections::table
            .filter(connections::id.eq(id))
            .filter(connections::status.eq("active"))
            .filter(connections::next_sync_at.le(now)),
    )
    .set(connections::next_sync_at.eq(next))
    .execute(conn)?;
    Ok(n == 1)
}
