//! The approval policy: an ordered list of steps in TOML, each naming who decides and, as a
//! CEL condition over the request, when it applies. A policy is checked whole when it is
//! loaded (TOML syntax, unknown fields, every condition compiled and tried on a sample
//! request), so a bad one is refused with its line or step and the old one stays in force.

use super::error::{Result, WorkflowError};
use crate::auth::Role;
use serde::{Deserialize, Serialize};

/// The policy in force until an admin replaces it (see the file for its rules).
pub const DEFAULT_POLICY: &str = include_str!("default_policy.toml");

/// Hours before a pending step's approvers are reminded, when a step sets none.
pub const DEFAULT_SLA_HOURS: u32 = 48;

/// Longest SLA or escalation period a step may set: a year.
const MAX_HOURS: u32 = 24 * 366;

crate::text_enum!(
    /// Who decides a step.
    ApproverKind {
        /// The requester's manager (`manager_email` of their person record).
        Manager => "manager",
        /// Anyone holding the step's `role`.
        Role => "role",
        /// The owner of the app the request concerns.
        AppOwner => "app_owner",
        /// The person named by the step's `email`.
        Person => "person",
    }
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    step: Vec<StepFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    name: String,
    approver: ApproverKind,
    role: Option<Role>,
    email: Option<String>,
    when: Option<String>,
    sla_hours: Option<u32>,
    escalate_after_hours: Option<u32>,
    fallback: Option<Role>,
}

/// One step of a loaded policy, with its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PolicyStep {
    /// Unique name, shown on the request's steps.
    pub name: String,
    /// Who decides.
    pub approver: ApproverKind,
    /// For `role` approvers: the role.
    pub role: Option<Role>,
    /// For `person` approvers: their email.
    pub email: Option<String>,
    /// CEL condition over `request`; none = always applies.
    pub when: Option<String>,
    /// Hours before the approvers are reminded (default 48).
    pub sla_hours: u32,
    /// Hours before the step escalates to `fallback` (default twice the SLA).
    pub escalate_after_hours: u32,
    /// The role a step goes to when it has nobody to ask, or escalates (default admin).
    pub fallback: Role,
}

/// A loaded policy: its text, its version (0 = the built-in default) and its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Policy {
    /// 0 for the built-in default, then 1, 2 … for each replacement.
    pub version: i32,
    /// The TOML text.
    pub text: String,
    /// The steps, in order.
    pub steps: Vec<PolicyStep>,
}

/// What a condition sees as `request`.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    /// new_tool, add_seats, renewal or reclaim.
    pub kind: String,
    /// Tool or app name.
    pub name: String,
    /// Vendor, or "".
    pub vendor: String,
    /// Catalog category key, or "".
    pub category: String,
    /// True when the tool is in the catalog or the inventory.
    pub known_vendor: bool,
    /// public, internal, confidential or restricted.
    pub data_class: String,
    /// Seats asked for (0 when none).
    pub seats: i64,
    /// Cost per year in minor units (0 when unknown).
    pub annual_cost_cents: i64,
    /// False when the cost is unknown.
    pub cost_known: bool,
    /// ISO currency, or "".
    pub currency: String,
    /// The requester's email.
    pub requester: String,
}

impl Facts {
    /// A request with every field set, to try conditions on when a policy loads.
    fn sample() -> Self {
        Facts {
            kind: "new_tool".into(),
            name: "Sample".into(),
            vendor: "Sample Inc".into(),
            category: "whiteboard".into(),
            known_vendor: true,
            data_class: "internal".into(),
            seats: 10,
            annual_cost_cents: 100_000,
            cost_known: true,
            currency: "USD".into(),
            requester: "someone@example.com".into(),
        }
    }
}

