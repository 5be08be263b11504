//! Rows, cells and the report of the conformance suite.

use std::future::Future;

use openstack_auth::{ApiVersion, Error};
use openstack_image::ImageProxy;
use openstack_tests::{ADMIN, unique};

/// Why a row did not simply pass: the SDK's error, a check on what it returned, or a note
/// (the row worked as far as the server's policy allows, and the note says what it refused).
pub(crate) enum Failure {
    Sdk(Error),
    Wrong(String),
    Note(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Sdk(e)
    }
}

pub(crate) type Check = Result<(), Failure>;

/// Fails the row with `msg` unless `cond`.
pub(crate) fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Check {
    if cond { Ok(()) } else { Err(Failure::Wrong(msg())) }
}

/// The Glance under test.
pub(crate) struct Ctx {
    pub(crate) img: ImageProxy,
    /// Its name in the report's columns.
    pub(crate) label: String,
    /// The URL the fault proxy fronts (for the resume row).
    pub(crate) glance_url: String,
    /// The cloud's name in clouds.yaml.
    pub(crate) cloud: String,
    offered: Vec<ApiVersion>,
    /// A prefix every name made here starts with.
    pub(crate) prefix: String,
}

impl Ctx {
    pub(crate) async fn from_env() -> Ctx {
        let cloud = std::env::var("OSRS_COMPAT_CLOUD").unwrap_or_else(|_| ADMIN.to_string());
        let img = openstack_tests::image(&cloud);
        let ep = img.endpoint().await.expect("the Glance under test answers its version list");
        let glance_url = std::env::var("OSRS_COMPAT_GLANCE_URL")
            .or_else(|_| std::env::var("OSRS_GLANCE_URL"))
            .expect("OSRS_GLANCE_URL is not set: run with `cargo xtask cloud env` exported");
        let label = std::env::var("OSRS_COMPAT_LABEL").unwrap_or_else(|_| cloud.clone());
        eprintln!("conformance: {label} at {} (API {:?})", ep.root, ep.version);
        Ctx { img, label, glance_url, cloud, offered: ep.offered.clone(), prefix: unique("compat") }
    }

    /// Whether the cloud meets `needs`.
    fn meets(&self, needs: &Needs) -> bool {
        match *needs {
            Needs::Api(minor) => self.offered.iter().any(|v| *v >= ApiVersion::new(2, minor)),
            Needs::Listed(minor) => self.offered.contains(&ApiVersion::new(2, minor)),
        }
    }

    /// A unique name for something this run makes.
    pub(crate) fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }
}

/// What a row's calls need of the cloud, as the SDK gates them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Needs {
    /// API 2.N or later (the calls Glance serves whatever its configuration).
    Api(u32),
    /// API 2.N listed: a feature Glance shows only by listing its version (2.8: multiple
    /// stores, 2.14: the image cache).
    Listed(u32),
}

/// One row's result.
enum Cell {
    Ok,
    Note(String),
    Unsupported(ApiVersion),
    Fail(String),
}

/// The rows so far.
pub(crate) struct Table {
    label: String,
    rows: Vec<(String, Cell)>,
}

impl Table {
    pub(crate) fn new(ctx: &Ctx) -> Table {
        Table { label: ctx.label.clone(), rows: Vec::new() }
    }

    /// Runs one row. `needs`: what the calls of the row need when the cloud may lack it
    /// (the row must then be refused as unsupported, before sending); without, the row must
    /// simply work.
    pub(crate) async fn row(
        &mut self,
        ctx: &Ctx,
        name: &str,
        needs: &[Needs],
        check: impl Future<Output = Check>,
    ) {
        let offered = needs.iter().all(|n| ctx.meets(n));
        let cell = match (check.await, offered) {
            (Ok(()), true) => Cell::Ok,
            (Ok(()), false) => {
                Cell::Fail(format!("went through, but the cloud does not meet {needs:?}"))
            }
            (Err(Failure::Sdk(e)), _) if matches!(e.kind(), Error::Unsupported { .. }) => {
                match (e.kind(), offered) {
                    (Error::Unsupported { needs_version, .. }, false) => {
                        Cell::Unsupported(*needs_version)
                    }
                    _ => Cell::Fail(format!("refused, though the cloud offers it: {}", e.report())),
                }
            }
            (Err(Failure::Sdk(e)), _) => Cell::Fail(e.report()),
            (Err(Failure::Wrong(m)), _) => Cell::Fail(m),
            (Err(Failure::Note(m)), true) => Cell::Note(m),
            (Err(Failure::Note(m)), false) => Cell::Fail(format!("went through ({m})")),
        };
        let shown = match &cell {
            Cell::Ok => "ok".to_string(),
            Cell::Note(m) => format!("ok ({m})"),
            Cell::Unsupported(v) => format!("unsupported (needs {v})"),
            Cell::Fail(m) => format!("FAIL: {m}"),
        };
        eprintln!("conformance: {name:<44} {shown}");
        self.rows.push((name.to_string(), cell));
    }

    /// Writes the report (when asked) and fails the test on any failed row.
    pub(crate) fn finish(self) {
        let cells: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|(row, cell)| {
                let (state, detail) = match cell {
                    Cell::Ok => ("ok", String::new()),
                    Cell::Note(m) => ("ok", m.clone()),
                    Cell::Unsupported(v) => ("unsupported", format!("needs {v}")),
                    Cell::Fail(m) => ("fail", m.clone()),
                };
                serde_json::json!({"row": row, "state": state, "detail": detail})
            })
            .collect();
        if let Ok(path) = std::env::var("OSRS_COMPAT_REPORT") {
            let report = serde_json::json!({"label": self.label, "rows": cells});
            std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap())
                .unwrap_or_else(|e| panic!("writing {path}: {e}"));
        }
        let failed: Vec<String> = self
            .rows
            .iter()
            .filter_map(|(row, cell)| match cell {
                Cell::Fail(m) => Some(format!("{row}: {m}")),
                _ => None,
            })
            .collect();
        assert!(failed.is_empty(), "{} rows failed on {}:\n{}", failed.len(), self.label, {
            failed.join("\n")
        });
    }
}
