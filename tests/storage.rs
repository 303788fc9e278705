//! Storage: both backends end with the same schema, migrations revert and re-apply, and
//! concurrent writers do not fail on SQLite's single writer lock.

use crate::support::{Test, TestApp, TestBackend, TestDb};
use crate::{needs_postgres, per_backend};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use serde_json::json;
use stackward::db::Conn;
use std::collections::BTreeSet;

pub fn tests() -> Vec<Test> {
    vec![
        needs_postgres!(both_backends_have_the_same_tables_columns_and_indexes),
        per_backend!(migrations_revert_and_reapply),
        per_backend!(concurrent_writes_all_succeed),
        per_backend!(a_remembered_figure_is_read_again_after_any_write_to_the_seats),
        per_backend!(a_figure_wanted_by_many_at_once_is_computed_once),
    ]
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Maps each backend's type names to one vocabulary.
fn type_class(t: &str) -> String {
    let t = t.to_lowercase();
    match t.as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        "boolean" => "boolean",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "date" => "date",
        "bytea" | "blob" => "binary",
        other => return other.to_string(),
    }
    .to_string()
}

fn columns(conn: &mut Conn) -> BTreeSet<(String, String, String, bool)> {
    let rows: Vec<ColumnRow> = match conn {
        Conn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 1 ELSE 0 END AS not_null \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .load(c),
        Conn::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
             CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null \
             FROM information_schema.columns WHERE table_schema = current_schema()",
        )
        .load(c),
    }
    .expect("read columns");
    rows.into_iter()
        .filter(|r| r.table_name != "__diesel_schema_migrations")
        .map(|r| (r.table_name, r.column_name, type_class(&r.data_type), r.not_null == 1))
        .collect()
}

fn indexes(conn: &mut Conn) -> BTreeSet<String> {
    let rows: Vec<IndexRow> = match conn {
        Conn::Sqlite(c) => diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
        )
        .load(c),
        Conn::Postgres(c) => diesel::sql_query(
            "SELECT indexname::text AS name FROM pg_indexes \
             WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'",
        )
        .load(c),
    }
    .expect("read indexes");
    rows.into_iter().map(|r| r.name).collect()
}

async fn both_backends_have_the_same_tables_columns_and_indexes() {
    let sqlite = TestDb::new(TestBackend::Sqlite);
    let pg = TestDb::new(TestBackend::Postgres);
    let (mut s, mut p) = (sqlite.db.get().unwrap(), pg.db.get().unwrap());
    let (sc, pc) = (columns(&mut s), columns(&mut p));
    assert!(sc.len() > 50, "expected the inventory tables, got {sc:?}");
    let only_sqlite: Vec<_> = sc.difference(&pc).collect();
    let only_pg: Vec<_> = pc.difference(&sc).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
    assert_eq!(indexes(&mut s), indexes(&mut p));
}

async fn migrations_revert_and_reapply(backend: TestBackend) {
    let t = TestDb::new(backend);
    let mut conn = t.db.get().unwrap();
    let before = columns(&mut conn);
    stackward::db::revert_all(&mut conn).expect("down migrations run");
    assert!(columns(&mut conn).is_empty(), "down.sql must drop every table");
    assert!(t.db.pending_migrations().unwrap() > 0);
    drop(conn);
    let report = t.db.migrate().expect("up again");
    assert!(!report.applied.is_empty());
    assert_eq!(t.db.pending_migrations().unwrap(), 0);
    assert_eq!(columns(&mut t.db.get().unwrap()), before);
}

async fn concurrent_writes_all_succeed(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Slack").await;
    let creates = (0..24).map(|i| {
        let body = json!({"app_id": app_id, "email": format!("user{i}@example.com"), "external_id": format!("U{i}")});
        app.post("/api/v1/accounts", body)
    });
    for reply in futures_util::future::join_all(creates).await {
        reply.expect(201);
    }
    let list = app.get(&format!("/api/v1/accounts?app_id={app_id}&limit=500")).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 24);
}

/// Counts the seats through `remember`, saying whether it had to read them.
fn remembered_count(conn: &mut Conn) -> (i64, bool) {
    use stackward::db::schema::accounts;
    let mut read = false;
    let n = stackward::db::remember(conn, stackward::db::Stamped::Accounts, "storage test: seats".into(), |c| {
        read = true;
        accounts::table.count().get_result::<i64>(c)
    })
    .unwrap();
    (n, read)
}

/// Figures over the seats are remembered under the seat table's change stamp: an insert, an
/// update or a delete from any connection makes the next reader count again, a rolled-back
/// write leaves the committed figure standing, and an unchanged table is not read twice.
async fn a_remembered_figure_is_read_again_after_any_write_to_the_seats(backend: TestBackend) {
    use stackward::db::schema::accounts;
    let app = TestApp::new(backend).await;
    let app_id = app.app("Slack").await;
    let add = |i: usize| app.post("/api/v1/accounts", json!({"app_id": app_id, "email": format!("u{i}@example.com")}));
    add(0).await.expect(201);
    let mut conn = app.db.db.get().unwrap();
    assert_eq!(remembered_count(&mut conn), (1, true));
    assert_eq!(remembered_count(&mut conn), (1, false), "unchanged: remembered");

    add(1).await.expect(201);
    assert_eq!(remembered_count(&mut conn), (2, true), "an insert through another connection");
    assert_eq!(remembered_count(&mut conn), (2, false));

    diesel::update(accounts::table).set(accounts::name.eq("Someone")).execute(&mut *conn).unwrap();
    assert_eq!(remembered_count(&mut conn), (2, true), "an update");

    let rolled_back = conn.transaction::<(), diesel::result::Error, _>(|c| {
        diesel::delete(accounts::table).execute(c)?;
        assert_eq!(remembered_count(c), (0, true), "the transaction's own view");
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    assert_eq!(remembered_count(&mut conn), (2, false), "a rolled-back delete changes nothing");

    let one: i64 =
        accounts::table.select(diesel::dsl::min(accounts::id)).first::<Option<i64>>(&mut *conn).unwrap().unwrap();
    diesel::delete(accounts::table.find(one)).execute(&mut *conn).unwrap();
    assert_eq!(remembered_count(&mut conn), (1, true), "a delete");
}

/// After a write, requests that all want the same figure wait for one of them to compute it.
async fn a_figure_wanted_by_many_at_once_is_computed_once(backend: TestBackend) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let app = TestApp::new(backend).await;
    let app_id = app.app("Slack").await;
    app.post("/api/v1/accounts", json!({"app_id": app_id, "email": "u@example.com"})).await.expect(201);
    let computed = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (db, computed) = (app.db.db.clone(), computed.clone());
            std::thread::spawn(move || {
                let mut conn = db.get().unwrap();
                stackward::db::remember(
                    &mut conn,
                    stackward::db::Stamped::Accounts,
                    "storage test: slow".into(),
                    |_| {
                        computed.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        Ok(42i64)
                    },
                )
                .unwrap()
            })
        })
        .collect();
    let got: Vec<i64> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(got, [42; 4]);
    assert_eq!(computed.load(Ordering::SeqCst), 1, "one computation for four readers");
}
