//! The server venv (Glance, Keystone, gunicorn from PyPI, pinned), the openstacksdk venv
//! the comparison benchmark uses, and the system packages (nginx, tinyproxy).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Cloud, SERVER_PINS, tail, write};
use crate::{Result, workspace_root};

/// Installs Debian `package` with apt-get unless `binary` exists (`what`: what needs it,
/// `var`: the variable that points at another binary).
pub(super) fn ensure_package(binary: &str, package: &str, what: &str, var: &str) -> Result {
    if std::path::Path::new(binary).exists() {
        return Ok(());
    }
    eprintln!("xtask: installing {package} (apt-get) for {what}");
    let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    let out = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .map_err(|e| format!("cannot run apt-get to install {package}: {e}"))?;
    if !out.status.success() || !std::path::Path::new(binary).exists() {
        return Err(format!(
            "installing {package} failed ({what} need it; install it by hand, or point {var} \
             at one):\n{}",
            tail(&String::from_utf8_lossy(&out.stderr), 20)
        ));
    }
    Ok(())
}

/// A disk tool the format corpus test runs: `$var`, else `default`.
pub(crate) fn disk_tool(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

/// The tools the disk format corpus is made with (installed with apt-get when missing):
/// qemu-img (qcow2, VMDK, VHD, VHDX, VDI, QED, LUKS), xorriso (ISO), sfdisk (GPT and MBR).
pub(super) fn ensure_disk_tools() -> Result {
    for (var, default, package) in [
        ("OSRS_QEMU_IMG", "/usr/bin/qemu-img", "qemu-utils"),
        ("OSRS_XORRISO", "/usr/bin/xorriso", "xorriso"),
        ("OSRS_SFDISK", "/usr/sbin/sfdisk", "fdisk"),
    ] {
        ensure_package(&disk_tool(var, default), package, "the disk format tests", var)?;
    }
    Ok(())
}

/// What `cargo xtask bench wan` compares with: aria2c and curl (installed with apt-get when
/// missing), and GNU time for peak RSS.
pub(crate) fn ensure_bench_tools() -> Result {
    for (binary, package) in
        [("/usr/bin/aria2c", "aria2"), ("/usr/bin/curl", "curl"), ("/usr/bin/time", "time")]
    {
        ensure_package(binary, package, "cargo xtask bench wan", "PATH")?;
    }
    Ok(())
}

/// Creates `venv` afresh with `$OSRS_PYTHON` (default `python3`) and pip-installs `packages`
/// under `constraints`, pip's output in `log`.
pub(super) fn build_venv(venv: &Path, constraints: &Path, packages: &[&str], log: &Path) -> Result {
    let python = std::env::var("OSRS_PYTHON").unwrap_or_else(|_| "python3".into());
    if venv.exists() {
        fs::remove_dir_all(venv).map_err(|e| format!("removing {}: {e}", venv.display()))?;
    }
    let out = Command::new(&python).args(["-m", "venv"]).arg(venv).output().map_err(|e| {
        format!("cannot run {python} ({e}); install Python >= 3.11 or set OSRS_PYTHON")
    })?;
    if !out.status.success() {
        return Err(format!(
            "`{python} -m venv` failed (on Debian: apt-get install python3-venv):\n{}",
            tail(&String::from_utf8_lossy(&out.stderr), 20)
        ));
    }
    let log_file = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let status = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--no-input", "--progress-bar", "off", "-c"])
        .arg(constraints)
        .args(packages)
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .status()
        .map_err(|e| format!("cannot run pip: {e}"))?;
    if !status.success() {
        let text = fs::read_to_string(log).unwrap_or_default();
        return Err(format!(
            "pip install {} failed ({status}); last lines of {}:\n{}",
            packages.join(" "),
            log.display(),
            tail(&text, 30)
        ));
    }
    Ok(())
}

impl Cloud {
    /// What the venv's stamp must say: the pins and the constraints it was built from.
    fn venv_stamp(&self) -> Result<String> {
        let constraints = workspace_root().join("xtask/cloud/constraints.txt");
        let pins = fs::read_to_string(&constraints)
            .map_err(|e| format!("reading {}: {e}", constraints.display()))?;
        Ok(format!("{}\n{pins}", SERVER_PINS.join(" ")))
    }

    /// Whether the server venv was built from the current pins.
    pub(super) fn venv_current(&self) -> bool {
        let stamp = self.path("venv/.osrs-installed");
        self.venv_stamp().is_ok_and(|w| fs::read_to_string(stamp).ok() == Some(w))
    }

    pub(super) fn ensure_venv(&self) -> Result {
        let constraints = workspace_root().join("xtask/cloud/constraints.txt");
        let stamp_wanted = self.venv_stamp()?;
        let stamp = self.path("venv/.osrs-installed");
        if fs::read_to_string(&stamp).ok().as_deref() == Some(stamp_wanted.as_str()) {
            return Ok(());
        }
        let python = std::env::var("OSRS_PYTHON").unwrap_or_else(|_| "python3".into());
        let version = Command::new(&python)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .output()
            .map_err(|e| {
                format!("cannot run {python} ({e}); install Python >= 3.11 or set OSRS_PYTHON")
            })?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        let minor: u32 = version.strip_prefix("3.").and_then(|m| m.parse().ok()).unwrap_or(0);
        if minor < 11 {
            return Err(format!(
                "{python} is Python {version:?}; Glance 33 needs >= 3.11 (set OSRS_PYTHON)"
            ));
        }
        eprintln!("xtask: creating the server venv with {python} {version} (about a minute)");
        build_venv(&self.path("venv"), &constraints, SERVER_PINS, &self.path("log/pip.log"))?;
        fs::write(&stamp, stamp_wanted).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// A second venv with openstacksdk (for the comparison benchmark only), from the same
    /// constraints. Returns its Python.
    pub(crate) fn ensure_sdk_venv(&self) -> Result<PathBuf> {
        let venv = self.path("sdk-venv");
        let python = venv.join("bin").join("python");
        let stamp = venv.join(".osrs-installed");
        if stamp.exists() {
            return Ok(python);
        }
        eprintln!("xtask: creating the openstacksdk venv for the comparison (about 20 s)");
        let constraints = workspace_root().join("xtask/cloud/constraints.txt");
        build_venv(&venv, &constraints, &["openstacksdk==4.22.0"], &self.path("log/sdk-pip.log"))?;
        write(&stamp, "openstacksdk==4.22.0\n")?;
        Ok(python)
    }
}
