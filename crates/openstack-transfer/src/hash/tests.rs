use super::*;

#[test]
fn known_digests() {
    assert_eq!(digest_hex(Algorithm::Md5, b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        digest_hex(Algorithm::Sha256, b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(digest_hex(Algorithm::Sha512, b"abc").starts_with("ddaf35a193617aba"));
    assert_eq!("SHA-512".parse::<Algorithm>().unwrap(), Algorithm::Sha512);
    assert!("crc32".parse::<Algorithm>().is_err());
}

/// 1 MiB where every position differs from its neighbours (xorshift), so a chunk
/// hashed twice, dropped or out of order changes every digest.
fn varied() -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn run(mode: HashMode) -> Digests {
    let (mut feeder, results) =
        pipeline(&[Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512], mode);
    let data = Bytes::from(varied());
    // Uneven chunk sizes, so chunk boundaries fall everywhere.
    for chunk in data.chunks(4096 * 7 + 13) {
        feeder.ready().await.unwrap();
        feeder.update(&data.slice_ref(chunk));
    }
    feeder.finish();
    results.wait().await.unwrap()
}

#[test]
fn lanes_are_balanced_and_never_more_than_asked() {
    use Algorithm::*;
    let all = [Md5, Sha256, Sha512];
    let two = plan_lanes(&all, 2);
    assert_eq!(two.len(), 2);
    // sha512 (the dearest) alone; the other two share a lane.
    assert!(two.contains(&vec![Sha512]), "{two:?}");
    let mut flat: Vec<_> = two.concat();
    flat.sort();
    assert_eq!(flat, all);
    let one = plan_lanes(&all, 1);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].len(), 3);
    assert_eq!(plan_lanes(&all, 8).len(), 3);
    assert_eq!(plan_lanes(&all, 0).len(), 1);
    assert!(plan_lanes(&[], 4).is_empty());
}

#[tokio::test]
async fn threads_lanes_and_inline_agree_with_one_shot_hashing() {
    let data = varied();
    let a = run(HashMode::Threads).await;
    let b = run(HashMode::Inline).await;
    assert_eq!(a, b);
    for lanes in [1, 2, 3] {
        assert_eq!(run(HashMode::Lanes(lanes)).await, a, "{lanes} lanes");
    }
    assert_eq!(a.bytes, 1 << 20);
    for alg in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512] {
        assert_eq!(a.get(alg).unwrap(), digest_hex(alg, &data));
    }
    // The data really distinguishes order: two halves swapped hash differently.
    let swapped = [&data[1 << 19..], &data[..1 << 19]].concat();
    assert_ne!(digest_hex(Algorithm::Md5, &swapped), digest_hex(Algorithm::Md5, &data));
}

#[tokio::test]
async fn an_algorithm_asked_twice_is_reported_twice() {
    let (mut feeder, results) = pipeline(&[Algorithm::Md5, Algorithm::Md5], HashMode::Lanes(2));
    feeder.ready().await.unwrap();
    feeder.update(&Bytes::from_static(b"abc"));
    feeder.finish();
    let d = results.wait().await.unwrap();
    assert_eq!(d.values.len(), 2);
    assert!(d.values.iter().all(|(_, h)| h == "900150983cd24fb0d6963f7d28e17f72"));
}

#[tokio::test]
async fn dropped_feeder_yields_no_digest() {
    let (mut feeder, results) = pipeline(&[Algorithm::Sha256], HashMode::Threads);
    feeder.ready().await.unwrap();
    feeder.update(&Bytes::from_static(b"partial"));
    drop(feeder);
    assert!(matches!(results.wait().await, Err(TransferError::Incomplete { .. })));
}

#[test]
fn algorithm_names_read_back_as_glance_writes_them() {
    for (a, name) in
        [(Algorithm::Md5, "md5"), (Algorithm::Sha256, "sha256"), (Algorithm::Sha512, "sha512")]
    {
        assert_eq!(a.as_str(), name);
        assert_eq!(a.to_string(), name);
        assert_eq!(name.parse::<Algorithm>().unwrap(), a);
    }
    assert_eq!("SHA-512".parse::<Algorithm>().unwrap(), Algorithm::Sha512);
    let err = "sha1".parse::<Algorithm>().unwrap_err();
    assert!(err.to_string().contains("\"sha1\""), "{err}");
}
