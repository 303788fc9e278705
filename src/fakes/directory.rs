//! The generated people every fake serves: user `i` is derived from `i` alone, so a fake of
//! 100,000 users holds no list, only the changes a test makes (removals, new activity).

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::{BTreeSet, HashMap};

const GIVEN: &[&str] = &["Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jon", "Kira", "Luca"];
const FAMILY: &[&str] = &["Ng", "Okafor", "Patel", "Quinn", "Rossi", "Sato", "Tanaka", "Usman", "Varga", "Weber"];
const DEPARTMENTS: &[&str] = &["Engineering", "Sales", "Marketing", "Finance", "Support", "Operations"];

/// One generated person as every vendor fake sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    /// Position in the directory (0-based); vendor ids are derived from it.
    pub index: usize,
    /// Work email, lower-case: `user{index}@example.com`.
    pub email: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Department.
    pub department: String,
    /// Job title.
    pub title: String,
    /// Index of their manager, if any.
    pub manager: Option<usize>,
    /// Blocked from signing in.
    pub suspended: bool,
    /// An administrator of the vendor's tenant.
    pub admin: bool,
    /// Holds a paid licence (the others are free or guest accounts).
    pub licensed: bool,
    /// Last sign-in; None = never signed in.
    pub last_active: Option<DateTime<Utc>>,
    /// When the vendor account was created.
    pub created: DateTime<Utc>,
}

impl FakeUser {
    /// "Given Family".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// A stable vendor-style id: `prefix` + the index in fixed-width hex (e.g. `U00002A`).
    pub fn id(&self, prefix: &str) -> String {
        format!("{prefix}{:06X}", self.index)
    }

    /// A stable GUID-shaped id (Microsoft, SCIM servers).
    pub fn guid(&self) -> String {
        format!("00000000-0000-4000-8000-{:012x}", self.index)
    }

    /// A stable numeric id (GitHub, Zendesk, Zoom-style).
    pub fn number(&self) -> u64 {
        1_000_000 + self.index as u64
    }
}

/// What a test changed about one user.
#[derive(Debug, Clone, Default)]
struct Change {
    last_active: Option<Option<DateTime<Utc>>>,
    suspended: Option<bool>,
}

/// The generated directory: `size` users, minus removals, with per-user changes.
#[derive(Debug, Clone)]
pub struct Directory {
    size: usize,
    now: DateTime<Utc>,
    removed: BTreeSet<usize>,
    changes: HashMap<usize, Change>,
}

impl Directory {
    /// `size` users, with activity relative to `now`.
    pub fn new(size: usize, now: DateTime<Utc>) -> Self {
        Self { size, now, removed: BTreeSet::new(), changes: HashMap::new() }
    }

    /// The clock the generated dates are relative to.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// How many users exist, removals excluded.
    pub fn len(&self) -> usize {
        self.size - self.removed.len()
    }

    /// How many users the directory was generated with, removals included.
    pub fn size(&self) -> usize {
        self.size
    }

    /// True when user `index` exists and holds a paid licence, without building the user (fakes that
    /// page over licensed users only must not generate 100,000 users per page).
    pub fn licensed(&self, index: usize) -> bool {
        index < self.size && !self.removed.contains(&index) && licensed(index)
    }

    /// True when user `index` exists and is suspended, without building the user.
    pub fn suspended(&self, index: usize) -> bool {
        index < self.size
            && !self.removed.contains(&index)
            && self.changes.get(&index).and_then(|c| c.suspended).unwrap_or(suspended(index))
    }

    /// True when no user exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// User `index`, or None when removed or beyond the directory.
    pub fn user(&self, index: usize) -> Option<FakeUser> {
        if index >= self.size || self.removed.contains(&index) {
            return None;
        }
        let mut u = generate(index, self.now);
        if let Some(c) = self.changes.get(&index) {
            if let Some(t) = c.last_active {
                u.last_active = t;
            }
            if let Some(s) = c.suspended {
                u.suspended = s;
            }
        }
        Some(u)
    }

    /// The user whose email is `email`, if present.
    pub fn by_email(&self, email: &str) -> Option<FakeUser> {
        let index = email.strip_prefix("user")?.strip_suffix("@example.com")?.parse().ok()?;
        self.user(index)
    }

