//! VMDK: a sparse extent (`KDMV`) with its embedded text descriptor. Glance accepts only the
//! single-file create types (monolithicSparse, streamOptimized) and extents without a path:
//! a descriptor naming another file (monolithicFlat, twoGbMaxExtentSparse, or a crafted
//! `RW 1 FLAT "/etc/shadow"`) would make a host read its own files.

use crate::{Check, Format, Inspection, Outcome, le_u32, le_u64};

pub(crate) const MAGIC: &[u8] = b"KDMV";
/// The descriptor must start right after the 512-byte header.
pub(crate) const DESC_OFFSET: usize = 0x200;
/// The largest descriptor read (as Glance's inspector).
pub(crate) const DESC_MAX_SIZE: usize = (1 << 20) - 1;
/// The sparse header's fields the inspection reads end here.
const MIN_SPARSE_HEADER: usize = 64;
/// `gdOffset` meaning "the grain directory is in the footer at the end" (streamOptimized).
const GD_AT_END: u64 = u64::MAX;
/// The create types Glance allows.
const ALLOWED_TYPES: [&str; 2] = ["monolithicsparse", "streamoptimized"];

pub(crate) fn inspect(head: &[u8]) -> Inspection {
    let mut found = Inspection::new(Format::Vmdk);
    let header = match Header::parse(head) {
        Ok(h) => h,
        Err(e) => {
            found.checks.push(Check::new("descriptor", Outcome::Failed(e)));
            return found;
        }
    };
    let descriptor = header.descriptor(head);
    let create_type = descriptor.as_ref().ok().map(|d| create_type(d));
    if let Some(t) = &create_type {
        if ALLOWED_TYPES.contains(&t.as_str()) {
            found.virtual_size = header.capacity_sectors.checked_mul(512);
        }
    }
    let check = descriptor.and_then(|d| check_descriptor(&d));
    found.checks.push(Check::from_result("descriptor", check));
    if header.gd_offset == GD_AT_END {
        // streamOptimized: Glance compares the footer at the end with the header.
        found.checks.push(Check::new(
            "footer",
            Outcome::NotChecked("needs the image's last 1536 bytes (not implemented yet)".into()),
        ));
    }
    found
}

/// The sparse extent header's fields that matter here.
struct Header {
    capacity_sectors: u64,
    desc_sector: u64,
    desc_sectors: u64,
    gd_offset: u64,
}

impl Header {
    fn parse(head: &[u8]) -> Result<Header, String> {
        if head.len() < MIN_SPARSE_HEADER {
            return Err(format!("the VMDK header is cut short ({} bytes)", head.len()));
        }
        let field = |at| le_u64(head, at).unwrap_or_default();
        let version = le_u32(head, 4).unwrap_or_default();
        if !(1..=3).contains(&version) {
            return Err(format!("unsupported VMDK version {version}"));
        }
        let header = Header {
            capacity_sectors: field(12),
            desc_sector: field(28),
            desc_sectors: field(36),
            gd_offset: field(56),
        };
        if header.desc_sector.checked_mul(512) != Some(DESC_OFFSET as u64) {
            return Err("the descriptor is not right after the header".into());
        }
        Ok(header)
    }

    /// The descriptor's text, lower-cased, up to its first NUL; only the bytes given are
    /// read, whatever the header claims.
    fn descriptor(&self, head: &[u8]) -> Result<String, String> {
        let claimed = usize::try_from(self.desc_sectors.saturating_mul(512)).unwrap_or(usize::MAX);
        let len = claimed.min(DESC_MAX_SIZE);
        let end = DESC_OFFSET.saturating_add(len).min(head.len());
        let bytes = head.get(DESC_OFFSET..end).unwrap_or_default();
        let bytes = bytes.split(|b| *b == 0).next().unwrap_or_default();
        if bytes.is_empty() {
            return Err("no descriptor found".into());
        }
        std::str::from_utf8(bytes)
            .ok()
            .filter(|t| t.is_ascii())
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| "the descriptor is not ASCII text".to_string())
    }
}

/// `createType="..."`, or `formatnotfound`.
fn create_type(desc: &str) -> String {
    const KEY: &str = "createtype=\"";
    let Some(start) = desc.find(KEY).map(|i| i + KEY.len()) else {
        return "formatnotfound".into();
    };
    match desc[start..].find('"') {
        Some(len) if len < 64 => desc[start..start + len].to_string(),
        _ => "formatnotfound".into(),
    }
}

/// Glance's descriptor check: an allowed create type; every line a comment, a `ddb` entry,
/// a `key=value` header field or an extent; extents without a path; at least one extent.
fn check_descriptor(desc: &str) -> Result<(), String> {
    let kind = create_type(desc);
    if !ALLOWED_TYPES.contains(&kind.as_str()) {
        return Err(format!(
            "VMDK create type {kind:?} is not allowed (only monolithicSparse and \
             streamOptimized: other types name files outside the image)"
        ));
    }
    let mut extents = 0;
    for line in desc.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with("ddb") {
            continue;
        }
        let first = line.split(' ').next().unwrap_or_default();
        if line.contains('=') && !line.split('=').next().unwrap_or_default().contains(' ') {
            continue;
        }
        if ["rw", "rdonly", "noaccess"].contains(&first) {
            if line.contains('/') {
                return Err(format!("the extent {line:?} names a path"));
            }
            extents += 1;
            continue;
        }
        return Err(format!("unsupported line in the VMDK descriptor: {line:?}"));
    }
    if extents == 0 {
        return Err("the VMDK descriptor names no extent".into());
    }
    Ok(())
}
