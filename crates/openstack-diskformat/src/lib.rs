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
//! Detection follows Glance's: every format's probe runs; a header that looks like a format
//! but does not hold up is what Glance makes of it (a qcow2 header cut short is raw, a VMDK
//! with its descriptor elsewhere is a VMDK failing its descriptor check, a VHDX without its
//! region table is still a VHDX), and [`Inspection::malformed`] notes it; nothing matched is
//! raw; two formats at once is refused, except an ISO with a partition table in front
//! (a bootable ISO), which is an ISO.
//!
//! What the start of an image cannot tell: a streamOptimized VMDK's footer and a fixed VHD's
//! footer are at its end. [`inspect`] reports the footer check as
//! [`Outcome::NotChecked`]; [`inspect_whole`] is given the last [`END_LEN`] bytes too.
//!
//! Nothing here panics or allocates in proportion to what a header claims: every offset and
//! length read from the input is checked against the bytes given.

mod misc;
mod qcow2;
mod vhd;
mod vmdk;

use std::fmt;

/// How many bytes of the image's start [`inspect`] needs to see everything it checks: a
/// VHDX's metadata table lies at a place its region table names (qemu-img puts it at 3 MiB),
/// a VMDK's descriptor may reach 1 MiB past its header. Fewer bytes are fine for a smaller
/// image: the whole of it.
pub const HEAD_LEN: usize = 4 << 20;

/// How many bytes of the image's end [`inspect_whole`] reads: a streamOptimized VMDK's
/// footer and end-of-stream marker (1536 bytes), which end with a fixed VHD's 512-byte footer
/// position.
pub const END_LEN: usize = 1536;

/// A disk image format (or container) Glance's inspector knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// No known header: a raw disk.
    Raw,
    /// QEMU copy-on-write v2/v3.
    Qcow2,
    /// VMware VMDK (a sparse extent with its embedded descriptor, or a descriptor file).
    Vmdk,
    /// Microsoft VHD (dynamic: the footer's copy at the start).
    Vhd,
    /// Microsoft VHDX.
    Vhdx,
    /// ISO 9660 / UDF.
    Iso,
    /// QEMU enhanced disk (Glance refuses it always).
    Qed,
    /// VirtualBox VDI.
    Vdi,
    /// LUKS encrypted volume.
    Luks,
    /// A disk whose MBR holds a protective GPT partition.
    Gpt,
    /// A disk with a DOS (MBR) partition table.
    Mbr,
}

impl Format {
    /// The format's name, e.g. `qcow2`; Glance's `disk_format` where Glance has one.
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

