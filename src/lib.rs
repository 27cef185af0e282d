//! fsx-migrate: move an Amazon FSx for Windows File Server file system from Single-AZ to Multi-AZ with
//! minutes of downtime. See docs/ARCHITECTURE.md for the map of this crate.

pub mod aws;
pub mod cli;
pub mod cloud;
pub mod core;
pub mod engine;
pub mod error;
pub mod files;
pub mod plan;
pub mod sim;
