//! Inputs no parser should choke on: random bytes, every truncation of valid headers, and
//! valid headers with random bytes written over them.

use super::*;

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
    // Every truncation of valid headers: never a panic, never judged safe as its format.
    let q = qcow2(3, 0, 0);
    for len in 4..q.len() {
        let i = inspect(&q[..len]);
        assert!(i.format == Format::Raw && i.malformed.len() == 1, "{len}: {i:?}");
    }
    let v = vmdk(SPARSE, 21);
    for len in 4..v.len() {
        let i = inspect(&v[..len]);
        assert!(i.format == Format::Vmdk && !i.is_safe(), "{len} bytes: {i:?}");
    }
    let x = vhdx(1 << 20);
    for len in (0..x.len()).step_by(4093) {
        let _ = inspect_whole(&x[..len], &x[len.saturating_sub(END_LEN)..len]);
    }
    // A header claiming a huge descriptor: Glance reads at most 1 MiB of it, and an image
    // that ends before then cannot be judged.
    let mut huge = vmdk(SPARSE, 21);
    huge[36..44].copy_from_slice(&u64::MAX.to_le_bytes());
    let i = inspect(&huge);
    assert!(matches!(outcome(&i, "descriptor"), Outcome::Failed(m) if m.contains("ends inside")));
    huge.resize(2 << 20, 0);
    assert!(inspect(&huge).is_safe());
}

#[test]
fn mutated_valid_headers_never_panic() {
    // Each valid header of the tests, with random bytes overwritten at random places (where
    // the parsers read offsets and counts), and cut at random lengths.
    let stream = vmdk(&SPARSE.replace("monolithicSparse", "streamOptimized"), u64::MAX);
    let end = stream_end(&stream);
    let mut iso = vec![0u8; 40 * 1024];
    iso[32 * 1024] = 1;
    iso[32 * 1024 + 1..32 * 1024 + 6].copy_from_slice(b"CD001");
    let valid: Vec<Vec<u8>> = vec![
        qcow2(3, 0, 0),
        vmdk(SPARSE, 21),
        stream.clone(),
        vhdx(1 << 20),
        mbr(&[(0, [0, 2, 0], 0xee, 1)]),
        iso,
        with_magic(b"LUKS\xba\xbe"),
        with_magic(b"conectix"),
    ];
    for (k, header) in valid.iter().enumerate() {
        for seed in 0..300u64 {
            let mut b = header.clone();
            let r = noise(64, seed * 31 + k as u64);
            for pair in r.chunks(8).take(4) {
                let at = u64::from_le_bytes(pair.try_into().unwrap()) as usize % b.len();
                let len = (pair[0] as usize % 8 + 1).min(b.len() - at);
                b[at..at + len].copy_from_slice(&pair[..len]);
            }
            let cut = b.len() - (r[0] as usize * 97) % b.len();
            let _ = inspect(&b[..cut]);
            let _ = inspect_whole(&b[..cut], &end);
            let mut e = end.clone();
            e[r[1] as usize * 6 % END_LEN] ^= r[2];
            let _ = inspect_whole(&stream, &e);
        }
    }
}

/// A VHDX whose metadata region is the second region entry, the virtual size the second
/// metadata entry, and `count` region entries in all.
fn vhdx_second_entries(count: u32) -> Vec<u8> {
    let meta = 1usize << 20;
    let mut b = vhdx(meta);
    let t = 192 * 1024;
    b[t + 8..t + 12].copy_from_slice(&count.to_le_bytes());
    let (first, second) = (t + 16, t + 16 + 32 * 40);
    b.copy_within(first..first + 32, second);
    b[first..first + 32].fill(0xab);
    b[meta + 10..meta + 12].copy_from_slice(&2u16.to_le_bytes());
    b.copy_within(meta + 32..meta + 64, meta + 64);
    b[meta + 32..meta + 64].fill(0xcd);
    b
}

