//! qcow2: the header's magic, version and size, and Glance's three checks (a backing file,
//! an external data file, incompatible features it does not know).

use crate::{Format, Inspection, Probe, Sample, be_u32, be_u64};

const MAGIC: &[u8] = b"QFI\xfb";
/// Glance reads a 512-byte header: a shorter image is not a qcow2 to it.
const HEADER_LEN: usize = 512;
const BACKING_FILE_OFFSET: usize = 0x08;
const SIZE: usize = 0x18;
const INCOMPATIBLE_FEATURES: usize = 0x48;
/// Incompatible feature bit 2: an external data file.
const DATA_FILE_BIT: u64 = 1 << 2;
/// The incompatible features Glance knows (bits 0 to 3: dirty, corrupt, external data
/// file, compression type); any other bit is refused.
const KNOWN_FEATURES: u64 = 0b1111;

pub(crate) fn probe(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    if !head.starts_with(MAGIC) {
        return Probe::No;
    }
    if head.len() < HEADER_LEN {
        return Probe::Malformed(
            Format::Qcow2,
            format!("the qcow2 header is cut short ({} of {HEADER_LEN} bytes)", head.len()),
        );
    }
    let mut found = Inspection::new(Format::Qcow2);
    found.virtual_size = be_u64(head, SIZE);
    let backing = match be_u64(head, BACKING_FILE_OFFSET) {
        Some(0) => Ok(()),
        _ => Err("the image has a backing file (it would read another file on the host)".into()),
    };
    // Glance reads the feature bits at 0x48 whatever the version (in a v2 header a header
    // extension lies there, and a set bit 2 counts just the same).
    let features = be_u64(head, INCOMPATIBLE_FEATURES).unwrap_or_default();
    let data_file = match features & DATA_FILE_BIT {
        0 => Ok(()),
        _ => Err("the image has an external data file (data_file set)".to_string()),
    };
    let unknown = match be_u32(head, 4).unwrap_or_default() {
        2 => Ok(()),
        3 => match features & !KNOWN_FEATURES {
            0 => Ok(()),
            bits => Err(format!("unknown incompatible qcow2 features: {bits:#x}")),
        },
        v => Err(format!("unsupported qcow2 version {v}")),
    };
    Probe::Yes(
        found
            .check("backing_file", backing)
            .check("data_file", data_file)
            .check("unknown_features", unknown),
    )
}
