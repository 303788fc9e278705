//! The integration test binary: every area's tests, linked once. Storage and API tests run on
//! SQLite and, when STACKWARD_TEST_POSTGRES_URL is set, on PostgreSQL (otherwise reported ignored).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking, with the value it did not expect"
)]
// The 80-line limit is for src/: a scenario test reads best as one story from start to end.
#![expect(clippy::too_many_lines, reason = "the function length limit covers src/, not scenario tests")]

mod api_auth;
mod api_contract;
mod api_inventory;
mod cli;
mod connector_defs;
mod coverage;
mod csv_transfer;
mod findings;
mod layers;
mod mail;
mod mail_readable;
mod ops;
mod pages;
mod pages_browser;
mod pages_reviews;
mod reclaim;
mod renewals;
mod request_rules;
mod requests;
mod savings;
mod signin;
mod signin_browser;
mod stack_audit;
mod storage;
mod strict_input;
mod support;
mod sync;
mod sync_all;
mod sync_safety;
mod vendor_reads;

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    if std::env::var(support::db::PG_ENV).is_err() {
        eprintln!(
            "note: {} is not set, so every PostgreSQL test is reported as ignored (not run)",
            support::db::PG_ENV
        );
    }
    let mut tests = Vec::new();
    tests.extend(layers::tests());
    tests.extend(storage::tests());
    tests.extend(api_inventory::tests());
    tests.extend(api_auth::tests());
    tests.extend(strict_input::tests());
    tests.extend(api_contract::tests());
    tests.extend(csv_transfer::tests());
    tests.extend(ops::tests());
    tests.extend(findings::tests());
    tests.extend(mail::tests());
    tests.extend(mail_readable::tests());
    tests.extend(renewals::tests());
    tests.extend(cli::tests());
    tests.extend(sync::tests());
    tests.extend(reclaim::tests());
    tests.extend(sync_all::tests());
    tests.extend(sync_safety::tests());
    tests.extend(requests::tests());
    tests.extend(request_rules::tests());
    tests.extend(connector_defs::tests());
    tests.extend(vendor_reads::tests());
    tests.extend(coverage::tests());
    tests.extend(savings::tests());
    tests.extend(stack_audit::tests());
    tests.extend(pages::tests());
    tests.extend(pages_browser::tests());
    tests.extend(pages_reviews::tests());
    tests.extend(signin::tests());
    tests.extend(signin_browser::tests());
    let conclusion = libtest_mimic::run(&args, support::registry::trials(tests));
    support::browser::stop();
    conclusion.exit();
}
