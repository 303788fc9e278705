//! The built binary, as an operator runs it: serve on a new SQLite file, tokens, CSV, errors.

use crate::once;
use crate::support::{Test, TestApp};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Test> {
    vec![
        once!(serve_creates_the_sqlite_file_and_answers_with_a_cli_token),
        once!(import_and_export_round_trip_and_bad_rows_fail),
        once!(an_unknown_database_scheme_is_refused_clearly),
        once!(usage_import_applies_a_csv_and_savings_prints_the_ledger),
        once!(logs_to_a_pipe_have_no_colour_codes),
        once!(tables_stay_aligned_with_long_values),
        once!(connectors_check_reports_every_problem_in_a_file),
        once!(an_unreadable_policy_condition_is_one_log_line_without_a_backtrace),
    ]
}

fn stackward(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stackward"));
    c.current_dir(dir).env_remove("STACKWARD_DATABASE_URL").env("STACKWARD_LOG", "warn");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run stackward")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_up(base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("stackward serve did not come up at {base}");
}

async fn serve_creates_the_sqlite_file_and_answers_with_a_cli_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(stackward(dir.path()).args(["token", "create", "--role", "admin", "--name", "ops"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "the token alone on stdout: {stdout:?}");
    let token = stdout.trim().to_string();
    assert!(token.starts_with("sw_") && token.len() > 40);
    assert!(dir.path().join("stackward.db").exists(), "default database is ./stackward.db");

    let port = free_port();
    let child = stackward(dir.path())
        .arg("serve")
        .env("STACKWARD_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;
    let client = reqwest::Client::new();
    let me = TestApp::send(client.get(format!("{base}/api/v1/me")).bearer_auth(&token)).await.expect(200);
    assert_eq!(me["role"], "admin");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

async fn import_and_export_round_trip_and_bad_rows_fail() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "email,name,department\nkim@example.com,Kim,IT\nlee@example.com,\"Lee, Jr.\",\n").unwrap();
    let out = run(stackward(dir.path()).args(["import", "--kind", "people"]).arg(&file));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 created"));

    let exported = dir.path().join("export.csv");
    let out = run(stackward(dir.path()).args(["export", "--kind", "people", "-o"]).arg(&exported));
    assert!(out.status.success());
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert!(csv.starts_with("id,email,name,department"));
    assert!(csv.contains("\"Lee, Jr.\""));
    let out = run(stackward(dir.path()).args(["import", "--kind", "people"]).arg(&exported));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 created, 0 updated, 2 unchanged"));

    std::fs::write(&file, "email,name\nmo@example.com,Mo\nbroken,Nina\n").unwrap();
    let out = run(stackward(dir.path()).args(["import", "--kind", "people"]).arg(&file));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2, column email"), "{err}");
    let out = run(stackward(dir.path()).args(["export", "--kind", "people"]));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("mo@example.com"), "nothing of the bad file was kept");
}

