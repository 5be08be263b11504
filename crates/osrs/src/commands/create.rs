//! `image create` and `image set`, with the flags they share written once.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use openstack_client::image::{
    ContainerFormat, DiskFormat, ImageData, ImageProxy, MemberStatus, Visibility, WaitOptions,
};
use openstack_client::transfer::Algorithm;

use crate::cli::key_value;
use crate::output::OutputArgs;
use crate::projects::project_id;
use crate::{CliError, Outcome, output, progress, records};

/// openstackclient's disk format choices (`DISK_CHOICES`): anything else is refused by the
/// parser with this list, never sent to Glance.
const DISK_FORMATS: [&str; 11] =
    ["ami", "ari", "aki", "vhd", "vmdk", "raw", "qcow2", "vhdx", "vdi", "iso", "ploop"];

/// openstackclient's container format choices (`CONTAINER_CHOICES`).
const CONTAINER_FORMATS: [&str; 7] = ["ami", "ari", "aki", "bare", "docker", "ova", "ovf"];

/// Visibility flags shared by create and set.
#[derive(Debug, Args)]
pub(crate) struct VisibilityArgs {
    /// Image is accessible to everyone.
    #[arg(long, group = "visibility")]
    pub public: bool,
    /// Image is inaccessible to others (default).
    #[arg(long, group = "visibility")]
    pub private: bool,
    /// Image is accessible to all projects that accept it.
    #[arg(long, group = "visibility")]
    pub community: bool,
    /// Image can be shared with other projects.
    #[arg(long, group = "visibility")]
    pub shared: bool,
}

/// The fields `image create` and `image set` both take.
#[derive(Debug, Args)]
pub(crate) struct ImageFields {
    /// Image disk format (create's default: detected from the data; raw without data, or with
    /// --no-inspect raw or the file's extension).
    #[arg(long, value_parser = DISK_FORMATS)]
    pub disk_format: Option<String>,
    /// Image container format (create's default: bare).
    #[arg(long, value_parser = CONTAINER_FORMATS)]
    pub container_format: Option<String>,
    /// Minimum disk size needed to boot the image, in gigabytes.
    #[arg(long)]
    pub min_disk: Option<u64>,
    /// Minimum RAM size needed to boot the image, in megabytes.
    #[arg(long)]
    pub min_ram: Option<u64>,
    /// Prevent the image from being deleted.
    #[arg(long, conflicts_with = "unprotected")]
    pub protected: bool,
    /// Allow the image to be deleted (create's default).
    #[arg(long)]
    pub unprotected: bool,
    /// Visibility.
    #[command(flatten)]
    pub visibility: VisibilityArgs,
    /// Set a property on the image (repeatable).
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Set a tag on the image (repeatable; set adds to the image's tags).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Owner project of the image (name or ID; names are resolved through Keystone).
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,
    /// Domain the project belongs to (name or ID), when project names collide.
    #[arg(long, value_name = "PROJECT_DOMAIN", requires = "project")]
    pub project_domain: Option<String>,
}

/// `image create` options.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// New image name.
    pub name: String,
    /// Upload image data from this local file (without it, data piped or redirected to
    /// stdin is uploaded; a terminal or /dev/null on stdin creates an image without data).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Size of the data on stdin, in bytes (announced and enforced).
    #[arg(long, value_name = "SIZE")]
    pub size: Option<u64>,
    /// The new image's ID (a UUID; default: a random one).
    #[arg(long)]
    pub id: Option<String>,
    /// Fields.
    #[command(flatten)]
    pub fields: ImageFields,
    /// Upload through the interoperable import (stage + glance-direct).
    #[arg(long = "import")]
    pub use_import: bool,
    /// Store to upload the image to (repeatable; implies --import).
    #[arg(long = "store", value_name = "STORE")]
    pub stores: Vec<String>,
    /// Show a progress bar (on a terminal it is shown anyway).
    #[arg(long)]
    pub progress: bool,
    /// Send the data without inspecting it first. By default its format is read from its
    /// first 4 MiB (and a file's last 1536 bytes): without --disk-format the detected one is
    /// used (and printed on stderr); a --disk-format the content contradicts, or content that
    /// fails a check Glance runs after the upload (a qcow2 backing file, a VMDK extent naming
    /// a host file, ...), is refused before anything is created.
    #[arg(long)]
    pub no_inspect: bool,
    /// Digest computed while the data uploads and compared with the one Glance reports
    /// (repeatable; not in openstackclient, which verifies nothing): md5 (Glance's `checksum`,
    /// reported by every Glance; the default), sha512 (`os_hash_value`, unless the cloud
    /// hashes with another algorithm), sha256; `none` verifies nothing. A mismatch, or a
    /// digest Glance does not report, fails the command and deletes the image.
    #[arg(
        long = "checksum-algorithm",
        value_name = "ALGORITHM",
        default_value = "md5",
        value_parser = ["md5", "sha256", "sha512", "none"]
    )]
    pub checksum_algorithms: Vec<String>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `image set` options.
