//! # openstack-diskformat
//!
//! Disk image format inspection from the first bytes of an image, without I/O: the format,
//! the virtual size where the format has one, and each safety check Glance's inspector
//! (oslo.utils `imageutils.format_inspector`) runs on an upload, so a client can refuse an
//! unsafe or mislabelled image before a byte leaves the machine.
//!
//! ```
//! use openstack_diskformat::{Format, inspect};
//!
//! // A qcow2 v3 header for a 1 GiB disk that points at a backing file.
//! let mut head = vec![0u8; 512];
//! head[..4].copy_from_slice(b"QFI\xfb");
//! head[4..8].copy_from_slice(&3u32.to_be_bytes());
//! head[8..16].copy_from_slice(&512u64.to_be_bytes()); // backing file name at offset 512
//! head[24..32].copy_from_slice(&(1u64 << 30).to_be_bytes());
//! let found = inspect(&head);
//! assert_eq!(found.format, Format::Qcow2);
//! assert_eq!(found.virtual_size, Some(1 << 30));
//! assert!(!found.is_safe());
//! assert_eq!(found.failures().next().map(|c| c.name), Some("backing_file"));
//! ```
//!
//! Nothing here panics or allocates in proportion to what a header claims: every offset and
//! length read from the input is checked against the bytes given.

mod qcow2;
mod vmdk;

use std::fmt;

/// How many bytes of the image's start [`inspect`] needs to see everything it checks (the
/// VMDK descriptor may reach 1 MiB past its 512-byte header). Fewer bytes are fine for a
/// smaller image: the whole of it.
pub const HEAD_LEN: usize = vmdk::DESC_OFFSET + vmdk::DESC_MAX_SIZE;

/// A disk image format (or container) Glance knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// No known header: a raw disk.
    Raw,
    /// QEMU copy-on-write v2/v3.
    Qcow2,
    /// VMware VMDK (a sparse extent with its embedded descriptor).
    Vmdk,
    /// Microsoft VHD (dynamic: the footer's copy at the start).
    Vhd,
    /// Microsoft VHDX.
    Vhdx,
    /// ISO 9660 / UDF.
    Iso,
    /// QEMU enhanced disk.
    Qed,
    /// VirtualBox VDI.
    Vdi,
    /// LUKS encrypted volume.
    Luks,
    /// A disk with a GUID partition table.
    Gpt,
    /// A disk with an MBR partition table (a raw disk as far as Glance is concerned).
    Mbr,
}

impl Format {
    /// Glance's name of the format (`disk_format`), e.g. `qcow2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Iso => "iso",
            Format::Qed => "qed",
            Format::Vdi => "vdi",
            Format::Luks => "luks",
            Format::Gpt => "gpt",
            Format::Mbr => "mbr",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one safety check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The check passed.
    Passed,
    /// The image is unsafe or malformed, and why.
    Failed(String),
    /// Not checked (what it would need, or that it is not implemented yet): never taken
    /// for a pass.
    NotChecked(String),
}

/// One safety check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// The check's name, as Glance's inspector names it (`backing_file`, `data_file`, ...).
    pub name: &'static str,
    /// What it found.
    pub outcome: Outcome,
}

impl Check {
    fn new(name: &'static str, outcome: Outcome) -> Check {
        Check { name, outcome }
    }

    fn from_result(name: &'static str, result: Result<(), String>) -> Check {
        Check::new(name, result.map_or_else(Outcome::Failed, |()| Outcome::Passed))
    }
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspection {
    /// The format.
    pub format: Format,
    /// The virtual disk size in bytes, where the format records one.
    pub virtual_size: Option<u64>,
    /// Each safety check, in Glance's order.
    pub checks: Vec<Check>,
}

impl Inspection {
    fn new(format: Format) -> Inspection {
        Inspection { format, virtual_size: None, checks: Vec::new() }
    }

    /// Whether no check failed (checks not run are not failures; see [`Outcome`]).
    pub fn is_safe(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }
}

/// Inspects the start of an image: `head` is its first [`HEAD_LEN`] bytes, or the whole of a
/// smaller image.
pub fn inspect(head: &[u8]) -> Inspection {
    if head.starts_with(qcow2::MAGIC) {
        return qcow2::inspect(head);
    }
    if head.starts_with(vmdk::MAGIC) {
        return vmdk::inspect(head);
    }
    let mut found = recognise(head);
    if found.format == Format::Raw && !head.is_empty() {
        found.checks.push(Check::new("format", Outcome::Passed));
    }
    found
}

/// The formats recognised by their magic, whose checks are not implemented yet.
fn recognise(head: &[u8]) -> Inspection {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    let not_yet = |format: Format, check: &'static str| {
        let mut i = Inspection::new(format);
        i.checks.push(Check::new(check, Outcome::NotChecked("not implemented yet".into())));
        i
    };
    if at(0, b"conectix") {
        let mut i = Inspection::new(Format::Vhd);
        i.virtual_size = be_u64(head, 40);
        return i;
    }
    if at(0, b"vhdxfile") {
        return not_yet(Format::Vhdx, "region_table");
    }
    if at(0, b"QED\0") {
        return Inspection::new(Format::Qed);
    }
    if at(64, &[0x7f, 0x10, 0xda, 0xbe]) {
        return Inspection::new(Format::Vdi);
    }
    if at(0, b"LUKS\xba\xbe") {
        return Inspection::new(Format::Luks);
    }
    let iso = 32 * 1024 + 1;
    if at(iso, b"CD001") || at(iso, b"NSR02") || at(iso, b"NSR03") {
        return Inspection::new(Format::Iso);
    }
    if at(512, b"EFI PART") {
        return not_yet(Format::Gpt, "mbr");
    }
    if at(510, &[0x55, 0xaa]) {
        return not_yet(Format::Mbr, "mbr");
    }
    Inspection::new(Format::Raw)
}

/// A big-endian u64 at `offset`, if the bytes are there.
pub(crate) fn be_u64(b: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(offset..offset + 8)?.try_into().ok()?))
}

/// A big-endian u32 at `offset`.
pub(crate) fn be_u32(b: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(offset..offset + 4)?.try_into().ok()?))
}

/// A little-endian u64 at `offset`.
pub(crate) fn le_u64(b: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(offset..offset + 8)?.try_into().ok()?))
}

/// A little-endian u32 at `offset`.
pub(crate) fn le_u32(b: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(offset..offset + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests;
