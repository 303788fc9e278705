//! The savings ledger: money saved by actions (realised), money not spent because a request was
//! rejected or redirected to a tool the stack has (avoided), and what open findings could still
//! save (potential). One entry per action, unique by its key, so nothing is counted twice;
//! totals are per currency and never summed across currencies. The workflow and the actions
//! that lower spend record entries here; this module imports neither.

pub mod contracts;
mod ledger;

pub use ledger::{ledger, list, record, CurrencyTotal, Ledger, NewEntry, SavingsEntry, SavingsEntryId};

crate::text_enum!(
    /// Realised or avoided.
    SavingsKind {
        /// Spend an action lowered.
        Realised => "realised",
        /// Spend a decision kept from starting.
        Avoided => "avoided",
    }
);

crate::text_enum!(
    /// The action an entry records.
    SavingsAction {
        /// Seats taken back (a completed reclaim request).
        Reclaim => "reclaim",
        /// Seats moved to a cheaper plan.
        Downgrade => "downgrade",
        /// The contract's seat count lowered.
        SeatReduction => "seat_reduction",
        /// A subscription cancelled, or set not to renew.
        Cancellation => "cancellation",
        /// A new-tool or add-seats request rejected.
        RequestRejected => "request_rejected",
        /// A new-tool request withdrawn after the advice named a tool the stack has.
        RequestRedirected => "request_redirected",
    }
);
