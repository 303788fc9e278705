//! The connector definition format: one TOML file per vendor saying how to authenticate, which
//! endpoints to read, how pages continue, how throttling is signalled and how fields map to
//! canonical records. `integrations/README.md` documents it for people writing their own.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A connector as written in its TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Unique name, snake_case (`github`, `scim`).
    pub name: String,
    /// What people call it (`GitHub`).
    pub title: String,
    /// One paragraph: what it reads and what the vendor account needs.
    #[serde(default)]
    pub description: String,
    /// The inventory app its seats belong to unless a record names another (a template: `{settings.app}`).
    pub app: String,
    /// The vendor's API root; a connection's `base_url` replaces it (self-hosted vendors, test doubles).
    #[serde(default)]
    pub base_url: Option<String>,
    /// True for identity providers: their `person` records keep the directory, departures included.
    #[serde(default)]
    pub identity_provider: bool,
    /// Settings a connection gives (org, domain, tenant …).
    #[serde(default)]
    pub settings: BTreeMap<String, Parameter>,
    /// Secrets a connection gives (tokens, client secrets); stored encrypted, never shown.
    #[serde(default)]
    pub secrets: BTreeMap<String, Parameter>,
    /// How requests are authenticated.
    pub auth: Auth,
    /// How the vendor says "slow down".
    #[serde(default)]
    pub throttle: Throttle,
    /// Errors the vendor reports inside a 200 reply (Slack's `ok: false`).
    #[serde(default)]
    pub body_errors: Option<BodyErrors>,
    /// Where the vendor's error replies keep their own code and message; only these (and the
    /// status) are kept from an error reply, never the body itself.
    #[serde(default)]
    pub errors: ErrorFields,
    /// Most requests in flight at once during fan-out (default 4).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Most requests one run may make (default 1,000,000); a run over budget fails, removing nothing.
    #[serde(default)]
    pub request_budget: Option<u64>,
    /// What to read, in order; a stream fanned out over another comes after it.
    #[serde(rename = "stream")]
    pub streams: Vec<Stream>,
    /// Write actions (reclaiming a seat), run only after approval.
    #[serde(default, rename = "action")]
    pub actions: Vec<Action>,
}

/// A setting or secret a connection gives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// What it is and where the admin finds it.
    pub description: String,
    /// Must be given (default true unless a default exists).
    #[serde(default)]
    pub required: Option<bool>,
    /// Used when not given.
    #[serde(default)]
    pub default: Option<String>,
}

impl Parameter {
    /// True when a connection must give it.
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(self.default.is_none())
    }
}

/// How requests are authenticated. Values are templates over `{settings.x}` and `{secrets.x}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer {token}`.
    Bearer {
        /// The token template.
        token: String,
    },
    /// HTTP Basic.
    Basic {
        /// User name template (Zendesk: `{settings.email}/token`).
        username: String,
        /// Password template.
        password: String,
    },
    /// A custom header (Okta: `Authorization: SSWS {secrets.token}`).
    Header {
        /// Header name.
        name: String,
        /// Header value template.
        value: String,
    },
    /// OAuth 2.0 client credentials grant.
    Oauth2ClientCredentials {
        /// Token endpoint (template; `{base_url}` allowed).
        token_url: String,
        /// Client id template.
        client_id: String,
        /// Client secret template.
        client_secret: String,
        /// Scopes asked for.
        #[serde(default)]
        scopes: Vec<String>,
    },
    /// OAuth 2.0 authorization code with PKCE; tokens are stored (sealed) and refreshed.
    Oauth2AuthorizationCode {
        /// Where the admin is sent to consent.
        authorize_url: String,
        /// Token endpoint.
        token_url: String,
        /// Client id template.
        client_id: String,
        /// Client secret template, for confidential clients.
        #[serde(default)]
        client_secret: Option<String>,
        /// Scopes asked for.
        #[serde(default)]
        scopes: Vec<String>,
        /// Extra query parameters for the consent URL (Dropbox: `token_access_type = "offline"`).
        #[serde(default)]
        authorize_params: BTreeMap<String, String>,
    },
    /// RFC 7523 JWT-bearer assertion signed with a service account key (Google domain-wide delegation).
    JwtBearer {
        /// Token endpoint; the assertion's audience.
        token_url: String,
        /// Template giving the service account key JSON (`client_email`, `private_key`).
        key: String,
        /// The user to act as (`sub`), a template.
        #[serde(default)]
        subject: Option<String>,
        /// Scopes asked for.
        scopes: Vec<String>,
    },
    /// A vendor token exchange (Zoom account credentials): one POST that returns a token.
    TokenExchange {
        /// Token endpoint template (query parameters allowed).
        token_url: String,
        /// HTTP Basic user and password templates, if the endpoint wants them.
        #[serde(default)]
        basic: Option<[String; 2]>,
        /// Form fields templates.
        #[serde(default)]
        form: BTreeMap<String, String>,
        /// JSON pointer to the token in the reply (default `/access_token`).
        #[serde(default)]
        token: Option<String>,
        /// JSON pointer to its lifetime in seconds (default `/expires_in`).
        #[serde(default)]
        expires_in: Option<String>,
    },
}

