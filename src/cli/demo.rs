//! `stackward demo`: a filled stackward in one command. A fresh SQLite file in a new folder (or
//! `--database-url`), the vendor fakes on loopback for a fictional 300-person company (Google
//! Workspace, Okta, Slack, GitHub, Zoom and Mural over SCIM), connections to them, a sync,
//! contracts with prices and renewals due soon, departures, a few pending requests and fresh
//! findings; then it serves, and prints a one-time sign-in link per persona. Honours the usual
//! settings (`--listen`, `--public-url`, SMTP).

use crate::audit::Actor;
use crate::auth::Role;
use crate::config::Settings;
use crate::context::Context;
use crate::db::{Conn, Db};
use crate::fakes::{self, FakeServer, Vendor};
use crate::inventory::{apps, people, subscriptions, AppChanges, BillingFrequency, RenewalType, SubscriptionChanges};
use crate::sync::{self, connections, NewConnection};
use crate::workflow::{self, DataClass, Decider, Env, RequestInput, RequestKind};
use anyhow::Context as _;
use chrono::{Duration, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// People in the fictional company.
const PEOPLE: usize = 300;
/// The default database URL; anything else given means "use that database".
const DEFAULT_DATABASE_URL: &str = "sqlite://stackward.db";

/// Who the demo signs in as.
pub struct Persona {
    /// Their role, as printed.
    pub role: Role,
    /// Their email in the fake directory.
    pub email: &'static str,
    /// What they would do first.
    pub about: &'static str,
}

/// The demo's personas: one per kind of user.
pub const PERSONAS: &[Persona] = &[
    Persona { role: Role::Admin, email: "user0@example.com", about: "everything, tokens and settings" },
    Persona { role: Role::It, email: "user1@example.com", about: "connections, findings, reclaiming seats" },
    Persona { role: Role::Finance, email: "user2@example.com", about: "spend and renewals" },
    Persona { role: Role::Approver, email: "user10@example.com", about: "a manager with requests to decide" },
    Persona { role: Role::Employee, email: "user12@example.com", about: "asks for tools" },
];

/// One vendor of the company: its fake, how many of the 300 hold an account, and how to connect.
struct VendorSetup {
    vendor: Vendor,
    users: usize,
    settings: fn(&FakeServer) -> BTreeMap<String, String>,
    secrets: fn(&FakeServer) -> BTreeMap<String, String>,
}

fn map(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn token(_: &FakeServer) -> BTreeMap<String, String> {
    map(&[("token", fakes::TOKEN.to_string())])
}

fn none(_: &FakeServer) -> BTreeMap<String, String> {
    BTreeMap::new()
}

const VENDORS: &[VendorSetup] = &[
    VendorSetup {
        vendor: Vendor::GoogleWorkspace,
        users: PEOPLE,
        settings: |_| map(&[("admin_email", "user0@example.com".into()), ("customer_id", "C0fake000".into())]),
        secrets: |f| {
            let uri = format!("{}/token", f.base_url);
            map(&[("service_account_key", fakes::google_service_account_json(&uri))])
        },
    },
    VendorSetup { vendor: Vendor::Okta, users: PEOPLE, settings: none, secrets: token },
    VendorSetup { vendor: Vendor::Slack, users: 280, settings: none, secrets: token },
    VendorSetup { vendor: Vendor::Github, users: 90, settings: |_| map(&[("org", "acme".into())]), secrets: token },
    VendorSetup {
        vendor: Vendor::Zoom,
        users: 220,
        settings: |_| map(&[("account_id", "fake-account".into()), ("client_id", fakes::CLIENT_ID.into())]),
        secrets: |_| map(&[("client_secret", fakes::CLIENT_SECRET.into())]),
    },
    VendorSetup { vendor: Vendor::Scim, users: 70, settings: |_| map(&[("app", "Mural".into())]), secrets: token },
];

/// A contract the company holds: app, plan, seats, seat price (cents) and period, days until
/// the term ends, notice days, owner.
struct ContractSetup {
    app: &'static str,
    plan: &'static str,
    seats: i64,
    price_cents: i64,
    billing: BillingFrequency,
    ends_in_days: i64,
    notice_days: i32,
    owner: &'static str,
    category_owner: Option<&'static str>,
}

const CONTRACTS: &[ContractSetup] = &[
    ContractSetup {
        app: "Google Workspace",
        plan: "Business Standard",
        seats: 320,
        price_cents: 14_400,
        billing: BillingFrequency::Annual,
        ends_in_days: 75,
        notice_days: 30,
        owner: "user1@example.com",
        category_owner: None,
    },
    ContractSetup {
        app: "Okta",
        plan: "Workforce Identity",
        seats: 320,
        price_cents: 2_400,
        billing: BillingFrequency::Annual,
        ends_in_days: 220,
        notice_days: 60,
        owner: "user1@example.com",
        category_owner: None,
    },
    ContractSetup {
        app: "Slack",
        plan: "Business+",
        seats: 300,
        price_cents: 15_000,
        billing: BillingFrequency::Annual,
        ends_in_days: 50,
        notice_days: 30,
        owner: "user10@example.com",
        category_owner: None,
    },
    ContractSetup {
        app: "GitHub",
        plan: "Team",
        seats: 100,
        price_cents: 400,
        billing: BillingFrequency::Monthly,
        ends_in_days: 140,
        notice_days: 30,
        owner: "user20@example.com",
        category_owner: None,
    },
    ContractSetup {
        app: "GitHub Copilot",
        plan: "Business",
        seats: 90,
        price_cents: 1_900,
        billing: BillingFrequency::Monthly,
        ends_in_days: 95,
        notice_days: 30,
        owner: "user20@example.com",
        category_owner: None,
    },
    ContractSetup {
        app: "Zoom",
        plan: "Business",
        seats: 250,
        price_cents: 2_199,
        billing: BillingFrequency::Monthly,
        ends_in_days: 120,
        notice_days: 60,
        owner: "user10@example.com",
        category_owner: None,
    },
    ContractSetup {
        app: "Mural",
        plan: "Business",
        seats: 90,
        price_cents: 21_600,
        billing: BillingFrequency::Annual,
        ends_in_days: 40,
        notice_days: 30,
        owner: "user30@example.com",
        category_owner: Some("whiteboard"),
    },
    ContractSetup {
        app: "Miro",
        plan: "Business",
        seats: 120,
        price_cents: 19_200,
        billing: BillingFrequency::Annual,
        ends_in_days: 180,
        notice_days: 30,
        owner: "user30@example.com",
        category_owner: Some("whiteboard"),
    },
];

/// People who left the company (their seats become orphaned-account findings).
const DEPARTED: &[&str] = &["user45@example.com", "user68@example.com", "user91@example.com", "user134@example.com"];

/// Where the demo keeps its files and which database it uses.
fn place(settings: &mut Settings) -> anyhow::Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%d-%H%M%S");
    let dir = PathBuf::from(format!("stackward-demo-{stamp}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    if settings.database_url == DEFAULT_DATABASE_URL {
        settings.database_url = format!("sqlite://{}", dir.join("stackward.db").display());
    }
    if settings.secret_key_file.as_path() == std::path::Path::new("stackward-secret.key") {
        settings.secret_key_file = dir.join("stackward-secret.key");
    }
    Ok(dir)
}

fn actor() -> Actor {
    Actor("demo".into())
}

/// Sets the app's owners and adds its contract, with a term that ends `ends_in_days` from today.
fn contract(c: &mut Conn, k: &ContractSetup, today: NaiveDate) -> anyhow::Result<()> {
    let Some(app) = apps::find_by_name(c, k.app)? else {
        tracing::warn!(app = k.app, "the demo expected this app after the sync; no contract added");
        return Ok(());
    };
    let changes = AppChanges {
        owner_email: Some(Some(k.owner.to_string())),
        billing_owner_email: Some(Some("user2@example.com".to_string())),
        category: k.category_owner.map(|c| Some(c.to_string())),
        status: Some(crate::inventory::AppStatus::Approved),
        ..Default::default()
    };
    apps::update(c, &actor(), app.id, changes)?;
    let end = today + Duration::days(k.ends_in_days);
    let start = end - Duration::days(364);
    let sub = SubscriptionChanges {
        app_id: Some(app.id),
        plan: Some(k.plan.to_string()),
        seats_purchased: Some(Some(k.seats)),
        unit_price_cents: Some(Some(k.price_cents)),
        currency: Some("USD".into()),
        billing_frequency: Some(k.billing),
        term_start: Some(start),
        term_end: Some(Some(end)),
        renewal_type: Some(RenewalType::Auto),
        notice_days: Some(Some(k.notice_days)),
        owner_email: Some(Some(k.owner.to_string())),
        ..Default::default()
    };
    subscriptions::create(c, &actor(), sub)?;
    Ok(())
}

fn as_person(email: &str, role: Role) -> Decider {
    Decider { email: Some(email.to_string()), roles: vec![role], actor: Actor(format!("demo as {email}")) }
}

/// A few requests waiting for decisions.
fn requests(c: &mut Conn, ctx: &Context) -> anyhow::Result<()> {
    let url = ctx.settings.public_url();
    let env = Env {
        catalog: &ctx.catalog,
        public_url: &url,
        default_notice_days: i32::from(ctx.settings.default_notice_days),
    };
    let now = crate::time::now();
    let new_tool = |name: &str, vendor: &str, website: &str, purpose: &str, seats: i64, cost: i64| RequestInput {
        kind: Some(RequestKind::NewTool),
        name: Some(name.into()),
        vendor: Some(vendor.into()),
        website: Some(website.into()),
        purpose: Some(purpose.into()),
        seats: Some(seats),
        annual_cost_cents: Some(cost),
        currency: Some("USD".into()),
        data_class: Some(DataClass::Internal),
        ..Default::default()
    };
    let asks = [
        (
            "user12@example.com",
            new_tool(
                "Loom",
                "Atlassian",
                "https://www.loom.com",
                "Async video walkthroughs for the support team",
                8,
                115_200,
            ),
        ),
        (
            "user13@example.com",
            new_tool("Whimsical", "Whimsical", "https://whimsical.com", "Flowcharts for onboarding docs", 5, 60_000),
        ),
        (
            "user24@example.com",
            new_tool("Linear", "Linear", "https://linear.app", "Issue tracking for the platform squad", 12, 115_200),
        ),
    ];
    for (who, input) in asks {
        workflow::submit(c, env, &as_person(who, Role::Employee), input, now)?;
    }
    if let Some(zoom) = apps::find_by_name(c, "Zoom")? {
        let more = RequestInput {
            kind: Some(RequestKind::AddSeats),
            app_id: Some(zoom.id),
            seats: Some(10),
            purpose: Some("New sales hires start next month".into()),
            ..Default::default()
        };
        workflow::submit(c, env, &as_person("user15@example.com", Role::Employee), more, now)?;
    }
    Ok(())
}

/// The fakes and the database filled; returns the fakes, which must stay up while serving.
pub async fn seed(ctx: &Context) -> anyhow::Result<Vec<FakeServer>> {
    let mut servers = Vec::new();
    for v in VENDORS {
        let fake = FakeServer::start(v.vendor, v.users).await.context("cannot start a vendor fake on loopback")?;
        let new = NewConnection {
            connector: v.vendor.connector().to_string(),
            name: v.vendor.connector().replace('_', "-"),
            base_url: Some(fake.base_url.clone()),
            settings: (v.settings)(&fake),
            secrets: (v.secrets)(&fake),
            schedule: Some(String::new()),
        };
        let (registry, sealer) = (ctx.registry.clone(), ctx.secrets.clone());
        let made = ctx.db.run(move |c| connections::create(c, &actor(), &registry, &sealer, new)).await?;
        let run = sync::run_now(ctx, made.id, "demo", None).await?;
        tracing::info!(connection = %made.name, seen = run.seen, status = %run.status, "demo sync");
        servers.push(fake);
    }
    let today = Utc::now().date_naive();
    let ctx2 = ctx.clone();
    ctx.db
        .run(move |c| -> anyhow::Result<()> {
            for k in CONTRACTS {
                contract(c, k, today)?;
            }
            for email in DEPARTED {
                if let Some(p) = people::find_by_email(c, email)? {
                    people::mark_departed(c, &actor(), p.id)?;
                }
            }
            requests(c, &ctx2)?;
            Ok(())
        })
        .await?;
    crate::findings::refresh_now(ctx, today).await?;
    Ok(servers)
}

/// Runs the demo until the process is stopped.
pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let dir = place(&mut settings)?;
    let db = Db::open(&settings.database_url, settings.db_pool_size).context("cannot open the demo database")?;
    db.migrate().context("cannot migrate the demo database")?;
    let mut ctx = Context::new(db, settings)?;
    let servers = seed(&ctx).await?;
    ctx.scheduler_running = true;
    let mut sched = crate::scheduler::start(ctx.clone()).await.context("cannot start the scheduler")?;
    let base = ctx.settings.public_url();
    println!(
        "stackward demo: {} people, {} connections, files in {} ({:.1}s)",
        PEOPLE,
        servers.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    for p in PERSONAS {
        let link = signin_link(&ctx, p.email, p.role).await?;
        println!("sign in as {} ({}): {link}", p.role, p.email);
        tracing::debug!(about = p.about, "persona");
    }
    println!("serving on {base} — Ctrl-C stops the demo");
    let served = crate::web::serve(ctx).await;
    let _ = sched.shutdown().await;
    for s in servers {
        s.stop().await;
    }
    served.context("the HTTP server stopped")
}

/// A one-time sign-in link (valid 15 minutes) for `email`, who is granted `role` first.
async fn signin_link(ctx: &Context, email: &str, role: Role) -> anyhow::Result<String> {
    let who = email.to_string();
    let token = ctx
        .db
        .run(move |c| -> anyhow::Result<String> {
            crate::auth::users::grant(c, &Actor("demo".into()), &who, role)?;
            Ok(crate::auth::links::create(c, &who, Some("/"), false)?)
        })
        .await?;
    Ok(format!("{}/auth/link/{token}", ctx.settings.public_url()))
}
