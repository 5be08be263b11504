//! The soak's bookkeeping: each call's outcome judged against the faults on its own
//! requests, tallied per kind of call, and printed as a table.

use std::collections::BTreeMap;

use openstack_resource::Error;
use openstack_tests::chaos::Seen;

/// One kind of call's line in the table.
#[derive(Default, Clone)]
pub(crate) struct Line {
    pub(crate) calls: u64,
    pub(crate) ok: u64,
    pub(crate) cancelled: u64,
    /// Calls that failed, each explained by a fault on one of its own requests.
    pub(crate) failed: u64,
    /// Calls with at least one faulted request.
    pub(crate) faulted: u64,
    /// Faultable requests of the calls that ran to the end (for the expected success rate).
    pub(crate) faultable: u64,
}

#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) lines: BTreeMap<&'static str, Line>,
    pub(crate) outcomes: BTreeMap<String, u64>,
    pub(crate) wrong_bytes: u64,
    pub(crate) unexpected: Vec<String>,
    pub(crate) created: Vec<String>,
}

impl Tally {
    pub(crate) fn record(
        &mut self,
        op: &'static str,
        outcome: Result<(), Outcome>,
        requests: &[Seen],
    ) {
        let faults: Vec<&str> = requests.iter().filter_map(|r| r.fault).collect();
        let line = self.lines.entry(op).or_default();
        line.calls += 1;
        line.faulted += u64::from(!faults.is_empty());
        if !matches!(outcome, Err(Outcome::Cancelled)) {
            line.faultable += requests.iter().filter(|r| r.faultable).count() as u64;
        }
        let key = match outcome {
            Ok(()) => {
                line.ok += 1;
                "ok".to_string()
            }
            Err(Outcome::Cancelled) => {
                line.cancelled += 1;
                "cancelled".to_string()
            }
            Err(Outcome::Wrong(why)) => {
                self.wrong_bytes += 1;
                self.unexpected.push(format!("{op}: WRONG DATA: {why}"));
                "WRONG DATA".to_string()
            }
            Err(Outcome::Failed(e)) => {
                line.failed += 1;
                let name = kind_name(&e);
                if faults.is_empty() || !explained(&e) {
                    let seen: Vec<&str> = requests.iter().map(|r| r.request.as_str()).collect();
                    self.unexpected.push(format!(
                        "{op}: {} (faults on its requests: {faults:?}; its requests: {seen:?})",
                        e.report()
                    ));
                }
                name
            }
        };
        *self.outcomes.entry(key).or_default() += 1;
    }
}

pub(crate) enum Outcome {
    Cancelled,
    Wrong(String),
    Failed(Error),
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        Outcome::Failed(e)
    }
}

fn kind_name(e: &Error) -> String {
    let kind = e.kind();
    match kind {
        Error::Http(api) => format!("error: http {}", api.status.as_u16()),
        other => {
            let debug = format!("{other:?}");
            let name: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
            format!("error: {name}")
        }
    }
}

/// Error kinds an injected fault can cause (after the retries and resumes allowed).
fn explained(e: &Error) -> bool {
    match e.kind() {
        Error::Transport { .. }
        | Error::Timeout { .. }
        | Error::IdleTimeout { .. }
        | Error::ServiceUnavailable(_)
        | Error::ChecksumMismatch { .. }
        | Error::NotReplayable { .. }
        | Error::Incomplete { .. }
        | Error::Resume { .. } => true,
        Error::Http(api) => api.status.as_u16() == 429,
        _ => false,
    }
}

/// Prints the table: per kind of call, its outcomes, how many calls a fault hit, and the
/// success rate against the least the fault rate allows.
pub(crate) fn print_table(title: &str, tally: &Tally, minimum: &BTreeMap<&'static str, f64>) {
    eprintln!("\n{title}");
    eprintln!(
        "{:<18} {:>6} {:>6} {:>9} {:>7} {:>8} {:>9} {:>9}",
        "call", "calls", "ok", "cancelled", "failed", "faulted", "ok rate", "at least"
    );
    for (op, l) in &tally.lines {
        let ran = l.calls - l.cancelled;
        let rate = if ran == 0 { 1.0 } else { l.ok as f64 / ran as f64 };
        let least = minimum.get(op).map_or("-".to_string(), |m| format!("{:.0}%", m * 100.0));
        eprintln!(
            "{op:<18} {:>6} {:>6} {:>9} {:>7} {:>8} {:>8.0}% {least:>9}",
            l.calls,
            l.ok,
            l.cancelled,
            l.failed,
            l.faulted,
            rate * 100.0
        );
    }
    eprintln!("{:<28} {:>8}", "outcome", "count");
    for (kind, n) in &tally.outcomes {
        eprintln!("{kind:<28} {n:>8}");
    }
}
