//! Hand-built headers for each check, and inputs no header should survive: random bytes and
//! every truncation of valid headers (no panic, no allocation from a claimed size).

use super::*;

fn qcow2(version: u32, backing: u64, features: u64) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&version.to_be_bytes());
    h[8..16].copy_from_slice(&backing.to_be_bytes());
    h[24..32].copy_from_slice(&(10u64 << 30).to_be_bytes());
    h[0x48..0x50].copy_from_slice(&features.to_be_bytes());
    h
}

fn vmdk(descriptor: &str, gd_offset: u64) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..4].copy_from_slice(b"KDMV");
    h[4..8].copy_from_slice(&1u32.to_le_bytes());
    h[12..20].copy_from_slice(&2_097_152u64.to_le_bytes()); // 1 GiB in sectors
    h[28..36].copy_from_slice(&1u64.to_le_bytes()); // descriptor at sector 1
    h[36..44].copy_from_slice(&20u64.to_le_bytes()); // 20 sectors
    h[56..64].copy_from_slice(&gd_offset.to_le_bytes());
    h.extend_from_slice(descriptor.as_bytes());
    h.resize(512 + 20 * 512, 0);
    h
}

fn outcome<'a>(i: &'a Inspection, name: &str) -> &'a Outcome {
    &i.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name}: {i:?}")).outcome
}

const SPARSE: &str = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
    createType=\"monolithicSparse\"\n\n# Extent description\nRW 2097152 SPARSE \"disk.vmdk\"\n\n\
    ddb.virtualHWVersion = \"4\"\nddb.geometry.cylinders = \"2080\"\n";

#[test]
fn a_plain_qcow2_is_safe_and_sized() {
    for version in [2, 3] {
        let i = inspect(&qcow2(version, 0, 0));
        assert_eq!(i.format, Format::Qcow2);
        assert_eq!(i.virtual_size, Some(10 << 30));
        assert!(i.is_safe(), "{i:?}");
        assert_eq!(i.checks.len(), 3);
    }
    // Known v3 features (dirty, corrupt, compression type) are fine.
    assert!(inspect(&qcow2(3, 0, 0b1011)).is_safe());
}

#[test]
fn qcow2_backing_file_data_file_and_unknown_features_fail() {
    let i = inspect(&qcow2(3, 512, 0));
    assert!(matches!(outcome(&i, "backing_file"), Outcome::Failed(m) if m.contains("backing")));
    let i = inspect(&qcow2(3, 0, 0b100));
    assert!(matches!(outcome(&i, "data_file"), Outcome::Failed(m) if m.contains("data file")));
    assert_eq!(outcome(&i, "unknown_features"), &Outcome::Passed);
    let i = inspect(&qcow2(3, 0, 1 << 4));
    assert!(matches!(outcome(&i, "unknown_features"), Outcome::Failed(m) if m.contains("0x10")));
    let i = inspect(&qcow2(3, 0, 1 << 63));
    assert!(!i.is_safe());
    let i = inspect(&qcow2(1, 0, 0));
    assert!(
        matches!(outcome(&i, "unknown_features"), Outcome::Failed(m) if m.contains("version 1"))
    );
}

#[test]
fn a_monolithic_sparse_vmdk_is_safe_and_sized() {
    let i = inspect(&vmdk(SPARSE, 21));
    assert_eq!(i.format, Format::Vmdk);
    assert_eq!(i.virtual_size, Some(1 << 30));
    assert!(i.is_safe(), "{i:?}");
    assert_eq!(outcome(&i, "descriptor"), &Outcome::Passed);
}

#[test]
fn vmdk_extents_outside_the_image_and_other_types_fail() {
    let host = SPARSE.replace("\"disk.vmdk\"", "\"/etc/shadow\"");
    let i = inspect(&vmdk(&host, 21));
    assert!(matches!(outcome(&i, "descriptor"), Outcome::Failed(m) if m.contains("path")));
    let flat = SPARSE.replace("monolithicSparse", "monolithicFlat");
    let i = inspect(&vmdk(&flat, 21));
    assert!(
        matches!(outcome(&i, "descriptor"), Outcome::Failed(m) if m.contains("monolithicflat"))
    );
    assert_eq!(i.virtual_size, None);
    let no_extent = SPARSE.replace("RW 2097152 SPARSE \"disk.vmdk\"", "");
    assert!(!inspect(&vmdk(&no_extent, 21)).is_safe());
    let junk = SPARSE.replace("# Extent description", "please read my host files");
    assert!(!inspect(&vmdk(&junk, 21)).is_safe());
}

#[test]
fn a_stream_optimized_vmdk_says_its_footer_is_not_checked() {
    let stream = SPARSE.replace("monolithicSparse", "streamOptimized");
    let i = inspect(&vmdk(&stream, u64::MAX));
    assert!(i.is_safe());
    assert!(matches!(outcome(&i, "footer"), Outcome::NotChecked(_)));
}

#[test]
fn other_formats_are_recognised_and_anything_else_is_raw() {
    let with = |offset: usize, magic: &[u8]| {
        let mut b = vec![0u8; 40 * 1024];
        b[offset..offset + magic.len()].copy_from_slice(magic);
        inspect(&b).format
    };
    assert_eq!(with(0, b"conectix"), Format::Vhd);
    assert_eq!(with(0, b"vhdxfile"), Format::Vhdx);
    assert_eq!(with(0, b"QED\0"), Format::Qed);
    assert_eq!(with(64, &[0x7f, 0x10, 0xda, 0xbe]), Format::Vdi);
    assert_eq!(with(0, b"LUKS\xba\xbe"), Format::Luks);
    assert_eq!(with(32 * 1024 + 1, b"CD001"), Format::Iso);
    assert_eq!(with(512, b"EFI PART"), Format::Gpt);
    assert_eq!(with(510, &[0x55, 0xaa]), Format::Mbr);
    let raw = inspect(&[7u8; 4096]);
    assert_eq!(raw.format, Format::Raw);
    assert_eq!(outcome(&raw, "format"), &Outcome::Passed);
    assert_eq!(inspect(&[]).format, Format::Raw);
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn random_and_truncated_inputs_never_panic() {
    // Random bytes behind each magic (the parsers run on garbage), and plain random bytes.
    for seed in 0..2_000u64 {
        let mut b = noise(2048 + (seed as usize % 3000), seed);
        match seed % 3 {
            0 => b[..4].copy_from_slice(b"QFI\xfb"),
            1 => b[..4].copy_from_slice(b"KDMV"),
            _ => {}
        }
        let _ = inspect(&b);
    }
    // Every truncation of valid headers: refused or inspected, never a panic.
    for whole in [qcow2(3, 0, 0), vmdk(SPARSE, 21)] {
        for len in 0..whole.len() {
            let i = inspect(&whole[..len]);
            if (4..16).contains(&len) {
                assert!(!i.is_safe(), "{len} bytes cannot be judged safe: {i:?}");
            }
        }
    }
    // A header claiming a huge descriptor reads only what is there.
    let mut huge = vmdk(SPARSE, 21);
    huge[36..44].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(inspect(&huge).is_safe());
}
