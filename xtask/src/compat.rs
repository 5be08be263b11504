//! `cargo xtask compat [<release>…]`: the conformance suite (`tests/conformance.rs`) against
//! every Glance of the matrix, releases and configurations, and one table of the results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cloud::Cloud;
use crate::cloud::release::{self, Release};
use crate::{Result, cargo};

/// One column of the table: a Glance to run the suite against.
pub(crate) enum Target {
    /// The main cloud: the current release, three stores and the image cache.
    Main,
    /// Cloud `local-b`: the current release with one store and no image cache.
    SingleStore,
    /// An older release (`cloud up --glance`).
    Release(&'static Release),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Main => format!("{} (current)", crate::cloud::glance_version()),
            Target::SingleStore => {
                format!("{} one store, no cache", crate::cloud::glance_version())
            }
            Target::Release(r) => format!("{} ({})", r.glance, r.series),
        }
    }

    fn file_name(&self) -> String {
        match self {
            Target::Main => "main".into(),
            Target::SingleStore => "single-store".into(),
            Target::Release(r) => r.series.into(),
        }
    }

    /// Starts what it needs; returns the environment the suite runs with.
    fn up(&self, cloud: &Cloud) -> Result<Vec<(&'static str, String)>> {
        let mut vars = match self {
            Target::Main | Target::SingleStore => {
                cloud.up()?;
                cloud.env_vars()
            }
            Target::Release(r) => {
                cloud.release_up(r)?;
                cloud.release_env_vars(r)
            }
        };
        if let Target::SingleStore = self {
            let b = vars.iter().find(|(k, _)| *k == "OSRS_GLANCE_B_URL").map(|(_, v)| v.clone());
            vars.push(("OSRS_COMPAT_CLOUD", "local-b".into()));
            vars.push(("OSRS_COMPAT_GLANCE_URL", b.unwrap_or_default()));
        }
        vars.retain(|(k, _)| *k != "OSRS_COMPAT_LABEL");
        vars.push(("OSRS_COMPAT_LABEL", self.label()));
        Ok(vars)
    }
}

/// The targets `args` names (a release by series or version, `main`, `single-store`), or
/// all of them.
fn targets(args: &[&str]) -> Result<Vec<Target>> {
    if args.is_empty() {
        let mut all: Vec<Target> = release::RELEASES.iter().map(Target::Release).collect();
        all.extend([Target::Main, Target::SingleStore]);
        return Ok(all);
    }
    args.iter()
        .map(|a| match *a {
            "main" | "current" => Ok(Target::Main),
            "single-store" | "local-b" => Ok(Target::SingleStore),
            other => release::find(other).map(Target::Release),
        })
        .collect()
}

/// Runs the conformance suite against `target`, its report written to `report`.
pub(crate) fn run_suite(cloud: &Cloud, target: &Target, report: &Path) -> Result {
    let vars = target.up(cloud)?;
    let _ = std::fs::remove_file(report);
    let mut cmd = cargo();
    cmd.args(["test", "-p", "openstack-tests", "--test", "conformance", "--", "--nocapture"]);
    cmd.envs(vars).env("OSRS_COMPAT_REPORT", report);
    crate::run(&format!("conformance suite against Glance {}", target.label()), &mut cmd)
}

/// Runs osrs's comparison with openstackclient against `target` and adds its row to
/// `report`.
fn run_osrs_comparison(cloud: &Cloud, target: &Target, report: &Path) -> Result {
    let mut cmd = cargo();
    cmd.args(["test", "-p", "openstack-image-cli", "--test", "openstackclient"]);
    if let Target::Release(_) = target {
        // One test at a time: see `cloud::release` (SQLite and the older releases).
        cmd.args(["--", "--test-threads=1"]);
    }
    cmd.envs(target.up(cloud)?);
    let outcome =
        crate::run(&format!("osrs vs openstackclient against Glance {}", target.label()), &mut cmd);
    let mut json: serde_json::Value = std::fs::read_to_string(report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({"rows": []}));
    let (state, detail) = match &outcome {
        Ok(()) => ("ok", String::new()),
        Err(e) => ("fail", e.clone()),
    };
    if let Some(rows) = json["rows"].as_array_mut() {
        rows.push(serde_json::json!({
            "row": "osrs prints what openstackclient prints",
            "state": state,
            "detail": detail,
        }));
    }
    std::fs::write(report, json.to_string()).map_err(|e| format!("{}: {e}", report.display()))?;
    outcome
}

