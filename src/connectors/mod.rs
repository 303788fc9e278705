//! Connectors: declarative definitions (`integrations/*.toml`) and the engine that runs them —
//! auth kinds, paging styles, throttling, typed field mapping, fan-out and lookups. Connectors
//! read vendors' admin APIs and emit canonical records; they never touch the database (the
//! `sync` module stores what they read). Reads `integrations_dir` through the registry.

pub mod address;
pub mod auth;
pub mod definition;
mod engine;
pub mod http;
pub mod mapping;
pub mod params;
pub mod records;
mod registry;

pub use definition::Definition;
pub use engine::{run, run_counted, Failure, Outcome, Sink};
pub use params::Params;
pub use records::{Batch, MergeOn, Record, RecordKind, Skipped, Val};
pub use registry::{check, Problem, Registry};

/// Why a connector run failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The vendor refused the credentials.
    #[error("the vendor refused the credentials{}", colon(.0))]
    Unauthorized(String),
    /// Throttled beyond what a run waits out, or a quota is used up.
    #[error("rate limited{}", colon(.message))]
    RateLimited {
        /// When the limit resets, when known.
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// What the vendor said.
        message: String,
    },
    /// The vendor answered with an error.
    #[error("the vendor answered {status}{}", colon(.message))]
    Upstream {
        /// HTTP status.
        status: u16,
        /// The vendor's message.
        message: String,
    },
    /// A listing ended before the total the vendor stated: records may be missing, so the run
    /// must not sweep.
    #[error("stream {stream}: the vendor stated {total} records but the listing ended after {seen}")]
    Incomplete {
        /// The stream.
        stream: String,
        /// Records read.
        seen: u64,
        /// Records the vendor said there are.
        total: u64,
    },
    /// The vendor could not be reached.
    #[error("cannot reach the vendor: {0}")]
    Network(String),
    /// The run used up its request budget.
    #[error("the run used its budget of {0} requests")]
    Budget(u64),
    /// A record's required field is missing or malformed.
    #[error("connector {connector}, stream {stream}, page {page}: field {field}: {message}")]
    Field {
        /// The connector.
        connector: String,
        /// The stream.
        stream: String,
        /// The page (1-based).
        page: u64,
        /// The canonical field (or records pointer).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The definition cannot be run as written.
    #[error("connector definition: {0}")]
    Definition(String),
    /// A connection's setting or secret is unusable.
    #[error("connection setting: {0}")]
    Setting(String),
    /// Storing a page failed.
    #[error("storing a page failed: {0}")]
    Sink(String),
}

/// `": detail"`, or nothing when there is no detail (a vendor error without named fields).
pub(crate) fn colon(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}
