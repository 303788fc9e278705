//! Single sign-on with OpenID Connect: authorization code flow with PKCE; state and nonce
//! checked; the ID token's signature, issuer, audience and expiry verified against the
//! provider's discovery document and JWKS (fetched at each sign-in, so key rotation needs no
//! restart). Roles come from a groups claim through a map. Reads the `oidc_*` settings.

use super::{Role, SecretBox};
use crate::config::Settings;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a started sign-in may take at the provider.
const PENDING_SECONDS: i64 = 600;

/// Why single sign-on is misconfigured or a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The settings are unusable; stackward does not start.
    #[error("{0}")]
    Config(String),
    /// The provider could not be reached or answered wrongly.
    #[error("the identity provider failed: {0}")]
    Provider(String),
    /// The answer was refused: wrong state, bad or expired token, no verified email.
    #[error("sign-in refused: {0}")]
    Refused(String),
}

/// Claims beyond the standard ones, kept whole so the roles claim can be any name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExtraClaims {
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The configured provider.
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    roles_claim: String,
    role_map: Vec<(Role, String)>,
    redirect: RedirectUrl,
    http: reqwest::Client,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("roles_claim", &self.roles_claim)
            .field("role_map", &self.role_map)
            .finish_non_exhaustive()
    }
}

/// A sign-in started at the provider: what the callback must match. Kept sealed in a cookie.
#[derive(Serialize, Deserialize)]
pub struct PendingSignIn {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    started: i64,
}

impl PendingSignIn {
    /// Where to go after signing in.
    pub fn next(&self) -> &str {
        &self.next
    }

    /// Sealed for a cookie (encrypted and authenticated).
    pub fn seal(&self, sealer: &SecretBox) -> Result<String, OidcError> {
        let json = serde_json::to_vec(self).map_err(|e| OidcError::Config(e.to_string()))?;
        sealer.seal(&json).map_err(|e| OidcError::Config(e.to_string()))
    }

    /// Opens what [`PendingSignIn::seal`] made; none when damaged or from another key.
    pub fn open(sealed: &str, sealer: &SecretBox) -> Option<Self> {
        serde_json::from_slice(&sealer.open(sealed).ok()?).ok()
    }
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// Their email, lower-case.
    pub email: String,
    /// Their name, when given.
    pub name: Option<String>,
    /// Roles from the roles claim through the map (empty: employee).
    pub roles: Vec<Role>,
}

/// `admin=group,it=group` into (role, group) pairs.
fn parse_role_map(text: &str) -> Result<Vec<(Role, String)>, OidcError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((role, group)) = part.split_once('=') else {
            return Err(OidcError::Config(format!(
                "STACKWARD_OIDC_ROLE_MAP: {part:?} is not role=group (e.g. admin=stackward-admins)"
            )));
        };
        let role: Role = role.trim().parse().map_err(|e| OidcError::Config(format!("STACKWARD_OIDC_ROLE_MAP: {e}")))?;
        let group = group.trim();
        if group.is_empty() {
            return Err(OidcError::Config(format!("STACKWARD_OIDC_ROLE_MAP: {part:?} names no group")));
        }
        out.push((role, group.to_string()));
    }
    Ok(out)
}

