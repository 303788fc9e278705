//! Figures computed over a large table, kept in memory until that table changes. Each stamped
//! table has a row in `change_stamps` that its triggers set to a new random value in the same
//! transaction as every write, so a figure remembered under the stamp it was read at is exact
//! for as long as that stamp stands, across processes sharing the database: a replica that
//! did not make the change sees the new stamp all the same.

use super::schema::change_stamps;
use super::Conn;
use diesel::prelude::*;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// A table whose writes change its stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stamped {
    /// Seats.
    Accounts,
    /// Findings.
    Findings,
}

impl Stamped {
    fn name(self) -> &'static str {
        match self {
            Stamped::Accounts => "accounts",
            Stamped::Findings => "findings",
        }
    }
}

/// Remembered figures beyond this many are all forgotten at once (each is a few hundred rows
/// at most; stamps of other databases in the same process share the room).
const ROOM: usize = 256;

type Key = (Stamped, i64, String);
type Remembered = HashMap<Key, Arc<dyn Any + Send + Sync>>;

static REMEMBERED: LazyLock<Mutex<Remembered>> = LazyLock::new(Default::default);
/// A lock per figure being computed: after a write, the many requests that want the same figure
/// wait for one of them to read it instead of all reading a million seats at once.
static COMPUTING: LazyLock<Mutex<HashMap<Key, Arc<Mutex<()>>>>> = LazyLock::new(Default::default);

/// The current stamp of `table`.
pub fn stamp(conn: &mut Conn, table: Stamped) -> QueryResult<i64> {
    change_stamps::table.find(table.name()).select(change_stamps::stamp).first(conn)
}

/// `compute`'s result for `key` as of `table`'s current stamp: remembered from an earlier call
/// under the same stamp, else computed now (once, however many ask at the same time) and
/// remembered. `key` names the figure and every input besides the table (`compute` must read
/// nothing else that can change unseen).
pub fn remember<V, F>(conn: &mut Conn, table: Stamped, key: String, compute: F) -> QueryResult<V>
where
    V: Clone + Send + Sync + 'static,
    F: FnOnce(&mut Conn) -> QueryResult<V>,
{
    // The stamp is read before the figure: a write committed in between leaves a newer figure
    // under the older stamp, which no later reader asks for; the other order could keep a
    // stale figure under the new stamp.
    let key = (table, stamp(conn, table)?, key);
    if let Some(v) = recall::<V>(&key) {
        return Ok(v);
    }
    let turn = Arc::clone(lock(&COMPUTING).entry(key.clone()).or_default());
    let _turn = lock(&turn);
    // Whoever held the turn before may have computed it.
    if let Some(v) = recall::<V>(&key) {
        return Ok(v);
    }
    let computed = compute(conn);
    if let Ok(v) = &computed {
        let mut kept = lock(&REMEMBERED);
        if kept.len() >= ROOM {
            kept.clear();
        }
        kept.insert(key.clone(), Arc::new(v.clone()));
    }
    lock(&COMPUTING).remove(&key);
    computed
}

fn recall<V: Clone + 'static>(key: &Key) -> Option<V> {
    lock(&REMEMBERED).get(key).and_then(|v| v.downcast_ref::<V>()).cloned()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves only a cache behind: keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
