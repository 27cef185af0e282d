//! Choosing the backend from the global flags: a simulated world (`--sim`) or AWS. Everything above this
//! is the same code for both.

use jiff::Timestamp;

use super::Global;
use crate::aws::{AwsOptions, AwsPort};
use crate::cloud::port::{CloudError, CloudPort, Command, Response};
use crate::engine::clock::Clock;
use crate::error::Failure;
use crate::sim::SimPort;

/// The port a command runs against.
pub enum AnyPort {
    Sim(Box<SimPort>),
    Aws(AwsPort),
}

impl AnyPort {
    /// `starts_run`: a `run`/`resume` starts a simulated world's standing clock and needs the world to itself
    /// (it holds the world's lock while it runs); other commands only read, so they also work on a snapshot
    /// of a world another process is running, and then never write it.
    pub async fn open(global: &Global, starts_run: bool) -> Result<AnyPort, Failure> {
        if let Some(world) = &global.sim {
            let port = if starts_run {
                SimPort::open(world, global.sim_speed, true)?
            } else {
                SimPort::open_for_reading(world, global.sim_speed)?
            };
            return Ok(AnyPort::Sim(Box::new(port)));
        }
        let options = AwsOptions {
            profile: global.profile.clone(),
            region: global.region.clone(),
            endpoint_url: global.endpoint_url.clone(),
        };
        let port = AwsPort::connect(&options).await.map_err(|e| {
            let mut failure = Failure::user("cannot set up the AWS clients");
            for cause in e.chain() {
                failure = failure.cause(cause);
            }
            failure.hint(
                "check --profile / --region (or AWS_PROFILE / AWS_REGION), or rehearse with --sim WORLD.json",
            )
        })?;
        Ok(AnyPort::Aws(port))
    }

    pub fn clock(&self) -> Clock {
        match self {
            AnyPort::Sim(sim) => sim.clock(),
            AnyPort::Aws(_) => Clock::System,
        }
    }

    pub fn now(&self) -> Timestamp {
        match self {
            AnyPort::Sim(sim) => sim.now(),
            AnyPort::Aws(_) => Timestamp::now(),
        }
    }
}

impl CloudPort for AnyPort {
    async fn execute(&mut self, command: &Command) -> Result<Response, CloudError> {
        match self {
            AnyPort::Sim(sim) => sim.execute(command).await,
            AnyPort::Aws(aws) => aws.execute(command).await,
        }
    }

    fn settle(&mut self) -> Result<(), CloudError> {
        match self {
            AnyPort::Sim(sim) => sim.settle(),
            AnyPort::Aws(aws) => aws.settle(),
        }
    }
}