#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    /// Image to modify (name or ID).
    pub image: String,
    /// New image name.
    #[arg(long)]
    pub name: Option<String>,
    /// Fields.
    #[command(flatten)]
    pub fields: ImageFields,
    /// Hide the image from default lists.
    #[arg(long, conflicts_with = "unhidden")]
    pub hidden: bool,
    /// Show the image in default lists.
    #[arg(long)]
    pub unhidden: bool,
    /// Deactivate the image.
    #[arg(long, conflicts_with = "activate")]
    pub deactivate: bool,
    /// Activate (reactivate) the image.
    #[arg(long)]
    pub activate: bool,
    /// Accept the image's share, for --project or your own project.
    #[arg(long, group = "membership")]
    pub accept: bool,
    /// Reject the image's share, for --project or your own project.
    #[arg(long, group = "membership")]
    pub reject: bool,
    /// Reset the image's share to pending, for --project or your own project.
    #[arg(long, group = "membership")]
    pub pending: bool,
    /// Operating system architecture (property `architecture`).
    #[arg(long)]
    pub architecture: Option<String>,
    /// Operating system distribution name (property `os_distro`).
    #[arg(long)]
    pub os_distro: Option<String>,
    /// Operating system distribution version (property `os_version`).
    #[arg(long)]
    pub os_version: Option<String>,
    /// ID of the kernel image used to boot this disk image (property `kernel_id`).
    #[arg(long)]
    pub kernel_id: Option<String>,
    /// ID of the ramdisk image used to boot this disk image (property `ramdisk_id`).
    #[arg(long)]
    pub ramdisk_id: Option<String>,
    /// ID of the server the image was made from (property `instance_id`).
    #[arg(long, alias = "instance-uuid")]
    pub instance_id: Option<String>,
}

