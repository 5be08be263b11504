//! VHD and VHDX. A dynamic VHD starts with a copy of its footer; a fixed VHD has its footer
//! only at the end, so Glance (which reads the start) takes it for raw. A VHDX has its region
//! table at 192 KiB and the metadata table it names: when they are wrong, Glance's inspector
//! gives up reading it but still takes it for a VHDX (of unknown virtual size) and accepts
//! it; the inspection notes the fault in [`Inspection::malformed`](crate::Inspection).

use crate::{Format, Inspection, Outcome, Probe, Sample, be_u64, le_u16, le_u32, le_u64};

const VHD_MAGIC: &[u8] = b"conectix";
const VHD_FOOTER_LEN: usize = 512;
const VHDX_MAGIC: &[u8] = b"vhdxfile";
const REGION_TABLE: usize = 192 * 1024;
const REGION_TABLE_LEN: usize = 64 * 1024;
/// Glance's limit on region and metadata entries.
const MAX_ENTRIES: u64 = 2047;
/// The metadata region's GUID, as stored (`8B7CA206-4790-4B9A-B8FE-575F050F886E`).
pub(crate) const METADATA_REGION: [u8; 16] = [
    0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e,
];
/// The virtual disk size item's GUID, as stored (`2FA54224-CD1B-4876-B211-5DBED83BF4B8`).
pub(crate) const VIRTUAL_DISK_SIZE: [u8; 16] = [
    0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8,
];

pub(crate) fn probe_vhd(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    if !head.starts_with(VHD_MAGIC) {
        return Probe::No;
    }
    let mut found = Inspection::new(Format::Vhd);
    found.virtual_size = be_u64(head, 40);
    if head.len() < VHD_FOOTER_LEN {
        found = found.cut_short(VHD_FOOTER_LEN, head.len());
    }
    Probe::Yes(found)
}

/// Whether `end` (an image's last bytes) ends with a VHD footer.
pub(crate) fn has_footer(end: &[u8]) -> bool {
    end.len() >= VHD_FOOTER_LEN && end[end.len() - VHD_FOOTER_LEN..].starts_with(VHD_MAGIC)
}

pub(crate) fn probe_vhdx(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    if !head.starts_with(VHDX_MAGIC) {
        return Probe::No;
    }
    let found = Inspection::new(Format::Vhdx);
    let Some(table) = head.get(REGION_TABLE..REGION_TABLE + REGION_TABLE_LEN) else {
        return Probe::Yes(found.cut_short(REGION_TABLE + REGION_TABLE_LEN, head.len()));
    };
    // Glance's inspector stops reading a VHDX whose tables are wrong, but still takes it for
    // a VHDX (it has no check to fail): so does this, noting what is wrong.
    let malformed = |why: String| Probe::Yes(Inspection::new(Format::Vhdx).noting(why));
    if !table.starts_with(b"regi") {
        return malformed("no region table signature at 192 KiB".into());
    }
    let count = u64::from(le_u32(table, 8).unwrap_or_default());
    if count > MAX_ENTRIES {
        return malformed(format!("{count} region table entries (the limit is {MAX_ENTRIES})"));
    }
    let metadata = (0..count as usize)
        .map(|i| &table[16 + i * 32..16 + (i + 1) * 32])
        .find(|entry| entry[..16] == METADATA_REGION)
        .and_then(|entry| usize::try_from(le_u64(entry, 16)?).ok());
    let Some(meta) = metadata else {
        return Probe::Yes(found);
    };
    let Some(meta_table) = head.get(meta..meta.saturating_add(32)) else {
        return Probe::Yes(found.out_of_reach(sample, meta));
    };
    if !meta_table.starts_with(b"metadata") {
        return malformed(format!("no metadata table signature at {meta:#x}"));
    }
    let entries = usize::from(le_u16(meta_table, 10).unwrap_or_default());
    let Some(table) = head.get(meta..meta.saturating_add(32 + entries * 32)) else {
        return Probe::Yes(found.out_of_reach(sample, meta));
    };
    if entries as u64 > MAX_ENTRIES {
        return malformed(format!("{entries} metadata entries (the limit is {MAX_ENTRIES})"));
    }
    let item = (0..entries)
        .map(|i| &table[32 + i * 32..32 + (i + 1) * 32])
        .find(|entry| entry[..16] == VIRTUAL_DISK_SIZE)
        .and_then(|entry| usize::try_from(le_u32(entry, 16)?).ok());
    let Some(item) = item else {
        return Probe::Yes(found);
    };
    let at = meta.saturating_add(item);
    match le_u64(head, at) {
        Some(size) => Probe::Yes(Inspection { virtual_size: Some(size), ..found }),
        None => Probe::Yes(found.out_of_reach(sample, at)),
    }
}

impl Inspection {
    /// Notes that this format's header does not hold up, though it is taken as this format.
    fn noting(mut self, reason: String) -> Inspection {
        self.malformed.push(crate::Malformed { format: self.format, reason });
        self
    }

    /// The image ended before a structure Glance needs: it cannot judge it, and refuses it.
    pub(crate) fn cut_short(self, needed: usize, have: usize) -> Inspection {
        self.check(
            "complete",
            Err(format!(
                "the image ends at {have} bytes, inside its header (which needs {needed})"
            )),
        )
    }

    /// A structure at `offset`, past the bytes given: cut short if they were the whole image,
    /// otherwise not read.
    fn out_of_reach(mut self, sample: &Sample<'_>, offset: usize) -> Inspection {
        if sample.head.len() < crate::HEAD_LEN {
            return self.cut_short(offset, sample.head.len());
        }
        self.checks.push(crate::Check::new(
            "complete",
            Outcome::NotChecked(format!(
                "the VHDX metadata at {offset:#x} is past the first {} bytes read",
                crate::HEAD_LEN
            )),
        ));
        self
    }
}
