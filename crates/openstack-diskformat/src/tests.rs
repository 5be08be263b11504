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
    assert_eq!(with(510, &[0x55, 0xaa]), Format::Mbr);
    // "EFI PART" alone is not enough: Glance looks at the MBR in front of it.
    assert_eq!(with(512, b"EFI PART"), Format::Raw);
    let raw = inspect(&[7u8; 4096]);
    assert_eq!(raw.format, Format::Raw);
    assert!(raw.checks.is_empty() && raw.malformed.is_empty());
    assert_eq!(inspect(&[]).format, Format::Raw);
    assert!(!inspect(&with_magic(b"QED\0")).is_safe(), "QED is always refused");
}

fn with_magic(magic: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 1024];
    b[..magic.len()].copy_from_slice(magic);
    b
}

/// An MBR with the given partition entries (boot flag, start CHS, type, start LBA).
fn mbr(entries: &[(u8, [u8; 3], u8, u32)]) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    for (i, (boot, chs, kind, lba)) in entries.iter().enumerate() {
        let e = &mut b[446 + 16 * i..446 + 16 * (i + 1)];
        e[0] = *boot;
        e[1..4].copy_from_slice(chs);
        e[4] = *kind;
        e[8..12].copy_from_slice(&lba.to_le_bytes());
        e[12..16].copy_from_slice(&100u32.to_le_bytes());
    }
    b[510] = 0x55;
    b[511] = 0xaa;
    b
}

#[test]
fn partition_tables_are_checked_as_glance_checks_them() {
    let gpt = inspect(&mbr(&[(0, [0, 2, 0], 0xee, 1)]));
    assert_eq!((gpt.format, gpt.format.inspector_name()), (Format::Gpt, "gpt"));
    assert_eq!(outcome(&gpt, "mbr"), &Outcome::Passed);
    let dos = inspect(&mbr(&[(0x80, [1, 1, 0], 0x83, 2048), (0, [0; 3], 0x82, 4096)]));
    assert_eq!((dos.format, dos.format.inspector_name()), (Format::Mbr, "gpt"));
    assert!(dos.is_safe(), "{dos:?}");
    let fails = |entries: &[(u8, [u8; 3], u8, u32)], why: &str| {
        let i = inspect(&mbr(entries));
        assert!(
            matches!(outcome(&i, "mbr"), Outcome::Failed(m) if m.contains(why)),
            "{why}: {i:?}"
        );
    };
    fails(&[], "no partition");
    fails(&[(0x7f, [0; 3], 0x83, 2048)], "boot flag");
    fails(&[(0, [0, 1, 0], 0xee, 1)], "CHS");
    fails(&[(0, [0, 2, 0], 0xee, 2)], "LBA 1");
    fails(&[(0, [0, 2, 0], 0xee, 1), (0, [0; 3], 0x83, 2048)], "besides");
    // A FAT boot sector (two FATs, fixed-disk media) is not a partition table.
    let mut fat = mbr(&[(0, [0, 2, 0], 0xee, 1)]);
    fat[0x10] = 2;
    fat[0x15] = 0xf8;
    assert_eq!(inspect(&fat).format, Format::Raw);
}

#[test]
fn a_bootable_iso_is_an_iso_and_two_formats_at_once_are_refused() {
    let mut iso = mbr(&[(0x80, [0, 2, 0], 0x17, 0)]);
    iso.resize(64 * 1024, 0);
    iso[32 * 1024] = 1;
    iso[32 * 1024 + 1..32 * 1024 + 6].copy_from_slice(b"CD001");
    iso[32 * 1024 + 80..32 * 1024 + 84].copy_from_slice(&100u32.to_le_bytes());
    iso[32 * 1024 + 128..32 * 1024 + 130].copy_from_slice(&2048u16.to_le_bytes());
    let i = inspect(&iso);
    assert_eq!(i.format, Format::Iso);
    assert_eq!(i.virtual_size, Some(100 * 2048));
    assert!(i.is_safe(), "{i:?}");
    // A qcow2 header with an MBR signature: which is it? Refused.
    let mut both = qcow2(3, 0, 0);
    both[510] = 0x55;
    both[511] = 0xaa;
    let i = inspect(&both);
    assert_eq!(i.format, Format::Qcow2);
    assert!(matches!(outcome(&i, "single_format"), Outcome::Failed(m) if m.contains("qcow2, mbr")));
}