pub(crate) async fn create(img: &ImageProxy, a: CreateArgs) -> Outcome {
    let f = &a.fields;
    let mut c = img.create_image(a.name.as_str()).allow_duplicates(true);
    if let Some(id) = &a.id {
        c = c.id(id.as_str());
    }
    if let Some(d) = &f.disk_format {
        c = c.disk_format(DiskFormat::from(d.as_str()));
    } else if a.no_inspect {
        // openstackclient's default: raw, or the file's extension when it names a format.
        let by_ext = a.file.as_ref().and_then(|p| p.extension()).map(|e| e.to_string_lossy());
        let by_ext = by_ext.filter(|e| DISK_FORMATS.contains(&e.to_ascii_lowercase().as_str()));
        c = c.disk_format(by_ext.map_or(DiskFormat::Raw, |e| DiskFormat::from(e.as_ref())));
    }
    c = c.inspect(!a.no_inspect);
    if let Some(d) = &f.container_format {
        c = c.container_format(ContainerFormat::from(d.as_str()));
    }
    if let Some(n) = f.min_disk {
        c = c.min_disk(n);
    }
    if let Some(n) = f.min_ram {
        c = c.min_ram(n);
    }
    if f.protected {
        c = c.protected(true);
    }
    if let Some(v) = visibility(&f.visibility) {
        c = c.visibility(v);
    }
    if let Some(p) = &f.project {
        let owner = project_id(img.session(), p, f.project_domain.as_deref()).await?;
        c = c.property("owner", owner.as_str());
    }
    for (k, v) in &f.properties {
        c = c.property(k.as_str(), v.as_str());
    }
    if !f.tags.is_empty() {
        c = c.tags(f.tags.clone());
    }
    if a.use_import || !a.stores.is_empty() {
        c = c.use_import(true).wait(WaitOptions::default());
    }
    if !a.stores.is_empty() {
        c = c.stores(a.stores.clone());
    }
    let (data, size) = match &a.file {
        Some(path) => {
            let size = std::fs::metadata(path).map(|m| m.len()).ok();
            (Some(ImageData::from(path.as_path())), size)
        }
        None => stdin_data(a.size)?.map_or((None, None), |(d, s)| (Some(d), s)),
    };
    let mut bar = None;
    let detect = data.is_some() && f.disk_format.is_none() && !a.no_inspect;
    if data.is_none() && f.disk_format.is_none() {
        c = c.disk_format(DiskFormat::Raw);
    }
    if let Some(data) = data {
        let algorithms = checksum_algorithms(&a.checksum_algorithms)?;
        c = c.data(data).validate_checksum(!algorithms.is_empty()).digests(&algorithms);
        if let Some((b, p)) = progress::bar("upload", size, a.progress) {
            c = c.progress(p);
            bar = Some(b);
        }
    }
    let created = c.await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let created = created?;
    if let Some(d) = created.disk_format.as_ref().filter(|_| detect && !created.reused) {
        eprintln!("osrs: disk format {d} (detected from the content)");
    }
    output::show(&a.out, records::image(&created.image, false))?;
    Ok(())
}

/// Image data on stdin: a regular file redirected to it (seekable, so retried uploads
/// re-read it) or a pipe (sent once, `--size` announced and enforced). A terminal, a
/// character device such as /dev/null, or a closed stdin is no data, as openstackclient
/// treats a terminal.
fn stdin_data(size: Option<u64>) -> Result<Option<(ImageData, Option<u64>)>, CliError> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let Ok(fd) = stdin.as_fd().try_clone_to_owned() else { return Ok(None) };
    let file = std::fs::File::from(fd);
    let Ok(meta) = file.metadata() else { return Ok(None) };
    let kind = meta.file_type();
    if kind.is_file() {
        use std::io::Seek;
        let mut file = file;
        let at = file.stream_position().unwrap_or(0);
        let left = meta.len().saturating_sub(at);
        if let Some(s) = size.filter(|s| *s != left) {
            return Err(CliError::Usage(format!(
                "--size {s}, but the file on stdin holds {left} bytes"
            )));
        }
        Ok(Some((ImageData::from(file), Some(left))))
    } else if kind.is_fifo() || kind.is_socket() {
        let reader = tokio::fs::File::from_std(file);
        Ok(Some((ImageData::Reader { reader: Box::pin(reader), length: size }, size)))
    } else {
        Ok(None)
    }
}

/// `--checksum-algorithm` values (`none` alone: nothing).
fn checksum_algorithms(names: &[String]) -> Result<Vec<Algorithm>, CliError> {
    if names.iter().any(|n| n == "none") {
        if names.len() > 1 {
            return Err(CliError::Usage(
                "--checksum-algorithm none cannot be combined with another algorithm".into(),
            ));
        }
        return Ok(Vec::new());
    }
    let mut algorithms = Vec::new();
    for n in names {
        let a: Algorithm =
            n.parse().map_err(|_| CliError::Usage(format!("unknown checksum algorithm {n:?}")))?;
        if !algorithms.contains(&a) {
            algorithms.push(a);
        }
    }
    Ok(algorithms)
}

pub(crate) fn visibility(v: &VisibilityArgs) -> Option<Visibility> {
    if v.public {
        Some(Visibility::Public)
    } else if v.private {
        Some(Visibility::Private)
    } else if v.community {
        Some(Visibility::Community)
    } else if v.shared {
        Some(Visibility::Shared)
    } else {
        None
    }
}

