//! The plan file: one TOML file per migration holding the operator's intent and the tool's checkpoint.

pub mod checkpoint;
pub mod file;
pub mod intent;
pub mod inventory;
pub mod partition;
pub mod planner;
pub mod render;
pub mod run_record;
pub mod units;
pub mod window;

pub use checkpoint::{Checkpoint, CurrentSync, LaneState, Leg, Phase, PhaseEntry, SyncRecord};
pub use intent::Intent;