thread_local! {
    /// True while this thread compiles a condition, whose parser panic is caught and reported.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the process's panic hook once so that a panic on a thread compiling a condition
/// prints nothing (no message, no backtrace); every other panic is reported as before.
fn quiet_parser_panics() {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Compiles CEL `expr`. The parser is generated code over untrusted text and panics on some
/// input (`request.seats >`): that panic is caught, kept off stderr, and logged as one line
/// with its reason, so a bad condition is an error like any other.
fn compile(expr: &str) -> std::result::Result<cel_interpreter::Program, String> {
    quiet_parser_panics();
    QUIET_PANICS.with(|q| q.set(true));
    let compiled = std::panic::catch_unwind(|| cel_interpreter::Program::compile(expr));
    QUIET_PANICS.with(|q| q.set(false));
    match compiled {
        Ok(program) => program.map_err(|e| e.to_string()),
        Err(payload) => {
            let reason = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no reason given".into());
            let reason = reason.lines().next().unwrap_or_default().to_string();
            tracing::warn!(condition = %expr, %reason, "the CEL parser could not read a policy condition");
            Err(format!("the expression cannot be parsed ({reason})"))
        }
    }
}

/// Evaluates CEL `expr` over `facts`: true or false, or why it could not say.
pub fn evaluate(expr: &str, facts: &Facts) -> std::result::Result<bool, String> {
    let compiled = compile(expr)?;
    let mut ctx = cel_interpreter::Context::default();
    let value = cel_interpreter::to_value(facts).map_err(|e| e.to_string())?;
    ctx.add_variable_from_value("request", value);
    match compiled.execute(&ctx) {
        Ok(cel_interpreter::Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("gives {other:?}, not true or false")),
        Err(e) => Err(e.to_string()),
    }
}

/// "line L, column C" of byte `offset` in `text`, both from 1.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

fn invalid(message: String) -> WorkflowError {
    WorkflowError::invalid("policy", message)
}

/// Parses and checks a policy's text; the error names the line and column, or the step.
pub fn parse(text: &str) -> Result<Vec<PolicyStep>> {
    let file: PolicyFile = toml::from_str(text).map_err(|e| {
        let reason = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                let (line, column) = position(text, span.start);
                invalid(format!("line {line}, column {column}: {reason}"))
            }
            None => invalid(reason),
        }
    })?;
    if file.step.is_empty() {
        return Err(invalid("the policy has no [[step]]: at least one is needed".into()));
    }
    let mut steps: Vec<PolicyStep> = Vec::new();
    for s in file.step {
        let name = s.name.trim().to_string();
        let fail = |m: String| invalid(format!("step {name:?}: {m}"));
        if name.is_empty() {
            return Err(invalid("a step has an empty name".into()));
        }
        if steps.iter().any(|o| o.name == name) {
            return Err(fail("the name is used twice".into()));
        }
        match (s.approver, &s.role, &s.email) {
            (ApproverKind::Role, None, _) => return Err(fail("approver \"role\" needs `role`".into())),
            (ApproverKind::Person, _, None) => return Err(fail("approver \"person\" needs `email`".into())),
            (k, Some(_), _) if k != ApproverKind::Role => {
                return Err(fail("`role` is only for approver \"role\"".into()))
            }
            (k, _, Some(_)) if k != ApproverKind::Person => {
                return Err(fail("`email` is only for approver \"person\"".into()))
            }
            _ => {}
        }
        let mut email = s.email.clone();
        crate::inventory::validate::optional_email("email", &mut email).map_err(|e| fail(e.message))?;
        let sla_hours = s.sla_hours.unwrap_or(DEFAULT_SLA_HOURS);
        if !(1..=MAX_HOURS).contains(&sla_hours) {
            return Err(fail(format!("sla_hours must be between 1 and {MAX_HOURS}")));
        }
        let escalate_after_hours = s.escalate_after_hours.unwrap_or(sla_hours.saturating_mul(2));
        if escalate_after_hours <= sla_hours || escalate_after_hours > 2 * MAX_HOURS {
            return Err(fail("escalate_after_hours must be longer than sla_hours (and at most two years)".into()));
        }
        let when = s.when.map(|w| w.trim().to_string()).filter(|w| !w.is_empty());
        if let Some(expr) = &when {
            evaluate(expr, &Facts::sample()).map_err(|e| fail(format!("condition {expr:?} is not usable: {e}")))?;
        }
        steps.push(PolicyStep {
            name,
            approver: s.approver,
            role: s.role,
            email,
            when,
            sla_hours,
            escalate_after_hours,
            fallback: s.fallback.unwrap_or(Role::Admin),
        });
    }
    Ok(steps)
}

