//! The one integration-test binary (ripgrep/jj style): every test module is included from here.

mod support;

mod aws;

mod check;

mod cli;
mod core;
mod crash;
mod engine;
mod inventory;
mod lanes;
mod names;
mod partition;
mod plan_file;
mod properties;
mod safety;
mod shares;
mod sim;
mod tidy;
mod upgrade;
mod window;
mod windows;