/// Whether `image set` changes any field of the record (tags and membership aside).
fn changes_record(a: &SetArgs) -> bool {
    let f: &ImageFields = &a.fields;
    let membership = a.accept || a.reject || a.pending;
    a.name.is_some()
        || f.min_disk.is_some()
        || f.min_ram.is_some()
        || f.disk_format.is_some()
        || f.container_format.is_some()
        || f.protected
        || f.unprotected
        || visibility(&f.visibility).is_some()
        || !f.properties.is_empty()
        || (f.project.is_some() && !membership)
        || a.hidden
        || a.unhidden
        || shortcut_properties(a).next().is_some()
}

/// `--architecture` & co.: properties by another name.
fn shortcut_properties(a: &SetArgs) -> impl Iterator<Item = (&'static str, &String)> {
    [
        ("architecture", &a.architecture),
        ("os_distro", &a.os_distro),
        ("os_version", &a.os_version),
        ("kernel_id", &a.kernel_id),
        ("ramdisk_id", &a.ramdisk_id),
        ("instance_id", &a.instance_id),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
}

pub(crate) async fn set(img: &ImageProxy, mut a: SetArgs) -> Outcome {
    // A project name is resolved before anything changes (never sent as an id).
    if let Some(p) = &a.fields.project {
        let id = project_id(img.session(), p, a.fields.project_domain.as_deref()).await?;
        a.fields.project = Some(id);
    }
    let found = img.find_image(&a.image).await?;
    if a.deactivate {
        img.deactivate_image(&found).await?;
    }
    if a.activate {
        img.reactivate_image(&found).await?;
    }
    let status = if a.accept {
        Some(MemberStatus::Accepted)
    } else if a.reject {
        Some(MemberStatus::Rejected)
    } else if a.pending {
        Some(MemberStatus::Pending)
    } else {
        None
    };
    if let Some(status) = status.clone() {
        // The member is --project, else the caller's own project.
        let member = match &a.fields.project {
            Some(p) => p.clone(),
            None => own_project(img).await?,
        };
        img.update_member(&found, member.as_str(), status).await?;
    }
    for t in &a.fields.tags {
        img.add_tag(&found, t).await?;
    }
    if !changes_record(&a) {
        return Ok(());
    }
    let owner = a.fields.project.clone().filter(|_| status.is_none());
    let shortcuts: Vec<(String, String)> =
        shortcut_properties(&a).map(|(k, v)| (k.to_string(), v.clone())).collect();
    img.update_image_with(&found.id, move |i| {
        let f = a.fields;
        if let Some(n) = a.name {
            i.name = Some(n);
        }
        if let Some(n) = f.min_disk {
            i.min_disk = n;
        }
        if let Some(n) = f.min_ram {
            i.min_ram = n;
        }
        if let Some(d) = f.disk_format {
            i.disk_format = Some(DiskFormat::from(d.as_str()));
        }
        if let Some(d) = f.container_format {
            i.container_format = Some(ContainerFormat::from(d.as_str()));
        }
        if f.protected || f.unprotected {
            i.protected = f.protected;
        }
        if let Some(v) = visibility(&f.visibility) {
            i.visibility = v;
        }
        if a.hidden || a.unhidden {
            i.os_hidden = a.hidden;
        }
        if let Some(o) = owner {
            i.owner = Some(o);
        }
        for (k, v) in f.properties.into_iter().chain(shortcuts) {
            i.properties.insert(k, Value::String(v));
        }
    })
    .await?;
    Ok(())
}

/// The project the caller's token is scoped to.
async fn own_project(img: &ImageProxy) -> Result<String, CliError> {
    use openstack_client::auth::Scope;
    match img.session().token().await?.as_deref().map(|t| &t.scope) {
        Some(Scope::Project { id, .. }) => Ok(id.clone()),
        _ => Err(CliError::Usage(
            "--accept/--reject/--pending: the token is not scoped to a project; give --project"
                .into(),
        )),
    }
}
