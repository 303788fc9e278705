//! SMTP delivery through lettre, with failures turned into advice a person can act on.

use super::OutboxEntry;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Why a message was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The settings are unusable (bad URL or From address).
    #[error("{0}")]
    Config(String),
    /// The message could not be built (a bad recipient address).
    #[error("{0}")]
    Message(String),
    /// The server refused for good (e.g. unknown mailbox, bad credentials); retrying will not help.
    #[error("{0}")]
    Permanent(String),
    /// The server could not be reached or refused for now; worth retrying.
    #[error("{0}")]
    Transient(String),
}

impl MailError {
    /// True when retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Config(_) | MailError::Message(_) | MailError::Permanent(_))
    }
}

/// Sends mail through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold credentials; show only where mail goes.
        f.debug_struct("Mailer").field("server", &self.server).field("from", &self.from.to_string()).finish()
    }
}

impl Mailer {
    /// A mailer for `smtp_url` sending as `from`.
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Config(format!("STACKWARD_MAIL_FROM {from:?} is not an address: {e}")))?;
        let parsed = url::Url::parse(smtp_url)
            .map_err(|e| MailError::Config(format!("STACKWARD_SMTP_URL is not a URL: {e}")))?;
        let server = format!("{}:{}", parsed.host_str().unwrap_or("?"), parsed.port_or_known_default().unwrap_or(25));
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailError::Config(format!("STACKWARD_SMTP_URL is not usable: {e}")))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Self { transport, from, server })
    }

    /// Where mail goes (host:port), for logs.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one outbox row.
    pub async fn send(&self, entry: &OutboxEntry) -> Result<(), MailError> {
        let parts = (&entry.subject[..], &entry.text_body[..], entry.html_body.as_deref());
        self.send_parts(&entry.recipient_list(), parts, Some(entry.message_id.clone())).await
    }

    /// Sends a message at once, outside the outbox (for what must not be stored or retried
    /// later, such as a short-lived sign-in link): (subject, text, html).
    pub async fn send_now(&self, recipients: &[&str], parts: (&str, &str, &str)) -> Result<(), MailError> {
        self.send_parts(recipients, (parts.0, parts.1, Some(parts.2)), None).await
    }

    async fn send_parts(
        &self,
        recipients: &[&str],
        (subject, text_body, html_body): (&str, &str, Option<&str>),
        message_id: Option<String>,
    ) -> Result<(), MailError> {
        let mut builder = Message::builder().from(self.from.clone()).subject(subject).message_id(message_id);
        for to in recipients {
            let mailbox: Mailbox =
                to.parse().map_err(|e| MailError::Message(format!("recipient {to:?} is not an address: {e}")))?;
            builder = builder.to(mailbox);
        }
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text_body.to_string());
        let message = match html_body {
            Some(html) => builder.multipart(
                MultiPart::alternative()
                    .singlepart(text)
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.to_string())),
            ),
            None => builder.singlepart(text),
        }
        .map_err(|e| MailError::Message(format!("the message cannot be built: {e}")))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| advice(&self.server, &e))
    }
}

/// Turns an SMTP failure into advice, and says whether retrying can help.
fn advice(server: &str, e: &SmtpError) -> MailError {
    if let Some(code) = e.status() {
        let code_text = code.to_string();
        let hint = match code_text.as_str() {
            "535" | "534" | "530" => {
                "the SMTP credentials were refused or are required; check the user and password in STACKWARD_SMTP_URL"
            }
            "550" | "551" | "553" => {
                "the server refused a recipient or the From address; check the address and STACKWARD_MAIL_FROM"
            }
            "552" | "452" => "the server is out of space or the message is too large",
            "421" | "450" | "451" => "the server is busy or greylisting; it will be retried",
            _ => "the SMTP server refused the message",
        };
        let msg = format!("{code_text}: {hint} (server {server}: {e})");
        return if e.is_permanent() { MailError::Permanent(msg) } else { MailError::Transient(msg) };
    }
    if e.is_timeout() {
        return MailError::Transient(format!("the SMTP server at {server} did not answer in time; it will be retried"));
    }
    if e.is_tls() {
        return MailError::Transient(format!(
            "TLS with the SMTP server at {server} failed ({e}); use smtps:// for port 465, or check its certificate"
        ));
    }
    MailError::Transient(format!("cannot reach the SMTP server at {server} ({e}); is it running? It will be retried"))
}
