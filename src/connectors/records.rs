//! Canonical records: what every connector emits, whatever the vendor's shape. A record is a
//! kind plus typed fields; which fields each kind has (and which are required) is fixed here.

use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// The kinds of canonical record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// A directory person (identity providers).
    Person,
    /// A user's seat in one app.
    Account,
    /// Purchased and consumed units of one SKU.
    LicencePool,
    /// A third-party app a user authorised (shadow IT signal).
    AppGrant,
    /// Facts merged into seats read by an earlier stream.
    Activity,
}

impl RecordKind {
    /// Every kind, in the order a stream's mappings are read.
    pub const ALL: [RecordKind; 5] =
        [RecordKind::Person, RecordKind::Account, RecordKind::LicencePool, RecordKind::AppGrant, RecordKind::Activity];

    /// The name used in definition files (`[stream.account]`).
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Person => "person",
            RecordKind::Account => "account",
            RecordKind::LicencePool => "licence_pool",
            RecordKind::AppGrant => "app_grant",
            RecordKind::Activity => "activity",
        }
    }

    /// The fields this kind has: name, type, required.
    pub fn fields(self) -> &'static [(&'static str, Target, bool)] {
        use Target::*;
        match self {
            RecordKind::Person => &[
                ("email", Text, true),
                ("name", Text, false),
                ("department", Text, false),
                ("title", Text, false),
                ("manager_email", Text, false),
                ("status", PersonStatus, false),
                ("external_id", Text, false),
            ],
            RecordKind::Account => &[
                ("external_id", Text, true),
                ("email", Text, false),
                ("username", Text, false),
                ("name", Text, false),
                ("role", Text, false),
                ("licence", Text, false),
                ("status", AccountStatus, false),
                ("billable", Bool, false),
                ("created_at", Time, false),
                ("last_active_at", Time, false),
                ("app", Text, false),
                ("premium_used", Bool, false),
            ],
            RecordKind::LicencePool => &[
                ("sku", Text, true),
                ("name", Text, false),
                ("purchased", Int, false),
                ("consumed", Int, false),
                ("app", Text, false),
            ],
            RecordKind::AppGrant => &[
                ("client_id", Text, true),
                ("app_name", Text, true),
                ("scopes", Text, false),
                ("user_email", Text, false),
                ("user_external_id", Text, false),
                ("organisation_wide", Bool, false),
            ],
            RecordKind::Activity => &[
                ("key", Text, true),
                ("last_active_at", Time, false),
                ("billable", Bool, false),
                ("licence", Text, false),
                ("role", Text, false),
                ("status", AccountStatus, false),
                ("app", Text, false),
                ("premium_used", Bool, false),
            ],
        }
    }
}

/// The type a canonical field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Text.
    Text,
    /// A whole number.
    Int,
    /// True or false.
    Bool,
    /// A UTC time.
    Time,
    /// active | suspended | departed.
    PersonStatus,
    /// active | suspended | removed.
    AccountStatus,
}

impl Target {
    /// The values an enumerated field allows.
    pub fn allowed(self) -> Option<&'static [&'static str]> {
        match self {
            Target::PersonStatus => Some(&["active", "suspended", "departed"]),
            Target::AccountStatus => Some(&["active", "suspended", "removed"]),
            _ => None,
        }
    }
}

/// A typed field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Text (also enumerated values).
    Text(String),
    /// A whole number.
    Int(i64),
    /// True or false.
    Bool(bool),
    /// A UTC time.
    Time(NaiveDateTime),
}

/// One canonical record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its kind.
    pub kind: RecordKind,
    /// Fields that have a value; absent ones are unknown.
    pub fields: BTreeMap<&'static str, Val>,
}

impl Record {
    /// A text field.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.fields.get(name) {
            Some(Val::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A number field.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.fields.get(name) {
            Some(Val::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// A boolean field.
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.fields.get(name) {
            Some(Val::Bool(v)) => Some(*v),
            _ => None,
        }
    }

    /// A time field.
    pub fn time(&self, name: &str) -> Option<NaiveDateTime> {
        match self.fields.get(name) {
            Some(Val::Time(v)) => Some(*v),
            _ => None,
        }
    }
}

/// A vendor record left out because a required field was missing or unreadable; the rest of the
/// listing carries on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Skipped {
    /// The stream that read it.
    pub stream: String,
    /// The page it was on (1-based).
    pub page: u64,
    /// The canonical field at fault.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
    /// The vendor's id of the record, when it could be read.
    pub external_id: Option<String>,
}

/// One page of records from one stream, as handed to the sync.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The stream that read it.
    pub stream: String,
    /// The page number within the stream (1-based; fan-out pages count on).
    pub page: u64,
    /// The records, in the vendor's order.
    pub records: Vec<Record>,
    /// Records of this page that were skipped (their seats still count as seen).
    pub skipped: Vec<Skipped>,
    /// For `activity` records: the account field their `key` matches.
    pub merge_on: MergeOn,
    /// True when the stream maps `last_active_at` for its seats (so a missing one means "never").
    pub tracks_activity: bool,
}

/// Which account field an activity record's key matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOn {
    /// The vendor's id.
    ExternalId,
    /// The email.
    Email,
    /// The username.
    Username,
}
