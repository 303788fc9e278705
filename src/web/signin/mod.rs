//! Signing in to the pages: the sign-in page, OpenID Connect redirect and callback, one-time
//! links, sign-out; the signed-in `Visitor` and `FormPost` extractors that pages use; and the
//! page-shaped errors (a signed-out visit redirects to sign-in and back; a role that may not
//! see a page gets a 403 page).

mod form;
mod handlers;
mod page;
mod visitor;

pub use form::FormPost;
pub use handlers::{callback, grant_role, link_get, link_post, login, logout, mail_link, users_page};
pub use page::{render, PageError};
pub use visitor::Visitor;
