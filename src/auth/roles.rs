//! The roles a token can hold; each route names the roles it allows.

crate::text_enum!(
    /// What a token's holder is allowed to do.
    Role {
        /// Everything, including tokens and settings.
        Admin => "admin",
        /// Runs the stack: apps, accounts, people, connections.
        It => "it",
        /// Contracts, spend and renewals.
        Finance => "finance",
        /// Data risk: reads everything, reviews sensitive requests.
        Security => "security",
        /// Decides requests routed to them.
        Approver => "approver",
        /// Reads their own person and accounts, asks for tools.
        Employee => "employee",
        /// Reads everything, changes nothing.
        Auditor => "auditor",
    }
);
