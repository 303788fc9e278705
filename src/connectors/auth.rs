//! Authentication kinds: static headers (bearer, basic, custom), OAuth 2.0 client credentials and
//! authorization code with refresh (the `oauth2` crate, redirects disabled), Google's JWT-bearer
//! service account assertion, and vendor token exchanges (Zoom account credentials). Tokens are
//! cached for the run; authorization-code tokens are handed back to be stored sealed.

use super::definition::Auth;
use super::params::Params;
use super::ConnectorError;
use crate::auth::Secrets;
use base64::Engine;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, RefreshToken, Scope, TokenResponse, TokenUrl};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Secret names under which authorization-code tokens are stored with the connection's secrets.
pub const ACCESS_TOKEN: &str = "oauth_access_token";
/// The refresh token's secret name.
pub const REFRESH_TOKEN: &str = "oauth_refresh_token";

/// A client for token endpoints: no redirects (a token exchange must not be bounced elsewhere).
pub fn token_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(super::address::GuardedResolver::default()))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// Where a token exchange's answer holds the token and its lifetime (JSON pointers), if not
/// at the usual places.
#[derive(Clone, Copy)]
struct TokenPaths<'a> {
    token: Option<&'a str>,
    expires_in: Option<&'a str>,
}

struct Cached {
    token: SecretString,
    expires: Option<Instant>,
}

/// Adds credentials to requests, fetching and refreshing tokens as the auth kind needs.
pub struct Authenticator {
    auth: Auth,
    params: Params,
    http: reqwest::Client,
    cached: Mutex<Option<Cached>>,
    /// Tokens that changed (authorization code refresh), to be stored by the caller.
    changed: std::sync::Mutex<Option<Secrets>>,
}

fn oauth_error(what: &str, e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Unauthorized(format!("{what}: {e}"))
}

impl Authenticator {
    /// An authenticator for a definition's auth over a connection's values.
    pub fn new(auth: Auth, params: Params) -> Self {
        let cached = match &auth {
            // A stored access token is used until the vendor refuses it.
            Auth::Oauth2AuthorizationCode { .. } => {
                params.secrets.get(ACCESS_TOKEN).map(|t| Cached { token: t.clone(), expires: None })
            }
            _ => None,
        };
        Authenticator { auth, params, http: token_client(), cached: Mutex::new(cached), changed: Default::default() }
    }

    /// Adds the credentials to a request.
    pub async fn apply(&self, rb: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let p = &self.params;
        Ok(match &self.auth {
            Auth::None => rb,
            Auth::Bearer { token } => rb.bearer_auth(p.render(token)?),
            Auth::Basic { username, password } => rb.basic_auth(p.render(username)?, Some(p.render(password)?)),
            Auth::Header { name, value } => rb.header(name.as_str(), p.render(value)?),
            _ => rb.bearer_auth(self.token().await?.expose_secret()),
        })
    }

    /// Forgets a token the vendor refused, so the next request fetches or refreshes one.
    /// Returns false when there is nothing to refresh (a static credential was refused).
    pub async fn invalidate(&self) -> bool {
        if matches!(self.auth, Auth::None | Auth::Bearer { .. } | Auth::Basic { .. } | Auth::Header { .. }) {
            return false;
        }
        self.cached.lock().await.take().is_some()
    }

