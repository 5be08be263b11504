//! `osrs`: the OpenStack Image service (Glance) from the command line.
//!
//! openstackclient's `image` commands with the same names and flags, on the openstack-rs
//! SDK: uploads hashed in flight and checked by Glance, downloads verified, atomic and
//! resumed, no total timeouts (only idle ones), and `image copy` between clouds.
//!
//! Exit codes: 0 success; 1 an API or usage error; 2 bad arguments; 3 a checksum mismatch.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use openstack_client::Error;

mod cli;
mod commands;
mod connect;
mod copy;
mod create;
mod metadef;
mod output;
mod progress;
mod projects;
mod records;
mod sort;
mod token_cache;

use cli::{Cli, Command};

/// A checksum mismatch: the data is not what the server says it is.
const EXIT_CHECKSUM: u8 = 3;

/// What a command failed with.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The SDK's error (printed with its cause chain and request id).
    Api(Error),
    /// A usage problem found by osrs itself.
    Usage(String),
    /// A command over several targets went on past failures (each reported as it happened),
    /// as openstackclient does: this says how many failed.
    Partial {
        /// openstackclient's summary, e.g. "Failed to delete 2 of 5 images."
        summary: String,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Api(e)
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Usage(e)
    }
}

pub(crate) type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completion { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "osrs", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    if cli.global.debug || cli.global.verbose > 1 {
        use tracing_subscriber::filter::LevelFilter;
        let level = if cli.global.debug { LevelFilter::DEBUG } else { LevelFilter::INFO };
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).init();
    }
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("osrs: cannot start the runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message) | Failure::Partial { summary: message }) => {
            eprintln!("osrs: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Api(e)) => {
            let mut line = format!("osrs: {}", e.report());
            if let Some(id) = e.request_id().filter(|id| !line.contains(*id)) {
                line.push_str(&format!(" (request id {id})"));
            }
            eprintln!("{line}");
            if matches!(e.kind(), Error::ChecksumMismatch { .. }) {
                ExitCode::from(EXIT_CHECKSUM)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
