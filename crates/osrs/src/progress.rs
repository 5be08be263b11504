//! Progress bars on a terminal (bytes, rate, ETA); nothing when stderr is piped.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use openstack_client::transfer::Progress;

/// A bar for a transfer of `total` bytes, shown when stderr is a terminal or `forced`;
/// `None` otherwise (no callback, no cost).
pub(crate) fn bar(
    label: &str,
    total: Option<u64>,
    forced: bool,
) -> Option<(ProgressBar, Progress)> {
    if !forced && !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match total {
        Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    let shown = bar.clone();
    let progress = Progress::new(move |u| {
        if let Some(t) = u.total {
            shown.set_length(t);
        }
        shown.set_position(u.bytes);
        if u.done {
            shown.finish();
        }
    });
    Some((bar, progress))
}
