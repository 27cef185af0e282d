//! The engine: carries out the core's actions against a cloud port. The driver loop (write-ahead checkpoints,
//! retries, pacing, confirmations, the freeze command), the clocks it runs on, and the dry run that drives the
//! same loop against a throwaway simulated world.

pub mod clock;
pub mod driver;
pub mod dry_run;
pub mod hooks;
pub mod script;
pub mod shell;