#[test]
fn vhdx_entries_are_found_wherever_they_are_in_their_tables() {
    let i = inspect(&vhdx_second_entries(41));
    assert_eq!((i.format, i.virtual_size), (Format::Vhdx, Some(5 << 30)), "{i:?}");
    assert!(i.malformed.is_empty());
    assert!(inspect(&vhdx_second_entries(2047)).malformed.is_empty());
    assert!(inspect(&vhdx_second_entries(2048)).malformed[0].reason.contains("2048"));
    let entries = |n: u16| {
        let mut b = vhdx(1 << 20);
        b[(1 << 20) + 10..(1 << 20) + 12].copy_from_slice(&n.to_le_bytes());
        inspect(&b)
    };
    assert!(entries(2047).malformed.is_empty());
    assert!(entries(2048).malformed[0].reason.contains("2048 metadata entries"));
    // The region table must be all there: 256 KiB is enough, one byte less is cut short.
    let good = vhdx(1 << 20);
    let cut =
        |len: usize| matches!(outcome(&inspect(&good[..len]), "complete"), Outcome::Failed(_));
    assert!(cut(256 * 1024 - 1));
    // 256 KiB holds the table, whose metadata lies past the end: cut short there, not here.
    let i = inspect(&good[..256 * 1024]);
    assert!(
        matches!(outcome(&i, "complete"), Outcome::Failed(m) if m.contains(&(1 << 20).to_string())),
        "{i:?}"
    );
}

#[test]
fn header_lengths_are_exactly_glances() {
    let at = |len: usize, magic: &[u8], offset: usize| {
        let mut b = vec![0u8; len.max(offset + magic.len())];
        b[offset..offset + magic.len()].copy_from_slice(magic);
        b.truncate(len);
        inspect(&b)
    };
    assert_eq!(at(512, &[0x7f, 0x10, 0xda, 0xbe], 64).format, Format::Vdi);
    assert_eq!(at(511, &[0x7f, 0x10, 0xda, 0xbe], 64).format, Format::Raw);
    assert_eq!(at(512, b"QED\0", 0).format, Format::Qed);
    assert_eq!(at(511, b"QED\0", 0).format, Format::Raw);
    let mut luks = vec![0u8; 592];
    luks[..6].copy_from_slice(b"LUKS\xba\xbe");
    luks[7] = 1;
    assert!(inspect(&luks).is_safe());
    assert!(!inspect(&luks[..591]).is_safe());
    assert!(at(512, b"conectix", 0).is_safe());
    assert!(!at(511, b"conectix", 0).is_safe());
}

#[test]
fn small_details_of_the_checks() {
    // A FAT boot sector needs both marks; one of them alone is still a partition table.
    let mut half_fat = mbr(&[(0, [0, 2, 0], 0xee, 1)]);
    half_fat[0x10] = 2;
    assert_eq!(inspect(&half_fat).format, Format::Gpt);
    // A descriptor line that is neither a comment, a field, nor an extent fails.
    let junk = SPARSE.replace("# Extent description", "junk");
    assert!(
        matches!(outcome(&inspect(&vmdk(&junk, 21)), "descriptor"), Outcome::Failed(m) if m.contains("junk"))
    );
    // A create type of 64 characters or more is not read.
    let long = SPARSE.replace("monolithicSparse", &"x".repeat(64));
    assert!(
        matches!(outcome(&inspect(&vmdk(&long, 21)), "descriptor"), Outcome::Failed(m) if m.contains("formatnotfound"))
    );
    // Text with a control byte in its first sector is not a descriptor file.
    let mut text =
        b"# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 1 FLAT \"x\" 0\n".to_vec();
    text[3] = 1;
    assert_eq!(inspect(&text).format, Format::Raw);
    // Glance reads at most 1 MiB - 1 of a descriptor: a head that long is enough.
    let mut huge = vmdk(SPARSE, 21);
    huge[36..44].copy_from_slice(&u64::MAX.to_le_bytes());
    huge.resize(0x200 + (1 << 20) - 1, 0);
    assert!(inspect(&huge).is_safe(), "{:?}", inspect(&huge));
    // Only raw content gets a trailer, and only with a footer at its end.
    let mut q = qcow2(3, 0, 0);
    q.resize(4096, 0);
    let n = q.len();
    q[n - 512..n - 504].copy_from_slice(b"conectix");
    assert_eq!(inspect_whole(&q, &q[n - END_LEN..]).trailer, None);
    let raw = vec![9u8; 4096];
    assert_eq!(inspect_whole(&raw, &raw[4096 - END_LEN..]).trailer, None);
}
