//! Ids that several layers carry: a connection is owned by sync, but the people, accounts and
//! findings it brought name it too, so its id lives below all of them.

crate::id_type!(
    /// Id of a connection.
    ConnectionId
);
