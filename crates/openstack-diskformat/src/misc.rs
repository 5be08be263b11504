//! The formats with little to check: VDI, QED (always refused), ISO, a partitioned disk
//! (Glance's `gpt` inspector: any MBR signature, with the partition table's sanity), LUKS.

use crate::{Format, Inspection, Probe, Sample, be_u16, le_u16, le_u32, le_u64};

const SECTOR: usize = 512;

pub(crate) fn probe_vdi(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    if head.len() < SECTOR || le_u32(head, 0x40) != Some(0xbeda_107f) {
        return Probe::No;
    }
    let mut found = Inspection::new(Format::Vdi);
    found.virtual_size = le_u64(head, 0x170);
    Probe::Yes(found)
}

pub(crate) fn probe_qed(sample: &Sample<'_>) -> Probe {
    if sample.head.len() < SECTOR || !sample.head.starts_with(b"QED\0") {
        return Probe::No;
    }
    Probe::Yes(
        Inspection::new(Format::Qed).check(
            "banned",
            Err("QED images are never accepted (no one supports them, and they cannot be checked)"
                .into()),
        ),
    )
}

/// The system area (16 sectors of 2048 bytes) and the first volume descriptor.
const ISO_DESCRIPTOR: usize = 32 * 1024;
const ISO_NEEDS: usize = ISO_DESCRIPTOR + 2048;

pub(crate) fn probe_iso(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    let Some(descriptor) = head.get(ISO_DESCRIPTOR..ISO_NEEDS) else {
        return Probe::No;
    };
    if !matches!(&descriptor[1..6], b"CD001" | b"NSR02" | b"NSR03") {
        return Probe::No;
    }
    let mut found = Inspection::new(Format::Iso);
    if descriptor[0] == 1 {
        // A primary volume descriptor: block count × block size.
        let blocks = le_u32(descriptor, 80).unwrap_or_default();
        let block = le_u16(descriptor, 128).unwrap_or_default();
        found.virtual_size = Some(u64::from(blocks) * u64::from(block));
    }
    Probe::Yes(found)
}

/// The partition table entries in the MBR.
const PTE_START: usize = 446;
const GPT_PROTECTIVE: u8 = 0xee;

pub(crate) fn probe_partitions(sample: &Sample<'_>) -> Probe {
    let Some(mbr) = sample.head.get(..SECTOR) else {
        return Probe::No;
    };
    let fat = mbr[0x10] == 2 && mbr[0x15] == 0xf8;
    if mbr[510..] != [0x55, 0xaa] || fat {
        return Probe::No;
    }
    let entries: Vec<&[u8]> = (0..4).map(|i| &mbr[PTE_START + 16 * i..][..16]).collect();
    let format = match entries.iter().any(|e| e[4] == GPT_PROTECTIVE) {
        true => Format::Gpt,
        false => Format::Mbr,
    };
    Probe::Yes(Inspection::new(format).check("mbr", check_mbr(&entries)))
}

/// Glance's MBR sanity: boot flags 0 or 0x80, at least one partition, and a protective GPT
/// partition alone in the first entry, starting at CHS 0/2/0 and LBA 1.
fn check_mbr(entries: &[&[u8]]) -> Result<(), String> {
    let mut used = Vec::new();
    let mut gpt = false;
    for (i, e) in entries.iter().enumerate() {
        if !matches!(e[0], 0x00 | 0x80) {
            return Err(format!("MBR partition {i} has an invalid boot flag {:#04x}", e[0]));
        }
        if e[4] != 0 {
            used.push(i);
        }
        if e[4] == GPT_PROTECTIVE {
            gpt = true;
            if e[1..4] != [0, 2, 0] {
                return Err("the protective GPT partition has an invalid start CHS".into());
            }
            if le_u32(e, 8) != Some(1) {
                return Err("the protective GPT partition does not start at LBA 1".into());
            }
        }
    }
    if gpt && used != [0] {
        return Err("the GPT's MBR defines partitions besides the protective one".into());
    }
    if used.is_empty() {
        return Err("the MBR defines no partition".into());
    }
    Ok(())
}

const LUKS_HEADER: usize = 592;

pub(crate) fn probe_luks(sample: &Sample<'_>) -> Probe {
    let head = sample.head;
    if !head.starts_with(b"LUKS\xba\xbe") {
        return Probe::No;
    }
    let found = Inspection::new(Format::Luks);
    if head.len() < LUKS_HEADER {
        return Probe::Yes(found.cut_short(LUKS_HEADER, head.len()));
    }
    let version = match be_u16(head, 6) {
        Some(1) => Ok(()),
        v => Err(format!("LUKS version {} is not supported (only 1)", v.unwrap_or_default())),
    };
    // Without a passphrase Glance does not look inside; neither can we.
    Probe::Yes(found.check("version", version).check("passphrase", Ok(())))
}