/// `cargo xtask compat [<release>…]`.
pub(crate) fn compat(args: &[&str]) -> Result {
    let cloud = Cloud::from_env()?;
    let dir = cloud.compat_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut columns = Vec::new();
    let mut failures = Vec::new();
    for target in targets(args)? {
        let report = dir.join(format!("{}.json", target.file_name()));
        let suite = run_suite(&cloud, &target, &report);
        // osrs's comparison runs on cloud `local`: the releases' and the main cloud's.
        let osrs = match target {
            Target::SingleStore => Ok(()),
            _ => run_osrs_comparison(&cloud, &target, &report),
        };
        for e in [suite, osrs].into_iter().filter_map(std::result::Result::err) {
            failures.push(format!("{}: {e}", target.label()));
        }
        columns.push((target.label(), report));
    }
    print!("{}", table(&columns));
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("the conformance suite failed on:\n{}", failures.join("\n")))
    }
}

/// The Markdown table: rows are the suite's rows, columns the targets.
fn table(columns: &[(String, PathBuf)]) -> String {
    let mut rows: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(String, usize), String> = BTreeMap::new();
    let mut reported = vec![false; columns.len()];
    for (i, (_, path)) in columns.iter().enumerate() {
        let report: serde_json::Value = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        reported[i] = report["rows"].is_array();
        for row in report["rows"].as_array().into_iter().flatten() {
            let name = row["row"].as_str().unwrap_or_default().to_string();
            if !rows.contains(&name) {
                rows.push(name.clone());
            }
            let cell = match row["state"].as_str() {
                Some("ok") => match row["detail"].as_str().unwrap_or("") {
                    "" => "ok".to_string(),
                    note => format!("ok ({note})"),
                },
                Some("unsupported") => {
                    format!("unsupported ({})", row["detail"].as_str().unwrap_or(""))
                }
                _ => {
                    let detail: String =
                        row["detail"].as_str().unwrap_or("").chars().take(60).collect();
                    format!("**FAIL** {}", detail.replace('|', "/"))
                }
            };
            cells.insert((name, i), cell);
        }
    }
    let mut out = String::from("| call / area |");
    for (label, _) in columns {
        out.push_str(&format!(" {label} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for row in &rows {
        out.push_str(&format!("| {row} |"));
        for (i, has_report) in reported.iter().enumerate() {
            // A row a report lacks was not run there (osrs's comparison needs cloud `local`);
            // a column without a report is a suite that did not finish.
            let missing = if *has_report { "-" } else { "no report" };
            let cell = cells.get(&(row.clone(), i)).map_or(missing, String::as_str);
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_call_and_a_column_per_target() {
        let dir = std::env::temp_dir().join(format!("xtask-compat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.json");
        let b = dir.join("b.json");
        std::fs::write(&a, r#"{"rows":[{"row":"stores","state":"ok","detail":""}]}"#).unwrap();
        std::fs::write(
            &b,
            r#"{"rows":[{"row":"stores","state":"unsupported","detail":"needs 2.8"},
                        {"row":"x","state":"fail","detail":"a|b"}]}"#,
        )
        .unwrap();
        let t = table(&[("A".into(), a), ("B".into(), b), ("C".into(), dir.join("none.json"))]);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(t.starts_with("| call / area | A | B | C |\n|---|---|---|---|\n"), "{t}");
        assert!(t.contains("| stores | ok | unsupported (needs 2.8) | no report |"), "{t}");
        assert!(t.contains("| x | - | **FAIL** a/b | no report |"), "{t}");
        assert!(targets(&["2024.1", "main", "single-store"]).unwrap().len() == 3);
        assert_eq!(targets(&[]).unwrap().len(), release::RELEASES.len() + 2);
        assert!(targets(&["1999.1"]).is_err());
    }
}