    /// The name Glance's inspector gives the format: as [`Format::as_str`], except that it
    /// calls any partitioned disk (GPT or MBR) `gpt`.
    pub fn inspector_name(self) -> &'static str {
        match self {
            Format::Mbr => "gpt",
            other => other.as_str(),
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
    /// Not checked, and what it would need: never taken for a pass.
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

/// A header that looked like a format but did not hold up, so the image is not of that
/// format (as Glance's inspector decides).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Malformed {
    /// The format the header claimed.
    pub format: Format,
    /// What was wrong.
    pub reason: String,
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inspection {
    /// The format, as Glance's inspector detects it from the image's start.
    pub format: Format,
    /// The virtual disk size in bytes, where the format records one.
    pub virtual_size: Option<u64>,
    /// Each safety check, in Glance's order (a format without checks has none).
    pub checks: Vec<Check>,
    /// Headers that did not hold up: of another format (so the image is not of it), or of
    /// this one where Glance takes it as this format all the same (a VHDX whose region
    /// table is wrong).
    pub malformed: Vec<Malformed>,
    /// A format found only at the image's end, which Glance does not look at: a fixed VHD's
    /// footer (its start is raw data, so Glance takes it for raw). Only [`inspect_whole`]
    /// sets it.
    pub trailer: Option<Format>,
}

impl Inspection {
    fn new(format: Format) -> Inspection {
        Inspection {
            format,
            virtual_size: None,
            checks: Vec::new(),
            malformed: Vec::new(),
            trailer: None,
        }
    }

    fn check(mut self, name: &'static str, result: Result<(), String>) -> Inspection {
        self.checks.push(Check::from_result(name, result));
        self
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

/// What a format's probe made of the bytes.
pub(crate) enum Probe {
    /// Not this format.
    No,
    /// It looked like this format but did not hold up.
    Malformed(Format, String),
    /// This format.
    Yes(Inspection),
}

/// The bytes a probe sees: the image's start, and its end where known.
pub(crate) struct Sample<'a> {
    pub(crate) head: &'a [u8],
    pub(crate) end: Option<&'a [u8]>,
}

/// Inspects the start of an image: `head` is its first [`HEAD_LEN`] bytes, or the whole of a
/// smaller image. Checks that need the image's end are [`Outcome::NotChecked`].
pub fn inspect(head: &[u8]) -> Inspection {
    inspect_sample(&Sample { head, end: None })
}

/// Inspects a whole image from its first [`HEAD_LEN`] bytes and its last [`END_LEN`] bytes
/// (for an image smaller than either, the whole of it for both): the checks at the end run
/// too, and [`Inspection::trailer`] notes a fixed VHD.
pub fn inspect_whole(head: &[u8], end: &[u8]) -> Inspection {
    let mut found = inspect_sample(&Sample { head, end: Some(end) });
    if found.format == Format::Raw && vhd::has_footer(end) {
        found.trailer = Some(Format::Vhd);
    }
    found
}

fn inspect_sample(sample: &Sample<'_>) -> Inspection {
    let probes: [fn(&Sample<'_>) -> Probe; 9] = [
        qcow2::probe,
        vhd::probe_vhd,
        vhd::probe_vhdx,
        vmdk::probe,
        misc::probe_vdi,
        misc::probe_qed,
        misc::probe_iso,
        misc::probe_partitions,
        misc::probe_luks,
    ];
    let mut matched = Vec::new();
    let mut malformed = Vec::new();
    for probe in probes {
        match probe(sample) {
            Probe::No => {}
            Probe::Malformed(format, reason) => malformed.push(Malformed { format, reason }),
            Probe::Yes(found) => matched.push(found),
        }
    }
    let partitioned = |i: &Inspection| matches!(i.format, Format::Gpt | Format::Mbr);
    if matched.len() == 2 && matched.iter().any(|i| i.format == Format::Iso) {
        // A bootable ISO carries a partition table in front: Glance takes it as an ISO.
        matched.retain(|i| !partitioned(i));
    }
    let others: Vec<&'static str> = matched.iter().skip(1).map(|i| i.format.as_str()).collect();
    let mut found = match matched.into_iter().next() {
        Some(first) => first,
        None => Inspection::new(Format::Raw),
    };
    if !others.is_empty() {
        let all = format!("{}, {}", found.format, others.join(", "));
        found.checks.insert(
            0,
            Check::new(
                "single_format",
                Outcome::Failed(format!(
                    "several formats detected at once ({all}): one header may hide another"
                )),
            ),
        );
    }
    found.malformed.extend(malformed);
    found
}

/// A big-endian u64 at `offset`, if the bytes are there.
pub(crate) fn be_u64(b: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(offset..offset + 8)?.try_into().ok()?))
}

/// A big-endian u32 at `offset`.
pub(crate) fn be_u32(b: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(offset..offset + 4)?.try_into().ok()?))
}

/// A big-endian u16 at `offset`.
pub(crate) fn be_u16(b: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(offset..offset + 2)?.try_into().ok()?))
}

/// A little-endian u64 at `offset`.
pub(crate) fn le_u64(b: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(offset..offset + 8)?.try_into().ok()?))
}

/// A little-endian u32 at `offset`.
pub(crate) fn le_u32(b: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(offset..offset + 4)?.try_into().ok()?))
}

/// A little-endian u16 at `offset`.
pub(crate) fn le_u16(b: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(offset..offset + 2)?.try_into().ok()?))
}

#[cfg(test)]
mod tests;