#[test]
fn short_and_malformed_headers_are_not_their_format() {
    // Glance reads 512 bytes of a qcow2 header: fewer is raw, and noted.
    let short = &qcow2(3, 0, 0)[..300];
    let i = inspect(short);
    assert_eq!(i.format, Format::Raw);
    assert_eq!(i.malformed[0].format, Format::Qcow2);
    // A VMDK whose descriptor is elsewhere, or of another version.
    let mut elsewhere = vmdk(SPARSE, 21);
    elsewhere[28..36].copy_from_slice(&2u64.to_le_bytes());
    let i = inspect(&elsewhere);
    assert_eq!(i.format, Format::Vmdk);
    assert!(
        matches!(outcome(&i, "descriptor"), Outcome::Failed(m) if m.contains("after the header"))
    );
    let mut v9 = vmdk(SPARSE, 21);
    v9[4..8].copy_from_slice(&9u32.to_le_bytes());
    let i = inspect(&v9);
    assert!(
        matches!(outcome(&i, "descriptor"), Outcome::Failed(m) if m == "unsupported VMDK version 9")
    );
}

/// A VHDX whose region table names a metadata region at `meta`, holding the virtual size.
fn vhdx(meta: usize) -> Vec<u8> {
    let mut b = vec![0u8; meta + 128 * 1024];
    b[..8].copy_from_slice(b"vhdxfile");
    let t = 192 * 1024;
    b[t..t + 4].copy_from_slice(b"regi");
    b[t + 8..t + 12].copy_from_slice(&1u32.to_le_bytes());
    b[t + 16..t + 32].copy_from_slice(&vhd::METADATA_REGION);
    b[t + 32..t + 40].copy_from_slice(&(meta as u64).to_le_bytes());
    b[meta..meta + 8].copy_from_slice(b"metadata");
    b[meta + 10..meta + 12].copy_from_slice(&1u16.to_le_bytes());
    b[meta + 32..meta + 48].copy_from_slice(&vhd::VIRTUAL_DISK_SIZE);
    b[meta + 48..meta + 52].copy_from_slice(&(64u32 * 1024).to_le_bytes());
    b[meta + 64 * 1024..meta + 64 * 1024 + 8].copy_from_slice(&(5u64 << 30).to_le_bytes());
    b
}

#[test]
fn a_vhdx_needs_its_region_and_metadata_tables() {
    let good = vhdx(1 << 20);
    let i = inspect(&good);
    assert_eq!((i.format, i.virtual_size), (Format::Vhdx, Some(5 << 30)));
    assert!(i.is_safe() && i.checks.is_empty(), "{i:?}");
    let mut no_regi = good.clone();
    no_regi[192 * 1024] = b'x';
    // Glance gives up reading such a VHDX but accepts it as one: noted, not failed.
    let i = inspect(&no_regi);
    assert_eq!((i.format, i.virtual_size), (Format::Vhdx, None));
    assert!(i.is_safe() && i.malformed[0].reason.contains("region table"), "{i:?}");
    let mut no_meta = good.clone();
    no_meta[1 << 20] = b'x';
    assert!(inspect(&no_meta).malformed[0].reason.contains("metadata"));
    let mut too_many = good.clone();
    too_many[192 * 1024 + 8..192 * 1024 + 12].copy_from_slice(&4000u32.to_le_bytes());
    assert!(inspect(&too_many).malformed[0].reason.contains("4000"));
    // Cut before its metadata: Glance cannot finish, and refuses it.
    let i = inspect(&good[..(1 << 20) + 16]);
    assert_eq!(i.format, Format::Vhdx);
    assert!(matches!(outcome(&i, "complete"), Outcome::Failed(_)));
    // Metadata past the bytes read from a larger image: not checked, never passed.
    let far = vhdx(HEAD_LEN + (1 << 20));
    let i = inspect(&far[..HEAD_LEN]);
    assert!(matches!(outcome(&i, "complete"), Outcome::NotChecked(_)), "{i:?}");
    assert_eq!(i.virtual_size, None);
}

