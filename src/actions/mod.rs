//! Actions: what stackward does at a vendor after a decision. Today that is reclaim: the
//! workflow queues an approved reclaim whose seats one live connection brought; here it is
//! claimed (once across replicas), the connector's `reclaim` action removes each seat, and the
//! result goes back to the request. Runs after a decision (API, command line) and from the
//! scheduler every minute, so a reclaim interrupted by a restart still runs. Sync never calls
//! this module.

mod reclaim;
mod request;
pub mod vendor;

pub use reclaim::run_queued;
pub use vendor::Target;