/// The built-in default policy.
pub fn default_policy() -> Policy {
    // The default is compiled in and covered by a unit test; should it ever fail to load,
    // a policy of one admin step keeps requests decidable rather than unrouted.
    let steps = parse(DEFAULT_POLICY).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the built-in approval policy does not load");
        vec![PolicyStep {
            name: "admin".into(),
            approver: ApproverKind::Role,
            role: Some(Role::Admin),
            email: None,
            when: None,
            sla_hours: DEFAULT_SLA_HOURS,
            escalate_after_hours: DEFAULT_SLA_HOURS * 2,
            fallback: Role::Admin,
        }]
    });
    Policy { version: 0, text: DEFAULT_POLICY.to_string(), steps }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: &str, cost: i64, class: &str, known: bool) -> Facts {
        Facts {
            kind: kind.into(),
            annual_cost_cents: cost,
            data_class: class.into(),
            known_vendor: known,
            ..Facts::sample()
        }
    }

    #[test]
    fn the_default_policy_loads_with_four_steps() {
        let p = default_policy();
        let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["manager", "security", "finance", "it"]);
        assert_eq!(p.steps[0].sla_hours, 48);
        assert_eq!(p.steps[0].escalate_after_hours, 96);
        assert_eq!(p.steps[1].fallback, Role::Admin);
    }

    #[test]
    fn default_conditions_route_as_documented() {
        let p = default_policy();
        let when = |name: &str| p.steps.iter().find(|s| s.name == name).unwrap().when.clone().unwrap();
        // (facts, security applies, finance applies)
        let cases = [
            (facts("new_tool", 100_000, "internal", true), false, false),
            (facts("new_tool", 500_000, "internal", true), false, false),
            (facts("new_tool", 500_001, "internal", true), false, true),
            (facts("new_tool", 900_000, "confidential", true), true, true),
            (facts("new_tool", 0, "restricted", true), true, false),
            (facts("new_tool", 0, "public", false), true, false),
            (facts("add_seats", 2_000_000, "internal", true), false, true),
        ];
        for (f, security, finance) in cases {
            assert_eq!(evaluate(&when("security"), &f), Ok(security), "{f:?}");
            assert_eq!(evaluate(&when("finance"), &f), Ok(finance), "{f:?}");
        }
    }

    #[test]
    fn conditions_over_every_field() {
        let f = Facts::sample();
        let cases = [
            ("request.kind == \"new_tool\"", Ok(true)),
            ("request.seats >= 10 && request.currency == \"USD\"", Ok(true)),
            ("request.category in [\"whiteboard\", \"design\"]", Ok(true)),
            ("request.vendor.startsWith(\"Sample\")", Ok(true)),
            ("request.cost_known && request.requester.endsWith(\"@example.com\")", Ok(true)),
            ("request.name == \"Other\"", Ok(false)),
        ];
        for (expr, want) in cases {
            assert_eq!(evaluate(expr, &f), want, "{expr}");
        }
        assert!(evaluate("request.nope > 1", &f).is_err());
        assert!(evaluate("request.seats + 1", &f).unwrap_err().contains("not true or false"));
        assert!(evaluate("request.seats >", &f).is_err());
        // The parser panics on some incomplete input; that must leave it usable.
        assert_eq!(evaluate("request.seats > 1", &f), Ok(true));
        std::thread::spawn(move || assert_eq!(evaluate("request.seats < 1", &f), Ok(false))).join().unwrap();
    }

    #[test]
    fn bad_policies_are_refused_with_line_or_step() {
        let cases = [
            ("[[step]\nname = \"x\"", "line 1"),
            ("[[step]]\nname = \"a\"\napprover = \"manager\"\nwhne = \"true\"\n", "line 4, column 1"),
            ("[[step]]\nname = \"a\"\napprover = \"boss\"\n", "line 3"),
            ("[[step]]\nname = \"sec\"\napprover = \"manager\"\nwhen = \"request.cost >\"\n", "step \"sec\""),
            ("[[step]]\nname = \"sec\"\napprover = \"manager\"\nwhen = \"request.nope\"\n", "step \"sec\""),
            ("[[step]]\nname = \"r\"\napprover = \"role\"\n", "needs `role`"),
            ("[[step]]\nname = \"p\"\napprover = \"person\"\nemail = \"not-mail\"\n", "step \"p\""),
            (
                "[[step]]\nname = \"a\"\napprover = \"manager\"\n[[step]]\nname = \"a\"\napprover = \"manager\"\n",
                "twice",
            ),
            ("[[step]]\nname = \"a\"\napprover = \"manager\"\nsla_hours = 10\nescalate_after_hours = 5\n", "longer"),
            ("", "no [[step]]"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        assert_eq!(position("ab\ncd", 0), (1, 1));
        assert_eq!(position("ab\ncd", 4), (2, 2));
    }
}
