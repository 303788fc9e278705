//! `/check-ins/{id}`: an app owner's quarterly check-in — still needed? the right number of
//! seats (bought and active shown)? keep, reduce or cancel at renewal? — answered after sign-in
//! (the check-in mail links here). The owner or an admin answers; inventory readers may look.

use super::error::PageError;
use super::forms::Form;
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::inventory::apps;
use crate::stack_audit::checkins::{self, CheckInId};
use crate::web::access::{ANYONE, INVENTORY_READERS};
use crate::web::api::check_ins::{body, AnswersBody};
use crate::web::extract::path_id;
use actix_web::{get, post, web, HttpResponse};

/// The check-in's questions, or its answers once given (which its owner may change).
#[get("/check-ins/{id}")]
pub async fn show(ctx: web::Data<Context>, viewer: Viewer, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let id: CheckInId = path_id("check-in", &id)?;
    let (check_in, app) = ctx
        .db
        .run(move |c| -> Result<_, PageError> {
            let ci = checkins::find(c, id)?;
            let app = apps::find(c, ci.app_id)?.name;
            Ok((ci, app))
        })
        .await?;
    let own = viewer.is(&check_in.owner_email);
    if !own && !viewer.has_any(INVENTORY_READERS) {
        return Err(PageError::Forbidden(format!(
            "This check-in asks {}, the app's owner; only they (or an admin) answer it.",
            check_in.owner_email
        )));
    }
    let may_answer = own || viewer.has_any(&[crate::auth::Role::Admin]);
    let ctx = minijinja::context! {
        title => format!("{} check-in: {app}", check_in.quarter), active => "/apps",
        c => body(check_in), app, may_answer,
    };
    render::page(&viewer, "check_in.html", ctx)
}

/// Stores the owner's answers (answering again replaces them).
#[post("/check-ins/{id}")]
pub async fn answer(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let answers = form.parse::<AnswersBody>(&viewer)?.into_answers()?;
    let id: CheckInId = path_id("check-in", &id)?;
    let who = viewer.decider.clone();
    ctx.db.run(move |c| checkins::answer(c, &who, id, answers, crate::time::now())).await?;
    Ok(render::see_other(&format!("/check-ins/{id}")))
}
