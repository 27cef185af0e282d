//! The cloud port and its vocabulary: what the core may ask of the outside world ([`port::Command`]), what it
//! hears back ([`port::Response`], [`port::CloudError`]), and the plain types both speak ([`model`]). Both
//! adapters — the simulator and the AWS SDK — implement [`port::CloudPort`]; nothing here does I/O.

pub mod model;
pub mod port;
pub mod windows;
