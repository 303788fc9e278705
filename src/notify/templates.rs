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
    ("request_provision.subject.txt", include_str!("templates/request_provision.subject.txt")),
    ("request_provision.txt", include_str!("templates/request_provision.txt")),
    ("request_provision.html", include_str!("templates/request_provision.html")),
    ("stale_sync.subject.txt", include_str!("templates/stale_sync.subject.txt")),
    ("stale_sync.txt", include_str!("templates/stale_sync.txt")),
    ("stale_sync.html", include_str!("templates/stale_sync.html")),
    ("signin_link.subject.txt", include_str!("templates/signin_link.subject.txt")),
    ("signin_link.txt", include_str!("templates/signin_link.txt")),
    ("signin_link.html", include_str!("templates/signin_link.html")),
    ("access_review_start.subject.txt", include_str!("templates/access_review_start.subject.txt")),
    ("access_review_start.txt", include_str!("templates/access_review_start.txt")),
    ("access_review_start.html", include_str!("templates/access_review_start.html")),
    ("access_review_reminder.subject.txt", include_str!("templates/access_review_reminder.subject.txt")),
    ("access_review_reminder.txt", include_str!("templates/access_review_reminder.txt")),
    ("access_review_reminder.html", include_str!("templates/access_review_reminder.html")),
    ("check_in.subject.txt", include_str!("templates/check_in.subject.txt")),
    ("check_in.txt", include_str!("templates/check_in.txt")),
    ("check_in.html", include_str!("templates/check_in.html")),
];

#[expect(
    clippy::expect_used,
    reason = "the templates are compiled in and covered by tests: a syntax error is a build defect"
)]
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("count", count);
        for (name, source) in TEMPLATES {
            // The templates are compiled in and covered by tests; a syntax error is a build defect.
            env.add_template(name, source).expect("built-in template parses");
        }
        env
    })
}

/// `{{ n|count("day") }}`: "1 day", "3 days"; an irregular plural is given after the word
/// (`{{ n|count("person", "people") }}`).
fn count(n: i64, one: &str, many: Option<&str>) -> String {
    match (n, many) {
        (1 | -1, _) => format!("{n} {one}"),
        (_, Some(many)) => format!("{n} {many}"),
        (_, None) => format!("{n} {one}s"),
    }
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

    #[test]
    fn counts_read_right_for_one_and_many() {
        let mut env = Environment::new();
        env.add_filter("count", count);
        let t = "{{ a|count('day') }}, {{ b|count('day') }}, {{ c|count('seat') }}, {{ d|count('person', 'people') }}";
        let out = env.render_str(t, serde_json::json!({"a": 1, "b": 3, "c": 0, "d": 2})).unwrap();
        assert_eq!(out, "1 day, 3 days, 0 seats, 2 people");
    }
}
