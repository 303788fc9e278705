//! Which roles each route allows: one table, read by the handlers and shown in the OpenAPI document.

use crate::auth::Role::{self, *};

/// Every role.
pub const ANYONE: &[Role] = &[Admin, It, Finance, Security, Approver, Employee, Auditor];
/// Roles that read the whole inventory (employees see only their own person and accounts).
pub const INVENTORY_READERS: &[Role] = &[Admin, It, Finance, Security, Approver, Auditor];
/// Roles that change apps, people and accounts.
pub const INVENTORY_WRITERS: &[Role] = &[Admin, It];
/// Roles that change contracts.
pub const CONTRACT_WRITERS: &[Role] = &[Admin, It, Finance];
/// Roles that read the audit log.
pub const AUDIT_READERS: &[Role] = &[Admin, Security, Auditor];
/// Roles that manage tokens.
pub const TOKEN_ADMINS: &[Role] = &[Admin];
/// Roles that watch jobs and mail delivery.
pub const OPERATORS: &[Role] = &[Admin, It, Auditor];
/// Roles that replace the approval policy.
pub const POLICY_ADMINS: &[Role] = &[Admin];
/// Roles that take quarterly audits.
pub const AUDIT_TAKERS: &[Role] = &[Admin, It, Finance];
/// Roles that start and close access reviews.
pub const REVIEW_STARTERS: &[Role] = &[Admin, It, Security];
/// Roles that start owner check-ins.
pub const CHECK_IN_STARTERS: &[Role] = &[Admin, It, Finance];
