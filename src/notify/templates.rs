//! Message templates (minijinja): a subject, a plain-text body and an HTML body per kind of
//! message, compiled into the binary. HTML templates escape every value.

use minijinja::Environment;
use serde::Serialize;
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    ("renewal_reminder.subject.txt", include_str!("templates/renewal_reminder.subject.txt")),
    ("renewal_reminder.txt", include_str!("templates/renewal_reminder.txt")),
    ("renewal_reminder.html", include_str!("templates/renewal_reminder.html")),
    ("owner_digest.subject.txt", include_str!("templates/owner_digest.subject.txt")),
    ("owner_digest.txt", include_str!("templates/owner_digest.txt")),
    ("owner_digest.html", include_str!("templates/owner_digest.html")),
    ("test.subject.txt", include_str!("templates/test.subject.txt")),
    ("test.txt", include_str!("templates/test.txt")),
    ("test.html", include_str!("templates/test.html")),
    ("request_pending.subject.txt", include_str!("templates/request_pending.subject.txt")),
    ("request_pending.txt", include_str!("templates/request_pending.txt")),
    ("request_pending.html", include_str!("templates/request_pending.html")),
    ("request_update.subject.txt", include_str!("templates/request_update.subject.txt")),
    ("request_update.txt", include_str!("templates/request_update.txt")),
    ("request_update.html", include_str!("templates/request_update.html")),
    ("request_task.subject.txt", include_str!("templates/request_task.subject.txt")),
    ("request_task.txt", include_str!("templates/request_task.txt")),
    ("request_task.html", include_str!("templates/request_task.html")),
    ("signin_link.subject.txt", include_str!("templates/signin_link.subject.txt")),
    ("signin_link.txt", include_str!("templates/signin_link.txt")),
    ("signin_link.html", include_str!("templates/signin_link.html")),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            // The templates are compiled in and covered by tests; a syntax error is a build defect.
            env.add_template(name, source).expect("built-in template parses");
        }
        env
    })
}

/// Renders message `kind` with `context`: (subject, text, html).
pub fn render<T: Serialize>(kind: &str, context: &T) -> Result<(String, String, String), minijinja::Error> {
    let env = env();
    let one = |suffix: &str| env.get_template(&format!("{kind}.{suffix}"))?.render(context);
    let subject = one("subject.txt")?.trim().to_string();
    Ok((subject, one("txt")?, one("html")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_text_does_not() {
        let ctx = serde_json::json!({"link": "http://x/<a>", "sent_at": "now", "actor": "<b>me</b>"});
        let (subject, text, html) = render("test", &ctx).unwrap();
        assert_eq!(subject, "stackward test email");
        assert!(text.contains("<b>me</b>"));
        assert!(html.contains("&lt;b&gt;me") && !html.contains("<b>me"), "{html}");
        assert!(render("test", &serde_json::json!({})).is_err(), "a missing value is an error, not a blank");
    }
}
