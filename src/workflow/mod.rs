//! Workflow: requests for new tools, more seats, renewals and reclaims, routed by an approval
//! policy (TOML steps with CEL conditions, stored in the database) into ordered steps that
//! people decide; an approved request changes the inventory (a new tool once it has provisioned it). Every change is in the request's
//! history and the audit log, and the people concerned are written to through the outbox.
//! Reads `public_url`, `cron_requests`, `request_changes_max_days` and `default_notice_days` (through its callers).

mod advice;
mod decide;
mod engine;
mod error;
mod input;
mod mail;
mod model;
mod outcome;
pub mod policy;
mod policy_store;
mod provision;
pub mod reclaim;
mod routing;
mod savings;
pub mod sla;
mod store;
mod view;

pub use advice::{Advice, AdviceApp};
pub use decide::{decide, DecisionInput};
pub use engine::{cancel, complete, preview_advice, resubmit, submit, Env};
pub use error::{Result, WorkflowError};
pub use input::RequestInput;
pub use model::{DataClass, Decision, Event, Request, RequestId, RequestKind, RequestStatus, StepStatus};
pub use policy::{Policy, PolicyStep};
pub use policy_store::{current as current_policy, replace as replace_policy};
pub use provision::CompleteInput;
pub use routing::{entitlement, Decider, Entitlement};
pub use sla::{SlaReport, SlaSettings};
pub use store::{find as find_request, record_event, save as save_request, NewEvent, RequestFilter};
pub use view::{list, show, ListQuery, RequestDetail, StepView};
