//! The sans-IO core: the migration as a pure function of (intent, checkpoint, input, now).
//!
//! Nothing in here performs I/O, awaits, or knows about the SDK; it is tested with a virtual clock.

pub mod evidence;
pub mod forecast;
pub mod lane;
pub mod machine;
pub mod preflight;
pub mod service;

pub use machine::{
    Action, CheckRefusal, ConfirmKind, Confirmation, Event, Halt, Input, IrreversibleStep, OperatorCommand,
    PROBE_NAME, RunOptions, Step, check_probes, check_refusal, step,
};
