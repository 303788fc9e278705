//! Fakes of the vendors' admin APIs: real HTTP servers on loopback that follow each vendor's
//! documented paths, field names, paging, auth, throttling replies and errors, serving generated
//! users (`directory.rs`). Sync tests and the benchmark run against them; a demo mode can too.
//! Start one with [`FakeServer::start`] and give its `base_url` to a connection.

mod asana;
mod atlassian;
mod directory;
mod dropbox;
mod github;
mod google;
mod hubspot;
mod microsoft;
mod okta;
mod salesforce;
mod scim;
mod server;
mod slack;
mod zendesk;
mod zoom;

pub use directory::{Directory, FakeUser};
pub use google::{google_private_key, google_service_account_json, GOOGLE_CLIENT_EMAIL};
pub use server::{FakeServer, FakeState, LoggedRequest, CLIENT_ID, CLIENT_SECRET, TOKEN};

use actix_web::{web, HttpResponse};

/// The vendors with a fake, named as their connectors are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// Any RFC 7644 SCIM 2.0 server (Figma, Notion, 1Password, Slack SCIM …).
    Scim,
    /// Salesforce REST API (SOQL over User and UserLicense).
    Salesforce,
    /// Dropbox Business Team API (OAuth 2 with PKCE and refresh).
    Dropbox,
    /// Atlassian Cloud organizations admin API (org API key).
    Atlassian,
    /// HubSpot settings API v3 users (private-app token).
    Hubspot,
    /// Zendesk Support users API (API token by Basic, or OAuth).
    Zendesk,
    /// Asana workspace users and memberships (personal access token).
    Asana,
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
        Vendor::Salesforce,
        Vendor::Dropbox,
        Vendor::Atlassian,
        Vendor::Hubspot,
        Vendor::Zendesk,
        Vendor::Asana,
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
            Vendor::Salesforce => "salesforce",
            Vendor::Dropbox => "dropbox",
            Vendor::Atlassian => "atlassian",
            Vendor::Hubspot => "hubspot",
            Vendor::Zendesk => "zendesk",
            Vendor::Asana => "asana",
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
            Vendor::Salesforce => salesforce::routes(cfg),
            Vendor::Dropbox => dropbox::routes(cfg),
            Vendor::Atlassian => atlassian::routes(cfg),
            Vendor::Hubspot => hubspot::routes(cfg),
            Vendor::Zendesk => zendesk::routes(cfg),
            Vendor::Asana => asana::routes(cfg),
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
            Vendor::Salesforce => salesforce::throttled(),
            Vendor::Dropbox => dropbox::throttled(),
            Vendor::Atlassian => atlassian::throttled(),
            Vendor::Hubspot => hubspot::throttled(),
            Vendor::Zendesk => zendesk::throttled(),
            Vendor::Asana => asana::throttled(),
            Vendor::Github => github::throttled(),
            Vendor::GoogleWorkspace => google::throttled(),
            Vendor::Microsoft365 => microsoft::throttled(),
            Vendor::Okta => okta::throttled(),
            Vendor::Slack => slack::throttled(),
            Vendor::Zoom => zoom::throttled(),
        }
    }
}
