//! VMDK: a sparse extent (`KDMV`) with its embedded text descriptor, or a descriptor file on
//! its own. Glance accepts only the single-file create types (monolithicSparse,
//! streamOptimized) and extents without a path: a descriptor naming another file
//! (monolithicFlat, twoGbMaxExtentSparse, or a crafted `RW 1 FLAT "/etc/shadow"`) would make a
//! host read its own files.

use crate::{Check, Format, Inspection, Outcome, Probe, Sample, le_u32, le_u64};

const MAGIC: &[u8] = b"KDMV";
/// The descriptor must start right after the 512-byte header.
const DESC_OFFSET: usize = 0x200;
/// The largest descriptor read (as Glance's inspector).
const DESC_MAX_SIZE: usize = (1 << 20) - 1;
/// The sparse header's fields the inspection reads end here.
const MIN_SPARSE_HEADER: usize = 64;
/// `gdOffset` meaning "the grain directory is in the footer at the end" (streamOptimized).
const GD_AT_END: u64 = u64::MAX;
/// The create types Glance allows.
const ALLOWED_TYPES: [&str; 2] = ["monolithicsparse", "streamoptimized"];
/// The footer's markers: the footer itself, then the end of stream.
const MARKER_FOOTER: u32 = 3;
const MARKER_EOS: u32 = 0;

pub(crate) fn probe(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    if head.len() < MIN_SPARSE_HEADER {
        return match head.starts_with(MAGIC) {
            // Glance takes it for a VMDK it cannot check.
            true => Probe::Yes(Inspection::new(Format::Vmdk).check(
                "descriptor",
                Err(format!("the VMDK header is cut short ({} bytes)", head.len())),
            )),
            false => Probe::No,
        };
    }
    if !head.starts_with(MAGIC) {
        return descriptor_file(head);
    }
    let header = match Header::parse(head) {
        Ok(h) => h,
        // Glance's inspector stops there, still takes it for a VMDK, and finds no descriptor.
        Err(e) => {
            return Probe::Yes(Inspection::new(Format::Vmdk).check("descriptor", Err(e)));
        }
    };
    let mut found = Inspection::new(Format::Vmdk);
    let descriptor = header.descriptor(head);
    if let Ok(d) = &descriptor {
        if ALLOWED_TYPES.contains(&create_type(d).as_str()) {
            found.virtual_size = header.capacity_sectors.checked_mul(512);
        }
    }
    let check = descriptor.and_then(|d| check_descriptor(&d));
    found.checks.push(Check::from_result("descriptor", check));
    if header.gd_offset == GD_AT_END {
        // streamOptimized: Glance compares the footer at the end with the header.
        found.checks.push(match sample.end {
            Some(end) => Check::from_result("footer", check_footer(&header, end)),
            None => Check::new(
                "footer",
                Outcome::NotChecked(
                    "a streamOptimized VMDK's footer is in its last 1536 bytes, not read here"
                        .into(),
                ),
            ),
        });
    }
    Probe::Yes(found)
}

/// A file that is text from its start: a descriptor on its own (monolithicFlat and the split
/// types keep their data in other files), a VMDK if it names a create type.
fn descriptor_file(head: &[u8]) -> Probe {
    let first = &head[..head.len().min(512)];
    if !first.iter().all(|b| is_text(*b)) {
        return Probe::No;
    }
    let text = &head[..head.len().min(DESC_MAX_SIZE)];
    let text = text.split(|b| *b == 0).next().unwrap_or_default();
    let Some(desc) = std::str::from_utf8(text).ok().map(str::to_ascii_lowercase) else {
        return Probe::No;
    };
    if create_type(&desc) == "formatnotfound" {
        return Probe::No;
    }
    Probe::Yes(Inspection::new(Format::Vmdk).check("descriptor", check_descriptor(&desc)))
}

/// Printable ASCII or whitespace (Python's `isprintable() or isspace()` on ASCII).
fn is_text(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || (0x09..=0x0d).contains(&b) || (0x1c..=0x1f).contains(&b)
}

/// A streamOptimized VMDK's end: a footer marker, a copy of the sparse header whose fields
/// agree with the one at the start, and an end-of-stream marker.
fn check_footer(header: &Header, end: &[u8]) -> Result<(), String> {
    if end.len() < 1536 {
        return Err(format!("the image ends before its footer ({} bytes)", end.len()));
    }
    let end = &end[end.len() - 1536..];
    let footer = Header::fields(&end[512..]);
    if !end[512..].starts_with(MAGIC) {
        return Err("header and footer signature do not match".into());
    }
    if footer.version != header.version {
        return Err("header and footer versions do not match".into());
    }
    if (footer.desc_sector, footer.desc_sectors) != (header.desc_sector, header.desc_sectors) {
        return Err("the footer names a different descriptor than the header".into());
    }
    if footer.gd_offset == GD_AT_END {
        return Err("the footer points at another footer".into());
    }
    let marker = |m: &[u8], typ: u32, val_zero: bool| {
        le_u32(m, 8) == Some(0)
            && le_u32(m, 12) == Some(typ)
            && m[16..512].iter().all(|b| *b == 0)
            && (!val_zero || le_u64(m, 0) == Some(0))
    };
    if !marker(&end[..512], MARKER_FOOTER, false) {
        return Err("the footer marker is invalid".into());
    }
    if !marker(&end[1024..], MARKER_EOS, true) {
        return Err("the end-of-stream marker is invalid".into());
    }
    Ok(())
}

/// The sparse extent header's fields that matter here.
struct Header {
    version: u32,
    capacity_sectors: u64,
    desc_sector: u64,
    desc_sectors: u64,
    gd_offset: u64,
}

impl Header {
    /// The fields of a sparse header at least [`MIN_SPARSE_HEADER`] long.
    fn fields(h: &[u8]) -> Header {
        let field = |at| le_u64(h, at).unwrap_or_default();
        Header {
            version: le_u32(h, 4).unwrap_or_default(),
            capacity_sectors: field(12),
            desc_sector: field(28),
            desc_sectors: field(36),
            gd_offset: field(56),
        }
    }

    fn parse(head: &[u8]) -> Result<Header, String> {
        let header = Header::fields(head);
        if !(1..=3).contains(&header.version) {
            return Err(format!("unsupported VMDK version {}", header.version));
        }
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
        if head.len() < DESC_OFFSET + len {
            return Err(format!(
                "the image ends inside its descriptor ({} of {} bytes)",
                head.len().saturating_sub(DESC_OFFSET),
                len
            ));
        }
        let bytes = &head[DESC_OFFSET..DESC_OFFSET + len];
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
    let mut extents: usize = 0;
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
