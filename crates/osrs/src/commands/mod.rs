//! The commands, one module each (like cargo's `commands/*.rs`): each owns its arguments
//! (clap) and runs them (parse → SDK call → output).

use std::future::IntoFuture;

use crate::cli::{Cli, Command};
use crate::token_cache::TokenCache;
use crate::{CliError, Outcome, connect};

pub(crate) mod cache;
pub(crate) mod copy;
pub(crate) mod create;
pub(crate) mod image;
pub(crate) mod import;
pub(crate) mod inspect;
pub(crate) mod member;
pub(crate) mod metadef;
pub(crate) mod store;
pub(crate) mod task;

use cache::CachedCmd;

/// Runs a parsed command line.
pub(crate) async fn run(cli: Cli) -> Outcome {
    // Inspecting a local file needs no cloud (nor its configuration).
    let cli = match cli.command {
        Command::Image(cmd) => match *cmd {
            image::ImageCmd::Inspect(args) => return inspect::exec(args).await,
            other => Cli { command: Command::Image(Box::new(other)), ..cli },
        },
        _ => cli,
    };
    let cfg = connect::config(&cli.global)?;
    let mut cache = TokenCache::for_config(&cfg, cli.global.no_token_cache);
    let img = connect::image(cfg)?;
    if let Some(c) = &mut cache {
        c.load(img.session()).await;
    }
    let outcome = match cli.command {
        Command::Image(cmd) => image::exec(&img, &cli.global, *cmd).await,
        Command::Cached { what: CachedCmd::Image(cmd) } => cache::exec(&img, cmd).await,
        Command::Completion { .. } => Ok(()),
    };
    if let Some(c) = &cache {
        c.store(img.session()).await;
    }
    outcome
}

/// Runs `action` on every target, going on past failures as openstackclient does: each
/// failure is printed when it happens (`osrs: <failed_one(target)>: <error>`, e.g.
/// "Failed to delete image with name or ID 'x': ..."), and the command then fails with
/// [`CliError::Partial`], whose text is openstackclient's `summary` for the command.
pub(crate) async fn each<'a, F, Fut, T>(
    targets: &'a [String],
    failed_one: impl Fn(&str) -> String,
    summary: &'static str,
    mut action: F,
) -> Outcome
where
    F: FnMut(&'a str) -> Fut,
    Fut: IntoFuture<Output = openstack_client::Result<T>>,
{
    let mut failed = 0;
    for target in targets {
        if let Err(e) = action(target.as_str()).await {
            eprintln!("osrs: {}: {}", failed_one(target), CliError::Api(e));
            failed += 1;
        }
    }
    if failed == 0 {
        return Ok(());
    }
    Err(CliError::Partial { failed, total: targets.len(), summary: summary.to_string() })
}
