//! Fakes of the vendors' admin APIs: real HTTP servers on loopback that follow each vendor's
//! documented paths, field names, paging, auth, throttling replies and errors, serving generated
//! users (`directory.rs`). Sync tests and the benchmark run against them; a demo mode can too.
//! Start one with [`FakeServer::start`] and give its `base_url` to a connection.

mod directory;
mod github;
mod google;
mod microsoft;
mod okta;
mod scim;
mod server;
mod slack;
mod zoom;

pub use directory::{Directory, FakeUser};
pub use google::{google_service_account_json, GOOGLE_CLIENT_EMAIL, GOOGLE_TEST_PRIVATE_KEY};
pub use server::{
    header, limit_param, query_param, FakeServer, FakeState, LoggedRequest, CLIENT_ID, CLIENT_SECRET, TOKEN,
};

use actix_web::{web, HttpResponse};

/// The vendors with a fake, named as their connectors are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// Any RFC 7644 SCIM 2.0 server (Figma, Notion, 1Password, Slack SCIM …).
    Scim,
    /// GitHub organisation members and Copilot Business seats.
    Github,
    /// Google Workspace directory, licence assignments and third-party OAuth grants.
    GoogleWorkspace,
    /// Microsoft 365 / Entra ID through Microsoft Graph.
    Microsoft365,
    /// Okta users, apps and app assignments.
    Okta,
    /// Slack Web API members, billable seats and access logs.
    Slack,
    /// Zoom users, plan usage and licence downgrades.
    Zoom,
}

impl Vendor {
    /// Every vendor with a fake.
    pub const ALL: &'static [Vendor] = &[
        Vendor::Scim,
        Vendor::Github,
        Vendor::GoogleWorkspace,
        Vendor::Microsoft365,
        Vendor::Okta,
        Vendor::Slack,
        Vendor::Zoom,
    ];

    /// The connector name this fake stands in for.
    pub fn connector(self) -> &'static str {
        match self {
            Vendor::Scim => "scim",
            Vendor::Github => "github",
            Vendor::GoogleWorkspace => "google_workspace",
            Vendor::Microsoft365 => "microsoft_365",
            Vendor::Okta => "okta",
            Vendor::Slack => "slack",
            Vendor::Zoom => "zoom",
        }
    }

    /// The vendor's fake with this connector name.
    pub fn from_connector(name: &str) -> Option<Vendor> {
        Self::ALL.iter().copied().find(|v| v.connector() == name)
    }

    /// Registers the vendor's routes.
    pub(crate) fn routes(self, cfg: &mut web::ServiceConfig) {
        match self {
            Vendor::Scim => scim::routes(cfg),
            Vendor::Github => github::routes(cfg),
            Vendor::GoogleWorkspace => google::routes(cfg),
            Vendor::Microsoft365 => microsoft::routes(cfg),
            Vendor::Okta => okta::routes(cfg),
            Vendor::Slack => slack::routes(cfg),
            Vendor::Zoom => zoom::routes(cfg),
        }
    }

    /// The vendor's documented reply when a client is over its rate limit.
    pub(crate) fn throttled(self) -> HttpResponse {
        match self {
            Vendor::Scim => scim::throttled(),
            Vendor::Github => github::throttled(),
            Vendor::GoogleWorkspace => google::throttled(),
            Vendor::Microsoft365 => microsoft::throttled(),
            Vendor::Okta => okta::throttled(),
            Vendor::Slack => slack::throttled(),
            Vendor::Zoom => zoom::throttled(),
        }
    }
}
