//! Connections: a connector plus one tenant's settings and (encrypted) secrets.

crate::id_type!(
    /// Id of a connection.
    ConnectionId
);
