//! The connector call: a write action a definition offers (`[[action]]`, e.g. `reclaim`), one
//! request per account, with the connection's auth and throttling. It never touches the
//! database; the runner records what it did.

use crate::connectors::auth::Authenticator;
use crate::connectors::http::Sender;
use crate::connectors::params::fill;
use crate::connectors::{ConnectorError, Definition, Params};

/// The account an action acts on, as its templates see it (`{account.external_id}` …).
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The vendor's id.
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Licence or SKU.
    pub licence: Option<String>,
}

impl Target {
    fn value(&self, name: &str) -> Option<String> {
        match name {
            "account.external_id" => self.external_id.clone(),
            "account.email" => self.email.clone(),
            "account.username" => self.username.clone(),
            "account.licence" => self.licence.clone(),
            _ => None,
        }
    }
}

fn segment(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Runs action `name` of `def` against each target, in order; one result per target.
pub async fn run(
    def: &Definition,
    name: &str,
    params: Params,
    client: reqwest::Client,
    targets: &[Target],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let Some(action) = def.actions.iter().find(|a| a.name == name) else {
        return Err(ConnectorError::Definition(format!("connector {} has no {name} action", def.name)));
    };
    let method = reqwest::Method::from_bytes(action.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| ConnectorError::Definition(format!("action {name}: bad method")))?;
    let sender = Sender::new(client, def.throttle.clone(), def.body_errors.clone(), 10 * targets.len() as u64 + 10);
    let auth = Authenticator::new(def.auth.clone(), params.clone());
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let lookup = |n: &str, encode: bool| {
            t.value(n).map(|v| if encode { segment(&v) } else { v }).or_else(|| params.value(n))
        };
        let one = async {
            let path = fill(&action.path, |n| lookup(n, true)).map_err(ConnectorError::Definition)?;
            let url = if path.starts_with("http") { params.absolute(&path)? } else { params.under_base(&path)? };
            let body = match &action.body {
                Some(b) => Some(fill(b, |n| lookup(n, false)).map_err(ConnectorError::Definition)?),
                None => None,
            };
            let headers: Vec<(String, String)> = action
                .headers
                .iter()
                .map(|(k, v)| Ok((k.clone(), fill(v, |n| lookup(n, false)).map_err(ConnectorError::Definition)?)))
                .collect::<Result<_, ConnectorError>>()?;
            let authed = auth.apply(sender.client().request(method.clone(), url.clone())).await?;
            sender
                .send(|| {
                    let mut rb =
                        authed.try_clone().unwrap_or_else(|| sender.client().request(method.clone(), url.clone()));
                    for (k, v) in &headers {
                        rb = rb.header(k.as_str(), v.as_str());
                    }
                    match &body {
                        Some(b) if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) => {
                            rb.header("content-type", "application/json").body(b.clone())
                        }
                        Some(b) => rb.body(b.clone()),
                        None => rb,
                    }
                })
                .await
                .map(|_| ())
        };
        out.push(one.await);
    }
    Ok(out)
}