async fn an_unknown_database_scheme_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(stackward(dir.path()).arg("migrate").env("STACKWARD_DATABASE_URL", "mysql://root:hunter2@db/x"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL scheme"), "{err}");
    assert!(!err.contains("hunter2"), "credentials never printed: {err}");
}

async fn usage_import_applies_a_csv_and_savings_prints_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        f
    };
    let apps = write("apps.csv", "name\nRetool\n");
    assert!(run(stackward(dir.path()).args(["import", "--kind", "apps"]).arg(&apps)).status.success());
    let seats = write("seats.csv", "app_id,email,status\n1,kim@example.com,active\n1,lee@example.com,active\n");
    assert!(run(stackward(dir.path()).args(["import", "--kind", "accounts"]).arg(&seats)).status.success());

    let usage = write(
        "usage.csv",
        "email,last_active_at\nkim@example.com,2026-11-30T09:00:00Z\nnobody@example.com,2026-11-30T09:00:00Z\n",
    );
    let out = run(stackward(dir.path()).args(["usage", "import", "--app", "retool"]).arg(&usage));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 matched, 1 moved forward, 0 seats created, 1 unknown"), "{err}");
    assert!(err.contains("row 2: no seat of this app has email nobody@example.com"), "{err}");
    let out = run(stackward(dir.path()).args(["export", "--kind", "accounts"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2026-11-30T09:00:00Z"), "the time was applied");

    let bad = write("bad.csv", "email,last_active_at\nkim@example.com,last tuesday\n");
    let out = run(stackward(dir.path()).args(["usage", "import", "--app", "Retool"]).arg(&bad));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("last_active_at: row 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(stackward(dir.path()).args(["usage", "import", "--app", "Nope"]).arg(&usage));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("app: no app is named"));

    let out = run(stackward(dir.path()).args(["savings", "--format", "csv"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("id,recorded_at,kind,action,"));
    let out = run(stackward(dir.path()).args(["savings"]));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("CURRENCY"), "{}", String::from_utf8_lossy(&out.stdout));
}

async fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(stackward(dir.path()).arg("migrate").env("STACKWARD_LOG", "info"));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("migration applied"), "{err}");
    assert!(!err.contains('\u{1b}'), "no ANSI escapes when stderr is not a terminal: {err:?}");
}

/// The cell under `header`'s column in `line`: from the header's start to the next double space.
fn cell_under(table: &str, header: &str, line: &str) -> String {
    let head = table.lines().next().unwrap();
    let at = head.chars().collect::<Vec<_>>();
    let start = (0..at.len()).find(|&i| at[i..].iter().collect::<String>().starts_with(header)).unwrap();
    let chars: String = line.chars().skip(start).collect();
    chars.split("  ").next().unwrap().trim_end().to_string()
}

async fn tables_stay_aligned_with_long_values() {
    let dir = tempfile::tempdir().unwrap();
    let long = "Quarterly licence reconciliation for Ünïted Kingdom finance";
    let email = "a.very.long.mailbox.name.for.the.finance.team@subsidiary.example.com";
    for (name, mail) in [(long, email), ("ops", "ops@example.com")] {
        let out =
            run(stackward(dir.path()).args(["token", "create", "--role", "finance", "--name", name, "--email", mail]));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = run(stackward(dir.path()).args(["token", "list"]));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!(cell_under(&table, "EMAIL", rows[0]), email, "{table}");
    assert_eq!(cell_under(&table, "STATUS", rows[0]), "active", "{table}");
    assert_eq!(cell_under(&table, "STATUS", rows[1]), "active", "{table}");
    assert_eq!(cell_under(&table, "NAME", rows[0]), long, "{table}");

    let out = run(stackward(dir.path()).args(["users", "grant", email, "--role", "auditor"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(stackward(dir.path()).args(["users", "list"]));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let row = table.lines().find(|l| l.starts_with(email)).unwrap_or_else(|| panic!("{table}"));
    assert_eq!(cell_under(&table, "LAST SIGN-IN", row), "never", "{table}");
}

async fn connectors_check_reports_every_problem_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "name = \"My-Tool\"\ntitle = \"Mine\"\napp = \"Mine\"\nbase_url = \"https://{settings.host}\"\n\
        [auth]\nkind = \"none\"\n[[stream]]\nname = \"users\"\npath = \"/users\"\nmethod = \"PUT\"\n\
        records = \"/users\"\n[stream.account]\nexternal_id = \"/id\"\n",
    )
    .unwrap();
    let out = run(stackward(dir.path()).args(["connectors", "check"]).arg(&file));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["mine.toml:1: name \"My-Tool\"", "mine.toml:4: {settings.host}", "method must be GET or POST"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(err.contains("3 problem(s)"), "{err}");
}

async fn an_unreadable_policy_condition_is_one_log_line_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(stackward(dir.path()).args(["token", "create", "--role", "admin", "--name", "ops"]));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let port = free_port();
    let log = dir.path().join("serve.log");
    let child = stackward(dir.path())
        .arg("serve")
        .env("STACKWARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;
    let policy = "[[step]]\nname = \"finance\"\napprover = \"role\"\nrole = \"finance\"\nwhen = \"request.seats >\"\n";
    let reply = reqwest::Client::new()
        .put(format!("{base}/api/v1/policy"))
        .bearer_auth(&token)
        .header("content-type", "application/toml")
        .body(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("cannot be parsed"), "{body}");
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("panicked") && !text.contains("backtrace"), "no panic output: {text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("request.seats >")).collect();
    assert_eq!(lines.len(), 1, "one line with the reason: {text}");
    assert!(lines[0].contains("could not read a policy condition"), "{text}");
}