    /// Up to `limit` users with index ≥ `from`, and the index to continue from when more follow.
    pub fn page(&self, from: usize, limit: usize) -> (Vec<FakeUser>, Option<usize>) {
        let mut out = Vec::with_capacity(limit.min(1000));
        let mut i = from;
        while i < self.size && out.len() < limit {
            if let Some(u) = self.user(i) {
                out.push(u);
            }
            i += 1;
        }
        while i < self.size && self.removed.contains(&i) {
            i += 1;
        }
        (out, (i < self.size).then_some(i))
    }

    /// Every live index in order (for fakes whose pages are computed another way).
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.size).filter(|i| !self.removed.contains(i))
    }

    /// Removes user `index` from the vendor.
    pub fn remove(&mut self, index: usize) {
        if index < self.size {
            self.removed.insert(index);
        }
    }

    /// Sets user `index`'s last sign-in (None = never).
    pub fn set_last_active(&mut self, index: usize, at: Option<DateTime<Utc>>) {
        self.changes.entry(index).or_default().last_active = Some(at);
    }

    /// Suspends or reactivates user `index`.
    pub fn set_suspended(&mut self, index: usize, suspended: bool) {
        self.changes.entry(index).or_default().suspended = Some(suspended);
    }
}

/// Whether user `index` holds a paid licence (index % 7 == 6 does not).
fn licensed(index: usize) -> bool {
    index % 7 != 6
}

/// Whether user `index` is generated suspended (index % 23 == 5).
fn suspended(index: usize) -> bool {
    index % 23 == 5
}

/// The fixed rules users are generated by; tests rely on them.
/// - every 10th user (index % 10 == 3) never signed in;
/// - the others last signed in `(index * 37) % 150` days before `now` (about 60 % within 60 days);
/// - index % 23 == 5 is suspended; index 0 and every 50th are admins;
/// - index % 7 == 6 holds no paid licence;
/// - the manager of `i` is `i / 10 * 10` (users 0, 10, 20 … manage; 0 has none).
fn generate(index: usize, now: DateTime<Utc>) -> FakeUser {
    let given = GIVEN[index % GIVEN.len()];
    let family = FAMILY[(index / GIVEN.len()) % FAMILY.len()];
    let last_active = if index % 10 == 3 {
        None
    } else {
        let days = ((index * 37) % 150) as i64;
        Some(now - Duration::days(days) - Duration::minutes((index % 600) as i64))
    };
    let manager = (!index.is_multiple_of(10)).then_some(index / 10 * 10).or((index >= 10).then_some(0));
    let created = Utc.with_ymd_and_hms(2022, 1, 3, 9, 0, 0).single().unwrap_or(now) + Duration::hours(index as i64);
    FakeUser {
        index,
        email: format!("user{index}@example.com"),
        given_name: given.to_string(),
        family_name: family.to_string(),
        department: DEPARTMENTS[index % DEPARTMENTS.len()].to_string(),
        title: if index.is_multiple_of(10) { "Manager".into() } else { "Specialist".into() },
        manager,
        suspended: suspended(index),
        admin: index.is_multiple_of(50),
        licensed: licensed(index),
        last_active,
        created: created.min(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_skip_removed_users_and_say_where_to_continue() {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let mut d = Directory::new(25, now);
        d.remove(3);
        d.remove(24);
        let (first, next) = d.page(0, 10);
        assert_eq!(first.iter().map(|u| u.index).collect::<Vec<_>>(), vec![0, 1, 2, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(next, Some(11));
        let (last, next) = d.page(20, 10);
        assert_eq!(last.len(), 4);
        assert_eq!(next, None, "a removed last user leaves no empty page behind");
        assert_eq!(d.len(), 23);
        assert_eq!(d.by_email("user7@example.com").map(|u| u.index), Some(7));
        assert!(d.user(3).is_none());
        assert_eq!(d.user(13).and_then(|u| u.last_active), None, "index % 10 == 3 never signed in");
        d.set_last_active(13, Some(now));
        assert_eq!(d.user(13).and_then(|u| u.last_active), Some(now));
    }
}