/// A streamOptimized VMDK's last 1536 bytes: footer marker, header copy, end of stream.
fn stream_end(header: &[u8]) -> Vec<u8> {
    let mut end = vec![0u8; 1536];
    end[12..16].copy_from_slice(&3u32.to_le_bytes());
    end[512..1024].copy_from_slice(&header[..512]);
    end[512 + 56..512 + 64].copy_from_slice(&1000u64.to_le_bytes());
    end
}

#[test]
fn a_stream_optimized_vmdk_footer_is_checked_from_its_end() {
    let stream = SPARSE.replace("monolithicSparse", "streamOptimized");
    let head = vmdk(&stream, u64::MAX);
    let good = stream_end(&head);
    let i = inspect_whole(&head, &good);
    assert!(i.is_safe(), "{i:?}");
    assert_eq!(outcome(&i, "footer"), &Outcome::Passed);
    let broken = |edit: fn(&mut Vec<u8>), why: &str| {
        let mut end = good.clone();
        edit(&mut end);
        let i = inspect_whole(&head, &end);
        assert!(matches!(outcome(&i, "footer"), Outcome::Failed(m) if m.contains(why)), "{i:?}");
    };
    broken(|e| e[512] = b'X', "signature");
    broken(|e| e[516] = 3, "versions");
    broken(|e| e[512 + 36] = 9, "descriptor");
    broken(|e| e[512 + 56..512 + 64].copy_from_slice(&u64::MAX.to_le_bytes()), "another footer");
    broken(|e| e[12] = 2, "footer marker");
    broken(|e| e[1100] = 1, "end-of-stream");
    broken(|e| e[1024] = 1, "end-of-stream");
    assert!(!inspect_whole(&head, &good[..1000]).is_safe());
}

#[test]
fn a_vmdk_descriptor_file_is_a_vmdk_and_refused() {
    let flat = "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
        createType=\"monolithicFlat\"\n\nRW 2048 FLAT \"disk-flat.vmdk\" 0\n";
    let i = inspect(flat.as_bytes());
    assert_eq!(i.format, Format::Vmdk);
    assert!(
        matches!(outcome(&i, "descriptor"), Outcome::Failed(m) if m.contains("monolithicflat"))
    );
    // Text without a create type is raw.
    assert_eq!(
        inspect(b"just some text, more than sixty-four bytes of it, honestly it is").format,
        Format::Raw
    );
}

#[test]
fn a_fixed_vhd_is_noted_as_a_trailer_glance_does_not_see() {
    let mut disk = vec![0u8; 8192];
    disk[8192 - 512..8192 - 504].copy_from_slice(b"conectix");
    let i = inspect_whole(&disk, &disk[disk.len() - END_LEN..]);
    assert_eq!((i.format, i.trailer), (Format::Raw, Some(Format::Vhd)));
    assert_eq!(inspect(&disk).trailer, None);
}

#[test]
fn luks_version_1_only() {
    let mut v1 = vec![0u8; 1024];
    v1[..6].copy_from_slice(b"LUKS\xba\xbe");
    v1[6..8].copy_from_slice(&1u16.to_be_bytes());
    assert!(inspect(&v1).is_safe());
    v1[6..8].copy_from_slice(&2u16.to_be_bytes());
    assert!(matches!(outcome(&inspect(&v1), "version"), Outcome::Failed(_)));
    assert!(!inspect(&v1[..100]).is_safe());
}

#[path = "tests_noise.rs"]
mod noise;
