//! qcow2: the header's magic, version and size, and Glance's three checks (a backing file,
//! an external data file, incompatible features it does not know).

use crate::{Check, Format, Inspection, be_u32, be_u64};

pub(crate) const MAGIC: &[u8] = b"QFI\xfb";
const BACKING_FILE_OFFSET: usize = 0x08;
const SIZE: usize = 0x18;
const INCOMPATIBLE_FEATURES: usize = 0x48;
/// Incompatible feature bit 2: an external data file.
const DATA_FILE_BIT: u64 = 1 << 2;
/// The incompatible features Glance knows (bits 0 to 3: dirty, corrupt, external data
/// file, compression type); any other bit is refused.
const KNOWN_FEATURES: u64 = 0b1111;

pub(crate) fn inspect(head: &[u8]) -> Inspection {
    let mut found = Inspection::new(Format::Qcow2);
    found.virtual_size = be_u64(head, SIZE);
    let version = be_u32(head, 4).unwrap_or_default();
    found.checks.push(Check::from_result("backing_file", backing_file(head)));
    let data_file = features(head, version).and_then(|f| match f & DATA_FILE_BIT {
        0 => Ok(()),
        _ => Err("the image has an external data file (data_file set)".to_string()),
    });
    found.checks.push(Check::from_result("data_file", data_file));
    let unknown = features(head, version).and_then(|f| match f & !KNOWN_FEATURES {
        0 => Ok(()),
        bits => Err(format!("unknown incompatible qcow2 features: {bits:#x}")),
    });
    found.checks.push(Check::from_result("unknown_features", unknown));
    found
}

fn backing_file(head: &[u8]) -> Result<(), String> {
    match be_u64(head, BACKING_FILE_OFFSET) {
        Some(0) => Ok(()),
        Some(_) => Err("the image has a backing file".into()),
        None => Err("the qcow2 header is cut short".into()),
    }
}

/// The incompatible feature bits: none in version 2 (Glance reads the bytes at 0x48 of a v2
/// header too, where a header extension may lie; here a v2 image has no such features);
/// version 3's field; any other version is refused, as Glance refuses it.
fn features(head: &[u8], version: u32) -> Result<u64, String> {
    match version {
        2 => Ok(0),
        3 => be_u64(head, INCOMPATIBLE_FEATURES)
            .ok_or_else(|| "the qcow2 v3 header is cut short".to_string()),
        v => Err(format!("unsupported qcow2 version {v}")),
    }
}