impl Auth {
    /// The kind's name as written in definition files.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Bearer { .. } => "bearer",
            Auth::Basic { .. } => "basic",
            Auth::Header { .. } => "header",
            Auth::Oauth2ClientCredentials { .. } => "oauth2_client_credentials",
            Auth::Oauth2AuthorizationCode { .. } => "oauth2_authorization_code",
            Auth::JwtBearer { .. } => "jwt_bearer",
            Auth::TokenExchange { .. } => "token_exchange",
        }
    }
}

/// A body condition: the value at `pointer` is one of `equals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyMatch {
    /// Only replies with this status (any when absent).
    #[serde(default)]
    pub status: Option<u16>,
    /// JSON pointer into the reply.
    pub pointer: String,
    /// Values that match.
    pub equals: Vec<Value>,
}

/// How a vendor signals throttling, and how long stackward will wait it out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Statuses that always mean "throttled" (default 429).
    #[serde(default = "default_throttle_statuses")]
    pub statuses: Vec<u16>,
    /// Header holding the epoch second when the limit resets (Okta `x-rate-limit-reset`).
    #[serde(default)]
    pub reset_header: Option<String>,
    /// Header holding requests left; a 403 with 0 left is throttling (GitHub).
    #[serde(default)]
    pub remaining_header: Option<String>,
    /// Replies whose body says "throttled" (Google 403 `userRateLimitExceeded`, Slack `ratelimited`).
    #[serde(default)]
    pub body: Vec<BodyMatch>,
    /// Replies that mean a quota is spent for hours (Salesforce `REQUEST_LIMIT_EXCEEDED`): reported, not waited.
    #[serde(default)]
    pub exhausted: Vec<BodyMatch>,
    /// Longest wait stackward sits out; a longer one fails the run with the time it would end.
    #[serde(default = "default_max_wait")]
    pub max_wait_secs: u64,
    /// Most throttled retries of one request.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            statuses: default_throttle_statuses(),
            reset_header: None,
            remaining_header: None,
            body: Vec::new(),
            exhausted: Vec::new(),
            max_wait_secs: default_max_wait(),
            max_retries: default_max_retries(),
        }
    }
}

fn default_throttle_statuses() -> Vec<u16> {
    vec![429]
}
fn default_max_wait() -> u64 {
    300
}
fn default_max_retries() -> u32 {
    8
}

/// Errors inside a 200 reply: `ok` false means failure, with the message at `message`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyErrors {
    /// Pointer to a boolean that is false on failure.
    pub ok: String,
    /// Pointer to the error text.
    pub message: String,
}

/// Pointers to the code and message in a vendor's error reply (Graph `/error/code` and
/// `/error/message`, SCIM `/scimType` and `/detail`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorFields {
    /// Pointer to the vendor's error code.
    #[serde(default)]
    pub code: Option<String>,
    /// Pointer to the vendor's error message.
    #[serde(default)]
    pub message: Option<String>,
}

