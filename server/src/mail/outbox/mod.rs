//! The outbox: durable queue (`store`) and the workers that send through
//! Graph (`worker`). A message is committed before anyone is told "queued";
//! each state change is guarded by the lease of the worker that holds it.
pub mod group_commit;
pub mod store;
pub mod worker;