/// Refuses an issuer that is not https, except http on a loopback host (a local test provider).
fn checked_issuer(text: &str) -> Result<IssuerUrl, OidcError> {
    let bad = |m: String| OidcError::Config(format!("STACKWARD_OIDC_ISSUER_URL: {m}"));
    let url = url::Url::parse(text.trim()).map_err(|e| bad(format!("{text:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(bad("must be https:// (http:// is accepted only on a loopback host)".into())),
        other => return Err(bad(format!("scheme {other}: must be https://"))),
    }
    // The issuer is compared as text with the discovery document's; keep it as the admin wrote it.
    IssuerUrl::new(text.trim().to_string()).map_err(|e| bad(e.to_string()))
}

impl Oidc {
    /// The provider the settings configure, or none when no issuer is set.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, OidcError> {
        let Some(issuer) = settings.oidc_issuer_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let issuer = checked_issuer(issuer)?;
        let client_id =
            settings.oidc_client_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
                OidcError::Config("STACKWARD_OIDC_CLIENT_ID must be set with STACKWARD_OIDC_ISSUER_URL".into())
            })?;
        let secret = match (&settings.oidc_client_secret, &settings.oidc_client_secret_file) {
            (Some(_), Some(_)) => {
                return Err(OidcError::Config(
                    "set STACKWARD_OIDC_CLIENT_SECRET or STACKWARD_OIDC_CLIENT_SECRET_FILE, not both".into(),
                ))
            }
            (Some(s), None) => Some(s.trim().to_string()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        OidcError::Config(format!("STACKWARD_OIDC_CLIENT_SECRET_FILE {}: {e}", path.display()))
                    })?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        let roles_claim = settings.oidc_roles_claim.trim().to_string();
        if roles_claim.is_empty() {
            return Err(OidcError::Config("STACKWARD_OIDC_ROLES_CLAIM must name a claim".into()));
        }
        let redirect = RedirectUrl::new(format!("{}/auth/callback", settings.public_url()))
            .map_err(|e| OidcError::Config(format!("STACKWARD_PUBLIC_URL: {e}")))?;
        // Token exchange must not follow redirects (a redirect could carry the code elsewhere).
        let http = reqwest::Client::builder()
            .user_agent(concat!("stackward/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))?;
        Ok(Some(Oidc {
            issuer,
            client_id: ClientId::new(client_id.to_string()),
            client_secret: secret.filter(|s| !s.is_empty()).map(ClientSecret::new),
            roles_claim,
            role_map: parse_role_map(&settings.oidc_role_map)?,
            redirect,
            http,
        }))
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    async fn client(&self) -> Result<OidcClient, OidcError> {
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| OidcError::Provider(format!("discovery at {}: {}", self.issuer.as_str(), chain(&e))))?;
        Ok(OidcClient::from_provider_metadata(metadata, self.client_id.clone(), self.client_secret.clone())
            .set_redirect_uri(self.redirect.clone()))
    }

    /// Starts a sign-in: the provider URL to send the browser to, and what the callback must match.
    pub async fn begin(&self, next: &str) -> Result<(url::Url, PendingSignIn), OidcError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingSignIn {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: super::links::local_path(Some(next)),
            started: chrono::Utc::now().timestamp(),
        };
        Ok((url, pending))
    }

    /// Finishes a sign-in from the callback's `code` and `state`.
    pub async fn finish(&self, pending: PendingSignIn, code: &str, state: &str) -> Result<ProviderIdentity, OidcError> {
        if chrono::Utc::now().timestamp() - pending.started > PENDING_SECONDS {
            return Err(OidcError::Refused("the sign-in took too long; start again".into()));
        }
        // The state ties the callback to the browser that started the sign-in (login CSRF).
        if !constant_time_eq(state.as_bytes(), pending.state.as_bytes()) {
            return Err(OidcError::Refused("the state does not match this browser's sign-in".into()));
        }
        let client = self.client().await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Provider(format!("the provider names no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Provider(format!("token exchange: {}", chain(&e))))?;
        let id_token = response.id_token().ok_or_else(|| OidcError::Refused("the provider sent no ID token".into()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
            .map_err(|e| OidcError::Refused(format!("the ID token is not valid: {}", chain(&e))))?;
        let email = claims
            .email()
            .map(|e| e.as_str().trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| OidcError::Refused("the ID token carries no email; allow the email scope".into()))?;
        // Providers that verify addresses say so; one that says false is not trusted.
        if claims.email_verified() == Some(false) {
            return Err(OidcError::Refused(format!("the provider has not verified {email}")));
        }
        let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
        let roles = self.roles_from(claims.additional_claims().other.get(&self.roles_claim));
        Ok(ProviderIdentity { email, name, roles })
    }

    /// The roles a claim value (a list of groups or one group) maps to.
    fn roles_from(&self, claim: Option<&serde_json::Value>) -> Vec<Role> {
        let groups: Vec<&str> = match claim {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
            Some(serde_json::Value::String(one)) => one.split([',', ' ']).filter(|g| !g.is_empty()).collect(),
            _ => Vec::new(),
        };
        let mut roles: Vec<Role> =
            self.role_map.iter().filter(|(_, g)| groups.contains(&g.as_str())).map(|(r, _)| *r).collect();
        roles.dedup();
        roles
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An error with its causes, for messages.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(flags: &[&str]) -> Settings {
        Settings::from_flags(flags).unwrap()
    }

    #[test]
    fn issuer_must_be_https_unless_loopback() {
        assert!(checked_issuer("https://id.example.com").is_ok());
        assert!(checked_issuer("http://127.0.0.1:9000").is_ok());
        assert!(checked_issuer("http://localhost:9000/realms/x").is_ok());
        assert!(checked_issuer("http://[::1]:9000").is_ok());
        assert!(matches!(checked_issuer("http://id.example.com"), Err(OidcError::Config(_))));
        assert!(matches!(checked_issuer("http://10.0.0.5"), Err(OidcError::Config(_))));
        assert!(matches!(checked_issuer("ftp://id.example.com"), Err(OidcError::Config(_))));
    }

    #[test]
    fn settings_configure_the_provider_and_its_role_map() {
        assert!(Oidc::from_settings(&settings(&[])).unwrap().is_none());
        let no_client = settings(&["--oidc-issuer-url", "https://id.example.com"]);
        assert!(matches!(Oidc::from_settings(&no_client), Err(OidcError::Config(_))));
        let s = settings(&[
            "--oidc-issuer-url",
            "https://id.example.com",
            "--oidc-client-id",
            "stackward",
            "--oidc-client-secret",
            "very-secret",
            "--oidc-role-map",
            "admin=stackward-admins, it=it-team,finance=finance,it=ops",
        ]);
        let o = Oidc::from_settings(&s).unwrap().unwrap();
        assert!(!format!("{o:?}").contains("very-secret"));
        let groups = serde_json::json!(["it-team", "ops", "other"]);
        assert_eq!(o.roles_from(Some(&groups)), vec![Role::It]);
        let groups = serde_json::json!(["stackward-admins", "finance"]);
        assert_eq!(o.roles_from(Some(&groups)), vec![Role::Admin, Role::Finance]);
        assert_eq!(o.roles_from(Some(&serde_json::json!("finance"))), vec![Role::Finance]);
        assert!(o.roles_from(None).is_empty());
        for bad in ["admin", "wizard=x", "admin="] {
            let s = settings(&[
                "--oidc-issuer-url",
                "https://id.example.com",
                "--oidc-client-id",
                "c",
                "--oidc-role-map",
                bad,
            ]);
            assert!(matches!(Oidc::from_settings(&s), Err(OidcError::Config(_))), "{bad}");
        }
    }

    #[test]
    fn a_pending_sign_in_is_sealed_and_refused_when_tampered() {
        let sealer = SecretBox::from_key(&[3; 32]);
        let p = PendingSignIn {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".repeat(43),
            next: "/apps".into(),
            started: 1,
        };
        let sealed = p.seal(&sealer).unwrap();
        assert!(!sealed.contains("vvvv"));
        assert_eq!(PendingSignIn::open(&sealed, &sealer).unwrap().next(), "/apps");
        assert!(PendingSignIn::open(&sealed, &SecretBox::from_key(&[4; 32])).is_none());
        assert!(PendingSignIn::open("v1:garbage", &sealer).is_none());
    }
}