/// One endpoint to read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// Unique within the file.
    pub name: String,
    /// HTTP method (default GET).
    #[serde(default = "default_method")]
    pub method: String,
    /// Path under the base URL (template).
    #[serde(default)]
    pub path: Option<String>,
    /// An absolute URL on another host of the vendor (template); a connection's base_url replaces its origin.
    #[serde(default)]
    pub url: Option<String>,
    /// Query parameters (templates).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Extra headers (templates).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body template for POST streams (`null` for Dropbox RPCs without arguments).
    #[serde(default)]
    pub body: Option<String>,
    /// JSON pointer to the records; empty = the body itself.
    #[serde(default)]
    pub records: String,
    /// The records pointer names an object: each entry becomes a record `{"key": …, "value": …}`.
    #[serde(default)]
    pub entries: bool,
    /// The reply (at `records`) is one record, not a list.
    #[serde(default)]
    pub single: bool,
    /// Each record holds a list at this pointer; each element becomes a record, read with `@/…` pointers.
    #[serde(default)]
    pub explode: Option<String>,
    /// How pages continue.
    #[serde(default)]
    pub paging: Paging,
    /// JSON pointer to the number of records the vendor says the whole listing holds (SCIM
    /// `totalResults`, Salesforce `totalSize`); SCIM paging reads `/totalResults` without it. A
    /// listing that ends before that number fails the run, so nothing is swept.
    #[serde(default)]
    pub total: Option<String>,
    /// Run once per record of this earlier stream; templates and `^/…` pointers read that record.
    #[serde(default)]
    pub for_each: Option<String>,
    /// Remember `key` → `value` of each record for later `lookup`s.
    #[serde(default)]
    pub keep: Option<Keep>,
    /// A 403/404 (a plan without the feature) skips this stream instead of failing the run.
    #[serde(default)]
    pub optional: bool,
    /// For `activity` records: which account field `key` matches (external_id, email, username).
    #[serde(default)]
    pub merge_on: Option<String>,
    /// Canonical records this stream emits, each a map of field → value spec.
    #[serde(default)]
    pub person: Option<Mapping>,
    /// Seats.
    #[serde(default)]
    pub account: Option<Mapping>,
    /// Purchased and consumed units per SKU.
    #[serde(default)]
    pub licence_pool: Option<Mapping>,
    /// Third-party apps users authorised.
    #[serde(default)]
    pub app_grant: Option<Mapping>,
    /// Facts merged into seats of an earlier stream (last active, billable, licence).
    #[serde(default)]
    pub activity: Option<Mapping>,
}

fn default_method() -> String {
    "GET".into()
}

/// A remembered lookup table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keep {
    /// Its name, used by `lookup = "…"`.
    #[serde(rename = "as")]
    pub name: String,
    /// Pointer to the key.
    pub key: String,
    /// Pointer to the value.
    pub value: String,
}

/// How pages continue.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paging {
    /// One request.
    #[default]
    None,
    /// `Link: <…>; rel="next"` (GitHub, Okta); the URL is followed as given.
    LinkHeader,
    /// A token in the body sent back as a query parameter (Google, Slack, Zoom, HubSpot, Asana).
    Cursor {
        /// Query parameter carrying the cursor.
        param: String,
        /// Pointer to the next cursor; absent, null or empty ends the list.
        next: String,
        /// Pointer to a "more follows" boolean, when the vendor has one.
        #[serde(default)]
        has_more: Option<String>,
    },
    /// A full next URL in the body (Graph `@odata.nextLink`, Salesforce `nextRecordsUrl`, Atlassian `links.next`).
    NextUrl {
        /// Pointer to the URL (absolute, or a path on the base URL).
        next: String,
        /// Pointer to a "done" boolean (Salesforce).
        #[serde(default)]
        done: Option<String>,
    },
    /// Page numbers (Slack accessLogs).
    Page {
        /// Query parameter for the page number.
        param: String,
        /// The first page's number (default 1).
        #[serde(default = "one")]
        start: u64,
        /// Pointer to the number of pages, when the vendor says.
        #[serde(default)]
        pages: Option<String>,
        /// Page size the stream asks for (a query parameter); a shorter page is the last.
        #[serde(default)]
        size: Option<u64>,
    },
    /// Record offsets.
    Offset {
        /// Query parameter for the offset.
        param: String,
        /// Page size; a shorter page is the last.
        size: u64,
    },
    /// SCIM `startIndex`/`count` against `totalResults` (RFC 7644 §3.4.2.4).
    Scim {
        /// Resources per page (default 100).
        #[serde(default = "hundred")]
        count: u64,
    },
    /// POST to a continue endpoint with the cursor (Dropbox `…/continue_v2`).
    PostCursor {
        /// Path of the continue endpoint.
        path: String,
        /// Pointer to the cursor.
        cursor: String,
        /// Pointer to the "more follows" boolean.
        has_more: String,
    },
}

