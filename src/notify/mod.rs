//! Notify: the outbox, message templates and SMTP delivery. Mail is written to the outbox in the
//! same transaction as the change that causes it, under a unique key, and delivered by a worker
//! with retries and backoff. Reads `smtp_url` and `mail_from`.

mod deliver;
mod mailer;
pub mod outbox;
mod templates;

pub use deliver::{deliver_due, deliver_one, DeliveryReport};
pub use mailer::{MailError, Mailer};
pub use outbox::{Email, OutboxEntry, OutboxId, OutboxStatus};
pub use templates::render;

/// Mails a one-time sign-in link to `email` now (never through the outbox, which stores bodies).
pub async fn send_signin_link(mailer: &Mailer, email: &str, link: &str) -> Result<(), MailError> {
    let context = serde_json::json!({"email": email, "link": link});
    let (subject, text, html) =
        render("signin_link", &context).map_err(|e| MailError::Message(format!("sign-in link template: {e}")))?;
    mailer.send_now(&[email], (&subject, &text, &html)).await
}
