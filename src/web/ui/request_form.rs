//! `/requests/new`: ask for a new tool (or more seats of one the stack has). Before a new-tool
//! request is sent the page shows the advice — apps of the same category with unused seats —
//! and offers "ask for seats of X instead"; sending anyway records the requester's answer.
//! The same form changes and resends a request whose approver asked for changes.

use super::act;
use super::error::PageError;
use super::forms::{self, Form};
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::db::Page;
use crate::inventory::{apps, AppFilter, AppId, AppStatus};
use crate::web::access::ANYONE;
use crate::workflow::{self, Advice, DataClass, RequestDetail, RequestId, RequestInput, RequestKind};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the form holds, by the API's field names (money in currency units as `annual_cost`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct RequestForm {
    kind: Option<RequestKind>,
    name: Option<String>,
    vendor: Option<String>,
    website: Option<String>,
    purpose: Option<String>,
    seats: Option<i64>,
    annual_cost: Option<String>,
    currency: Option<String>,
    data_class: Option<DataClass>,
    needed_by: Option<NaiveDate>,
    app_id: Option<AppId>,
    advice_response: Option<String>,
    /// Set once the requester has seen the advice and sends anyway.
    confirmed: Option<String>,
    /// The request being changed and sent again.
    resubmit: Option<RequestId>,
}

/// `1,200.50` in `currency` as minor units, refusing more decimals than the currency has.
fn minor_units(text: &str, currency: &str) -> Result<i64, PageError> {
    let bad = |m: &str| PageError::Invalid { field: Some("annual_cost".into()), message: m.into() };
    let exp = iso_currency::Currency::from_code(currency.trim().to_uppercase().as_str())
        .and_then(|c| c.exponent())
        .unwrap_or(2) as usize;
    let clean: String = text.trim().chars().filter(|c| *c != ',' && *c != ' ').collect();
    let (whole, frac) = clean.split_once('.').unwrap_or((&clean, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("must be an amount such as 1200 or 1200.50"));
    }
    if frac.len() > exp {
        return Err(bad(&format!("has more decimals than {currency} uses ({exp})")));
    }
    let whole: i64 = whole.parse().map_err(|_| bad("is too large"))?;
    let frac: i64 =
        if frac.is_empty() { 0 } else { format!("{frac:0<exp$}").parse().map_err(|_| bad("is not a number"))? };
    whole.checked_mul(10i64.pow(exp as u32)).and_then(|w| w.checked_add(frac)).ok_or_else(|| bad("is too large"))
}

impl RequestForm {
    fn input(&self) -> Result<RequestInput, PageError> {
        let annual_cost_cents = match &self.annual_cost {
            Some(t) => Some(minor_units(t, self.currency.as_deref().unwrap_or("USD"))?),
            None => None,
        };
        Ok(RequestInput {
            kind: if self.resubmit.is_some() { None } else { Some(self.kind.unwrap_or(RequestKind::NewTool)) },
            name: self.name.clone(),
            vendor: self.vendor.clone(),
            website: self.website.clone(),
            purpose: self.purpose.clone(),
            seats: self.seats,
            annual_cost_cents,
            currency: self.currency.clone().map(|c| c.trim().to_uppercase()),
            data_class: self.data_class,
            needed_by: self.needed_by,
            app_id: self.app_id,
            advice_response: self.advice_response.clone(),
            ..Default::default()
        })
    }

    fn from_detail(r: &RequestDetail) -> Self {
        RequestForm {
            kind: Some(r.kind),
            name: r.name.clone(),
            vendor: r.vendor.clone(),
            website: r.website.clone(),
            purpose: r.purpose.clone(),
            seats: r.seats,
            annual_cost: r.annual_cost_cents.map(|c| format!("{}.{:02}", c / 100, c % 100)),
            currency: r.currency.clone(),
            data_class: Some(r.data_class),
            needed_by: r.needed_by,
            app_id: r.app_id,
            advice_response: r.advice_response.clone(),
            confirmed: None,
            resubmit: Some(r.id),
        }
    }
}

/// Approved apps to ask for seats of.
fn approved_apps(c: &mut crate::db::Conn) -> Result<Vec<apps::App>, PageError> {
    let filter = AppFilter { status: Some(AppStatus::Approved), ..Default::default() };
    Ok(apps::list(c, &filter, Page::first(500))?.0)
}