fn one() -> u64 {
    1
}
fn hundred() -> u64 {
    100
}

/// Field name → how to read it.
pub type Mapping = BTreeMap<String, Field>;

/// How to read one canonical field: a JSON pointer, or a table of options.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Field {
    /// A JSON pointer (`/profile/email`; `^/…` reads the fan-out parent, `@/…` the exploded element).
    Pointer(String),
    /// Options.
    Spec(Box<FieldSpec>),
}

/// Options for reading a field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// One pointer or several (see `pick`); `*` steps into every array element.
    #[serde(default)]
    pub path: Option<OneOrMany>,
    /// With several values: `first` present (default), `max`, `min` (times or numbers), `join` (comma-separated).
    #[serde(default)]
    pub pick: Option<Pick>,
    /// How the source writes it (default from the field: text, int, bool or datetime).
    #[serde(default, rename = "type")]
    pub kind: Option<ValueKind>,
    /// strftime format for `datetime` values in a vendor's own format.
    #[serde(default)]
    pub format: Option<String>,
    /// Source text → value (status maps; booleans read as "true"/"false").
    #[serde(default)]
    pub map: Option<BTreeMap<String, Value>>,
    /// Value when absent or unmapped.
    #[serde(default)]
    pub default: Option<Value>,
    /// Source values that mean "none" (Google's epoch-zero last login).
    #[serde(default)]
    pub never: Vec<String>,
    /// Text built from pointers: `"{/profile/firstName} {/profile/lastName}"`.
    #[serde(default)]
    pub template: Option<String>,
    /// A constant.
    #[serde(default)]
    pub value: Option<Value>,
    /// Translate through a table remembered with `keep`.
    #[serde(default)]
    pub lookup: Option<String>,
    /// For `when`/`unless`: the value equals this.
    #[serde(default)]
    pub equals: Option<Value>,
    /// For `when`/`unless`: the value is a non-empty list or text.
    #[serde(default)]
    pub non_empty: Option<bool>,
}

/// One pointer or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One pointer.
    One(String),
    /// Several, in order of preference.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The pointers in order.
    pub fn all(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(p) => vec![p.as_str()],
            OneOrMany::Many(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// Which of several values a field takes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// The first present.
    First,
    /// The largest.
    Max,
    /// The smallest.
    Min,
    /// All, comma-separated.
    Join,
}

/// How the source writes a value.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Text (numbers are written as text).
    String,
    /// An integer, as a number or numeric text.
    Int,
    /// A boolean, or "true"/"false".
    Bool,
    /// RFC 3339, a vendor format (`format`), or a bare date.
    Datetime,
    /// Seconds since the epoch (number or text).
    EpochS,
    /// Milliseconds since the epoch.
    EpochMs,
}

/// A write action (reclaim): one request per account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// `reclaim` is what findings ask for.
    pub name: String,
    /// What it does, for approvers ("deactivates the SCIM user").
    pub description: String,
    /// HTTP method.
    pub method: String,
    /// Path template; `{account.external_id}`, `{account.email}`, `{account.username}`, `{account.licence}`.
    pub path: String,
    /// JSON body template.
    #[serde(default)]
    pub body: Option<String>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}
