//! fsx-migrate: move an Amazon FSx for Windows File Server file system from Single-AZ to Multi-AZ with
//! minutes of downtime. See docs/ARCHITECTURE.md for the map of this crate.

pub mod aws;
pub mod cli;
pub mod clock;
pub mod core;
pub mod driver;
pub mod error;
pub mod forecast_run;
pub mod model;
pub mod plan;
pub mod planner;
pub mod port;
pub mod progress;
pub mod report;
pub mod sim;
pub mod units;