async fn show_form(
    ctx: &Context,
    viewer: &Viewer,
    form: RequestForm,
    advice: Option<Advice>,
    error: Option<PageError>,
) -> Result<HttpResponse, PageError> {
    let apps = ctx.db.run(approved_apps).await?;
    let status = match &error {
        Some(e) => actix_web::ResponseError::status_code(e),
        None => StatusCode::OK,
    };
    let (error_field, error_message) = match &error {
        Some(PageError::Invalid { field, message }) => (field.clone(), Some(message.clone())),
        Some(e) => (None, Some(e.to_string())),
        None => (None, None),
    };
    let kind = form.kind.unwrap_or(RequestKind::NewTool).as_str();
    let title = match (form.resubmit, kind) {
        (Some(id), _) => format!("Change request #{id}"),
        (None, "add_seats") => "Ask for seats".to_string(),
        _ => "Request a tool".to_string(),
    };
    let data_classes: Vec<&str> = DataClass::ALL.iter().map(|d| d.as_str()).collect();
    let ctx = minijinja::context! {
        title, active => "/requests", kind, f => form, apps, advice, data_classes, error_field, error_message,
    };
    let body = render::to_string(viewer, "request_new.html", ctx)?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    kind: Option<RequestKind>,
    app_id: Option<AppId>,
    resubmit: Option<RequestId>,
}

/// The empty form (or prefilled: `?kind=add_seats&app_id=`, `?resubmit=ID`).
#[get("/requests/new")]
pub async fn blank(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let q: NewQuery = forms::query(&req)?;
    let form = match q.resubmit {
        Some(id) => {
            let who = viewer.decider.clone();
            let r = ctx.db.run(move |c| workflow::show(c, &who, id)).await?;
            RequestForm::from_detail(&r)
        }
        None => RequestForm { kind: q.kind, app_id: q.app_id, ..Default::default() },
    };
    show_form(&ctx, &viewer, form, None, None).await
}

/// Sends the form: first shows the advice when the stack has a tool of the same category,
/// then makes (or resends) the request and shows it.
#[post("/requests/new")]
pub async fn submit(ctx: web::Data<Context>, viewer: Viewer, form: Form) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let f: RequestForm = form.parse(&viewer)?;
    let input = match f.input() {
        Ok(i) => i,
        Err(e) => return show_form(&ctx, &viewer, f, None, Some(e)).await,
    };
    let needs_advice = f.resubmit.is_none() && input.kind == Some(RequestKind::NewTool) && f.confirmed.is_none();
    let (resubmit, form_again) = (f.resubmit, f.clone());
    let outcome = act::as_viewer(&ctx, &viewer, move |c, env, who, now| {
        if needs_advice {
            if let Some(a) = workflow::preview_advice(c, env, who, input.clone(), now)? {
                if !a.apps.is_empty() {
                    return Ok::<_, PageError>(Err(a));
                }
            }
        }
        let r = match resubmit {
            Some(id) => workflow::resubmit(c, env, who, id, input, now)?,
            None => workflow::submit(c, env, who, input, now)?,
        };
        Ok(Ok(r.id))
    })
    .await;
    match outcome {
        Ok(Ok(id)) => Ok(render::see_other(&format!("/requests/{id}"))),
        Ok(Err(advice)) => show_form(&ctx, &viewer, form_again, Some(advice), None).await,
        Err(e @ PageError::Invalid { .. }) | Err(e @ PageError::Conflict(_)) => {
            show_form(&ctx, &viewer, form_again, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::minor_units;

    #[test]
    fn money_in_currency_units_becomes_minor_units() {
        assert_eq!(minor_units("1,200.5", "USD").unwrap(), 120_050);
        assert_eq!(minor_units("1200", "EUR").unwrap(), 120_000);
        assert_eq!(minor_units("5000", "JPY").unwrap(), 5000);
        assert!(minor_units("12.345", "USD").is_err());
        assert!(minor_units("1.5", "JPY").is_err());
        assert!(minor_units("-3", "USD").is_err());
        assert!(minor_units("abc", "USD").is_err());
    }
}
