//! The command line: openstackclient's image commands, same names and flags. The global
//! options and the top of the tree are here; each command's own are in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::cache::CachedCmd;
use crate::commands::image::ImageCmd;

/// osrs: the OpenStack Image service from the command line, with openstackclient's
/// `image` commands, verified and resumable transfers, and `image copy` between clouds.
#[derive(Debug, Parser)]
#[command(
    name = "osrs",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "HTTP proxies: like `openstack` (which has no proxy option either), osrs reads \
                  https_proxy, http_proxy, all_proxy and no_proxy (lower case first, then \
                  HTTPS_PROXY, ...). https:// URLs go through a CONNECT tunnel; a user and \
                  password in the proxy URL are sent to the proxy and never printed."
)]
pub(crate) struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (openstackclient's names and `OS_*` variables).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
    /// Cloud name in clouds.yaml.
    #[arg(long = "os-cloud", env = "OS_CLOUD", global = true, value_name = "NAME")]
    pub os_cloud: Option<String>,
    /// Region name.
    #[arg(long = "os-region-name", env = "OS_REGION_NAME", global = true, value_name = "REGION")]
    pub os_region_name: Option<String>,
    /// Interface: public, internal or admin.
    #[arg(long = "os-interface", env = "OS_INTERFACE", global = true, value_name = "INTERFACE")]
    pub os_interface: Option<String>,
    /// CA bundle to verify the servers' certificates with.
    #[arg(long = "os-cacert", env = "OS_CACERT", global = true, value_name = "FILE")]
    pub os_cacert: Option<PathBuf>,
    /// Do not verify the servers' certificates.
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Image API version: `2` or a pinned `2.N` (newer calls are refused before sending).
    #[arg(
        long = "os-image-api-version",
        env = "OS_IMAGE_API_VERSION",
        global = true,
        value_name = "VERSION"
    )]
    pub os_image_api_version: Option<String>,
    /// Do not keep the Keystone token between runs (by default a password or application
    /// credential login is kept, mode 0600, in $XDG_CACHE_HOME/osrs/tokens or
    /// ~/.cache/osrs/tokens, and reused until shortly before it expires).
    #[arg(long, env = "OSRS_NO_TOKEN_CACHE", global = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_token_cache: bool,
    /// Log requests and responses (no secrets) to stderr.
    #[arg(long, global = true)]
    pub debug: bool,
    /// More output (repeatable).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Images.
    #[command(subcommand)]
    Image(Box<ImageCmd>),
    /// The image cache (`cached image list|queue|delete|clear`).
    Cached {
        /// What to do with the cache.
        #[command(subcommand)]
        what: CachedCmd,
    },
    /// Shell completions: `osrs completion bash > /etc/bash_completion.d/osrs`.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `KEY=VALUE`.
pub(crate) fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn openstackclient_lines_parse() {
        for line in [
            "osrs image list --long --public --property os_distro=ubuntu --limit 5 -f json",
            "osrs image create cirros --file c.img --disk-format qcow2 --property a=b --tag t --public",
            "osrs image set img --name n --protected --property k=v --tag t --deactivate",
            "osrs image unset img --tag t --property k",
            "osrs image save img --file out.img",
            "osrs image add project img proj",
            "osrs image remove project img proj",
            "osrs image member list img -f value",
            "osrs image import img --method web-download --uri http://x/y --store fast --wait",
            "osrs image import info -f json",
            "osrs image stage img --file f",
            "osrs image task list --type import",
            "osrs image stores list --detail",
            "osrs image copy img --to-cloud other --name copy",
            "osrs image metadef namespace list",
            "osrs image metadef resource type list",
            "osrs cached image list",
            "osrs cached image clear --queue",
            "osrs --os-cloud local image show img -c id -c name",
        ] {
            let args: Vec<&str> = line.split_whitespace().collect();
            if let Err(e) = Cli::try_parse_from(&args) {
                panic!("{line}: {e}");
            }
        }
        assert!(Cli::try_parse_from(["osrs", "image", "list", "--public", "--private"]).is_err());
        // Closed value sets are refused by the parser, never sent.
        for bad in [
            "osrs image task list --sort-key nope",
            "osrs image task list --sort-dir up",
            "osrs image task list --status done",
            "osrs image metadef namespace list --visibility shared",
            "osrs image import img --method fetch",
            "osrs image create x --disk-format qcow3",
        ] {
            let args: Vec<&str> = bad.split_whitespace().collect();
            assert!(Cli::try_parse_from(&args).is_err(), "{bad} was accepted");
        }
        assert!(
            Cli::try_parse_from(["osrs", "image", "create", "x", "--property", "novalue"]).is_err()
        );
    }
}
