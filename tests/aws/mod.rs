//! Tests of the AWS adapter: typed request tests with aws-smithy-mocks, error handling, and calls over
//! the wire against a moto server on loopback.

mod datasync;
mod errors;
mod fsx;
mod logs;
mod migration;
mod moto;
mod names;
mod route53;
mod secrets;
mod ssm;
mod support;
