//! The people who may sign in to the pages, and their roles. A role is either granted here
//! (`stackward users grant`, kept until revoked) or comes from the identity provider's claim
//! (replaced at every sign-in). Someone with no role is an employee.

use super::{Role, SignInError};
use crate::audit::{self, Actor};
use crate::db::schema::{people, user_roles, users};
use crate::db::Conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

crate::id_type!(
    /// Id of a user (a person who can sign in).
    UserId
);

crate::text_enum!(
    /// Where a user's role comes from.
    RoleSource {
        /// Granted in stackward; kept across sign-ins.
        Local => "local",
        /// From the identity provider's roles claim at the last sign-in.
        Provider => "provider",
    }
);

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Their email, lower-case; it is how they are recognised.
    pub email: String,
    /// Their name, as the identity provider gave it.
    pub name: Option<String>,
    /// When they were first seen.
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When they last signed in.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub last_sign_in_at: Option<NaiveDateTime>,
}

/// A role a user holds and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeldRole {
    /// The role.
    pub role: Role,
    /// Granted here or by the provider.
    pub source: RoleSource,
}

/// The roles a user holds, as the audit log keeps them: a record is an object, never a bare list.
#[derive(Serialize)]
struct Roles<'a> {
    roles: &'a [HeldRole],
}

fn checked_email(email: &str) -> Result<String, SignInError> {
    let mut email = email.to_string();
    crate::inventory::validate::email("email", &mut email)
        .map_err(|e| SignInError::Invalid { field: "email", message: e.message })?;
    Ok(email)
}

/// The user with `email` (any case), if there is one.
pub fn find_by_email(conn: &mut Conn, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email.trim().to_lowercase())).select(User::as_select()).first(conn).optional()
}

/// The user with `id`.
pub fn find(conn: &mut Conn, id: UserId) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

/// The user with `email`, created when unknown; a given `name` replaces the stored one.
pub fn find_or_create(conn: &mut Conn, email: &str, name: Option<&str>) -> Result<User, SignInError> {
    let email = checked_email(email)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(200).collect::<String>());
    crate::db::write_tx(conn, |conn| {
        if let Some(found) = find_by_email(conn, &email)? {
            if name.is_some() && name != found.name {
                diesel::update(users::table.find(found.id)).set(users::name.eq(&name)).execute(conn)?;
                return Ok(find(conn, found.id)?);
            }
            return Ok(found);
        }
        let id: UserId = diesel::insert_into(users::table)
            .values((users::email.eq(&email), users::name.eq(&name), users::created_at.eq(crate::time::now())))
            .returning(users::id)
            .get_result(conn)?;
        let user = find(conn, id)?;
        audit::record(conn, &Actor("stackward".into()), "user.create", "user", user.id, None, Some(&user))?;
        Ok(user)
    })
}

/// Gives `email` the role locally (creating the user when unknown); granting twice is a no-op.
pub fn grant(conn: &mut Conn, actor: &Actor, email: &str, role: Role) -> Result<User, SignInError> {
    crate::db::write_tx(conn, |conn| {
        let user = find_or_create(conn, email, None)?;
        let held = roles_held(conn, user.id)?;
        let local = HeldRole { role, source: RoleSource::Local };
        if !held.contains(&local) {
            diesel::insert_into(user_roles::table)
                .values((
                    user_roles::user_id.eq(user.id),
                    user_roles::role.eq(role),
                    user_roles::source.eq(RoleSource::Local),
                    user_roles::granted_at.eq(crate::time::now()),
                ))
                .execute(conn)?;
            let after: Vec<HeldRole> = roles_held(conn, user.id)?;
            audit::record(
                conn,
                actor,
                "user.grant",
                "user",
                user.id,
                Some(&Roles { roles: &held }),
                Some(&Roles { roles: &after }),
            )?;
        }
        Ok(user)
    })
}

/// Takes a locally granted role away; true when the user held it.
pub fn revoke(conn: &mut Conn, actor: &Actor, email: &str, role: Role) -> Result<bool, SignInError> {
    crate::db::write_tx(conn, |conn| {
        let Some(user) = find_by_email(conn, email)? else { return Ok(false) };
        let before = roles_held(conn, user.id)?;
        let n = diesel::delete(
            user_roles::table
                .filter(user_roles::user_id.eq(user.id))
                .filter(user_roles::role.eq(role))
                .filter(user_roles::source.eq(RoleSource::Local)),
        )
        .execute(conn)?;
        if n > 0 {
            let after = roles_held(conn, user.id)?;
            audit::record(
                conn,
                actor,
                "user.revoke",
                "user",
                user.id,
                Some(&Roles { roles: &before }),
                Some(&Roles { roles: &after }),
            )?;
        }
        Ok(n > 0)
    })
}

/// Every role row of a user.
pub fn roles_held(conn: &mut Conn, id: UserId) -> QueryResult<Vec<HeldRole>> {
    let rows: Vec<(Role, RoleSource)> = user_roles::table
        .filter(user_roles::user_id.eq(id))
        .order((user_roles::role.asc(), user_roles::source.asc()))
        .select((user_roles::role, user_roles::source))
        .load(conn)?;
    Ok(rows.into_iter().map(|(role, source)| HeldRole { role, source }).collect())
}

/// Replaces the roles that came from the identity provider with `roles`.
pub fn set_provider_roles(conn: &mut Conn, id: UserId, roles: &[Role]) -> Result<(), SignInError> {
    crate::db::write_tx(conn, |conn| {
        let before = roles_held(conn, id)?;
        let mut wanted = roles.to_vec();
        wanted.sort_by_key(|r| r.as_str());
        wanted.dedup();
        let had: Vec<Role> = before.iter().filter(|h| h.source == RoleSource::Provider).map(|h| h.role).collect();
        let mut had_sorted = had.clone();
        had_sorted.sort_by_key(|r| r.as_str());
        if had_sorted == wanted {
            return Ok(());
        }
        diesel::delete(
            user_roles::table.filter(user_roles::user_id.eq(id)).filter(user_roles::source.eq(RoleSource::Provider)),
        )
        .execute(conn)?;
        let now = crate::time::now();
        for role in &wanted {
            diesel::insert_into(user_roles::table)
                .values((
                    user_roles::user_id.eq(id),
                    user_roles::role.eq(role),
                    user_roles::source.eq(RoleSource::Provider),
                    user_roles::granted_at.eq(now),
                ))
                .execute(conn)?;
        }
        let after = roles_held(conn, id)?;
        audit::record(
            conn,
            &Actor("identity-provider".into()),
            "user.roles",
            "user",
            id,
            Some(&Roles { roles: &before }),
            Some(&Roles { roles: &after }),
        )?;
        Ok(())
    })
}

/// Every user with the roles they hold, by email.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<(User, Vec<HeldRole>)>> {
    let all: Vec<User> = users::table.order(users::email.asc()).select(User::as_select()).load(conn)?;
    let mut out = Vec::with_capacity(all.len());
    for u in all {
        let held = roles_held(conn, u.id)?;
        out.push((u, held));
    }
    Ok(out)
}

/// True when a sign-in link may be mailed to `email`: a user, or an active person of the directory.
pub fn is_known(conn: &mut Conn, email: &str) -> QueryResult<bool> {
    let email = email.trim().to_lowercase();
    if find_by_email(conn, &email)?.is_some() {
        return Ok(true);
    }
    let person: Option<i64> = people::table
        .filter(people::email.eq(&email))
        .filter(people::status.eq("active"))
        .select(people::id)
        .first(conn)
        .optional()?;
    Ok(person.is_some())
}
