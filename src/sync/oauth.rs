//! Signing a connection in with OAuth 2.0 authorization code + PKCE: `begin` sends the admin to
//! the vendor with a single-use `state` (kept 10 minutes, its PKCE verifier sealed); `complete`
//! checks the state, exchanges the code and stores the tokens sealed with the connection.

use super::connections::{self, ConnectionId};
use super::SyncError;
use crate::connectors::auth::{token_client, ACCESS_TOKEN, REFRESH_TOKEN};
use crate::connectors::definition::Auth;
use crate::context::Context;
use crate::db::schema::oauth_states;
use crate::db::DbError;
use diesel::prelude::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use secrecy::SecretString;

const STATE_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

fn not_oauth(connector: &str) -> SyncError {
    SyncError::Invalid {
        field: "connector".into(),
        message: format!("connector {connector} does not sign in with OAuth"),
    }
}

fn bad_url(e: impl std::fmt::Display) -> SyncError {
    SyncError::Invalid { field: "base_url".into(), message: e.to_string() }
}

/// The vendor's consent URL for connection `id`; the vendor sends the admin back to `redirect_uri`.
pub async fn begin(ctx: &Context, id: ConnectionId) -> Result<String, SyncError> {
    let row = ctx.db.run(move |c| connections::find(c, id)).await?;
    let def = ctx.registry.get(&row.connector).ok_or_else(|| not_oauth(&row.connector))?;
    let Auth::Oauth2AuthorizationCode { authorize_url, client_id, scopes, authorize_params, .. } = &def.auth else {
        return Err(not_oauth(&row.connector));
    };
    let params = row.params(&def, &ctx.secrets)?;
    let redirect = format!("{}/api/v1/connections/{id}/oauth/callback", ctx.settings.public_url());
    let client = BasicClient::new(ClientId::new(params.render(client_id)?))
        .set_auth_uri(AuthUrl::from_url(params.absolute(&params.render(authorize_url)?)?))
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).map_err(bad_url)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for s in scopes {
        req = req.add_scope(Scope::new(params.render(s)?));
    }
    for (k, v) in authorize_params {
        req = req.add_extra_param(k.clone(), params.render(v)?);
    }
    let (url, state) = req.url();
    let sealed = ctx.secrets.seal(verifier.secret().as_bytes())?;
    let state = state.secret().clone();
    ctx.db
        .run(move |c| {
            let now = crate::time::now();
            diesel::delete(oauth_states::table.filter(oauth_states::expires_at.lt(now))).execute(c)?;
            diesel::insert_into(oauth_states::table)
                .values((
                    oauth_states::state.eq(&state),
                    oauth_states::connection_id.eq(id),
                    oauth_states::verifier.eq(&sealed),
                    oauth_states::redirect_uri.eq(&redirect),
                    oauth_states::expires_at.eq(now + STATE_LIFETIME),
                ))
                .execute(c)
                .map_err(DbError::from)
        })
        .await?;
    Ok(url.to_string())
}

/// Checks the returned state, exchanges the code and stores the tokens with the connection.
pub async fn complete(ctx: &Context, id: ConnectionId, code: &str, state: &str) -> Result<(), SyncError> {
    let state = state.to_string();
    let taken: Option<(ConnectionId, String, String, chrono::NaiveDateTime)> = ctx
        .db
        .run(move |c| {
            crate::db::write_tx(c, |c| {
                let row = oauth_states::table
                    .find(&state)
                    .select((
                        oauth_states::connection_id,
                        oauth_states::verifier,
                        oauth_states::redirect_uri,
                        oauth_states::expires_at,
                    ))
                    .first(c)
                    .optional()?;
                // Single use: a replayed callback finds nothing.
                diesel::delete(oauth_states::table.find(&state)).execute(c)?;
                Ok::<_, diesel::result::Error>(row)
            })
            .map_err(DbError::from)
        })
        .await?;
    let refused = |m: &str| SyncError::Invalid { field: "state".into(), message: m.into() };
    let Some((owner, sealed, redirect, expires)) = taken else {
        return Err(refused("unknown or already used sign-in state; start again"));
    };
    if owner != id {
        return Err(refused("the sign-in state belongs to another connection"));
    }
    if expires < crate::time::now() {
        return Err(refused("the sign-in took longer than 10 minutes; start again"));
    }
    let verifier = String::from_utf8(ctx.secrets.open(&sealed)?).map_err(|_| refused("damaged sign-in state"))?;
    let row = ctx.db.run(move |c| connections::find(c, id)).await?;
    let def = ctx.registry.get(&row.connector).ok_or_else(|| not_oauth(&row.connector))?;
    let Auth::Oauth2AuthorizationCode { token_url, client_id, client_secret, .. } = &def.auth else {
        return Err(not_oauth(&row.connector));
    };
    let params = row.params(&def, &ctx.secrets)?;
    let mut client = BasicClient::new(ClientId::new(params.render(client_id)?))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::from_url(params.absolute(&params.render(token_url)?)?))
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(bad_url)?);
    if let Some(secret) = client_secret {
        client = client.set_client_secret(ClientSecret::new(params.render(secret)?));
    }
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&token_client())
        .await
        .map_err(|e| {
            crate::connectors::ConnectorError::Unauthorized(format!("the vendor refused the sign-in code: {e}"))
        })?;
    let mut tokens = crate::auth::Secrets::new();
    tokens.insert(ACCESS_TOKEN.into(), SecretString::from(token.access_token().secret().clone()));
    if let Some(r) = token.refresh_token() {
        tokens.insert(REFRESH_TOKEN.into(), SecretString::from(r.secret().clone()));
    }
    let sealer = ctx.secrets.clone();
    ctx.db.run(move |c| connections::store_tokens(c, &sealer, id, tokens)).await?;
    let actor = crate::audit::Actor(format!("oauth:{id}"));
    ctx.db
        .run(move |c| {
            crate::audit::record::<()>(c, &actor, "connection.sign_in", "connection", id, None, None)
                .map_err(DbError::from)
        })
        .await?;
    Ok(())
}