    /// Tokens obtained by refreshing, to be stored (sealed) with the connection.
    pub fn changed_tokens(&self) -> Option<Secrets> {
        self.changed.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    async fn token(&self) -> Result<SecretString, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if c.expires.is_none_or(|e| e > Instant::now() + Duration::from_secs(60)) {
                return Ok(c.token.clone());
            }
        }
        let (token, lifetime) = self.fetch().await?;
        let expires = lifetime.map(|l| Instant::now() + l);
        *cached = Some(Cached { token: token.clone(), expires });
        Ok(token)
    }

    async fn fetch(&self) -> Result<(SecretString, Option<Duration>), ConnectorError> {
        match &self.auth {
            Auth::Oauth2ClientCredentials { token_url, client_id, client_secret, scopes } => {
                self.client_credentials(token_url, client_id, client_secret, scopes).await
            }
            Auth::Oauth2AuthorizationCode { token_url, client_id, client_secret, .. } => {
                self.refresh(token_url, client_id, client_secret.as_deref()).await
            }
            Auth::JwtBearer { token_url, key, subject, scopes } => {
                self.jwt_bearer(token_url, key, subject.as_deref(), scopes).await
            }
            Auth::TokenExchange { token_url, basic, form, token, expires_in } => {
                let fields = TokenPaths { token: token.as_deref(), expires_in: expires_in.as_deref() };
                self.token_exchange(token_url, basic.as_ref(), form, fields).await
            }
            Auth::None | Auth::Bearer { .. } | Auth::Basic { .. } | Auth::Header { .. } => {
                Err(ConnectorError::Definition("this auth kind has no token to fetch".into()))
            }
        }
    }

    /// OAuth 2.0 client credentials: the client's own token.
    async fn client_credentials(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scopes: &[String],
    ) -> Result<(SecretString, Option<Duration>), ConnectorError> {
        let p = &self.params;
        let client = BasicClient::new(ClientId::new(p.render(client_id)?))
            .set_client_secret(ClientSecret::new(p.render(client_secret)?))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::from_url(p.absolute(&p.render(token_url)?)?));
        let mut req = client.exchange_client_credentials();
        for s in scopes {
            req = req.add_scope(Scope::new(p.render(s)?));
        }
        let t =
            req.request_async(&self.http).await.map_err(|e| oauth_error("client credentials refused", describe(&e)))?;
        Ok((SecretString::from(t.access_token().secret().clone()), t.expires_in()))
    }

    /// OAuth 2.0 authorization code: a new access token from the stored refresh token; the new
    /// tokens are kept for the caller to store.
    async fn refresh(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<(SecretString, Option<Duration>), ConnectorError> {
        let p = &self.params;
        let Some(refresh) = p.secrets.get(REFRESH_TOKEN) else {
            return Err(ConnectorError::Unauthorized(
                "the connection is not signed in: open /api/v1/connections/{id}/oauth/start".into(),
            ));
        };
        let mut client = BasicClient::new(ClientId::new(p.render(client_id)?))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::from_url(p.absolute(&p.render(token_url)?)?));
        if let Some(secret) = client_secret {
            client = client.set_client_secret(ClientSecret::new(p.render(secret)?));
        }
        let t = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose_secret().to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| oauth_error("the refresh token was refused; sign in again", describe(&e)))?;
        let access = SecretString::from(t.access_token().secret().clone());
        let mut stored = Secrets::new();
        stored.insert(ACCESS_TOKEN.into(), access.clone());
        let new_refresh = t.refresh_token().map(|r| r.secret().clone());
        stored.insert(REFRESH_TOKEN.into(), new_refresh.map(SecretString::from).unwrap_or_else(|| refresh.clone()));
        *self.changed.lock().unwrap_or_else(|e| e.into_inner()) = Some(stored);
        Ok((access, t.expires_in()))
    }

    /// A service account's signed assertion exchanged for a token (Google's JWT bearer).
    async fn jwt_bearer(
        &self,
        token_url: &str,
        key: &str,
        subject: Option<&str>,
        scopes: &[String],
    ) -> Result<(SecretString, Option<Duration>), ConnectorError> {
        let p = &self.params;
        let key_json: Value = serde_json::from_str(&p.render(key)?)
            .map_err(|_| ConnectorError::Setting("the service account key is not JSON".into()))?;
        let email = key_json["client_email"].as_str().unwrap_or_default().to_string();
        let pem = key_json["private_key"].as_str().unwrap_or_default();
        let signing = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|_| ConnectorError::Setting("the service account key holds no RSA private key".into()))?;
        let url = p.absolute(&p.render(token_url)?)?;
        let now = chrono::Utc::now().timestamp();
        let mut claims = serde_json::json!({
            "iss": email, "scope": scopes.join(" "), "aud": url.as_str(), "iat": now, "exp": now + 3600,
        });
        if let Some(sub) = subject {
            claims["sub"] = Value::String(p.render(sub)?);
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = key_json["private_key_id"].as_str().map(str::to_string);
        let assertion = jsonwebtoken::encode(&header, &claims, &signing)
            .map_err(|e| ConnectorError::Setting(format!("cannot sign the assertion: {e}")))?;
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
        self.exchange(self.http.post(url).form(&form), "/access_token", "/expires_in").await
    }

    /// A vendor's own token exchange (Zoom account credentials): a form, optionally with basic
    /// auth, answered with JSON holding the token.
    async fn token_exchange(
        &self,
        token_url: &str,
        basic: Option<&[String; 2]>,
        form: &BTreeMap<String, String>,
        paths: TokenPaths<'_>,
    ) -> Result<(SecretString, Option<Duration>), ConnectorError> {
        let p = &self.params;
        let url = p.absolute(&p.render(token_url)?)?;
        let mut rb = self.http.post(url);
        if let Some([user, pass]) = basic {
            let pair = format!("{}:{}", p.render(user)?, p.render(pass)?);
            rb =
                rb.header("authorization", format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)));
        }
        let fields: Vec<(String, String)> =
            form.iter().map(|(k, v)| Ok((k.clone(), p.render(v)?))).collect::<Result<_, ConnectorError>>()?;
        let rb = if fields.is_empty() { rb } else { rb.form(&fields) };
        self.exchange(rb, paths.token.unwrap_or("/access_token"), paths.expires_in.unwrap_or("/expires_in")).await
    }

    async fn exchange(
        &self,
        rb: reqwest::RequestBuilder,
        token: &str,
        expires: &str,
    ) -> Result<(SecretString, Option<Duration>), ConnectorError> {
        let request =
            rb.build().map_err(|e| ConnectorError::Network(format!("token endpoint: {}", e.without_url())))?;
        super::address::guard(request.url())?;
        let resp = self
            .http
            .execute(request)
            .await
            .map_err(|e| ConnectorError::Network(format!("token endpoint: {}", e.without_url())))?;
        let status = resp.status().as_u16();
        let raw = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            return Err(ConnectorError::Unauthorized(format!(
                "the token endpoint answered {status}{}",
                super::colon(&super::http::vendor_error(&OAUTH_ERRORS, &body))
            )));
        }
        let token = body.pointer(token).and_then(Value::as_str).ok_or_else(|| {
            ConnectorError::Unauthorized(format!("the token endpoint's reply has no token at {token}"))
        })?;
        let lifetime = body.pointer(expires).and_then(Value::as_u64).map(Duration::from_secs);
        Ok((SecretString::from(token.to_string()), lifetime))
    }
}

/// RFC 6749 §5.2: a token endpoint's own error code and description.
static OAUTH_ERRORS: std::sync::LazyLock<super::definition::ErrorFields> = std::sync::LazyLock::new(|| {
    super::definition::ErrorFields { code: Some("/error".into()), message: Some("/error_description".into()) }
});

/// A token endpoint's refusal in words, without echoing any secret it was sent.
fn describe<E: std::error::Error>(e: &oauth2::RequestTokenError<E, oauth2::basic::BasicErrorResponse>) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => {
            let detail = r.error_description().cloned().unwrap_or_default();
            // The vendor's own fields only, bounded like every other vendor error.
            format!("{} {detail}", r.error()).trim().chars().filter(|c| !c.is_control()).take(300).collect()
        }
        oauth2::RequestTokenError::Request(e) => format!("cannot reach the token endpoint: {e}"),
        oauth2::RequestTokenError::Parse(e, _) => format!("the token endpoint's reply is not OAuth JSON: {e}"),
        oauth2::RequestTokenError::Other(m) => m.clone(),
    }
}
