//! Disk format inspection against the real thing. A corpus made by qemu-img, xorriso and
//! sfdisk (installed by `cargo xtask cloud up`), plus hand-corrupted headers; for every file
//! three verdicts must agree: our inspector's (with [`glance_verdict`]), oslo.utils'
//! inspector's (run from the cloud's venv), and the local Glance's after a real upload with
//! the declared format (accepted, or 415 with Glance's reason). The agreement table is printed. Then `create_image` must refuse, with
//! nothing created, whatever Glance would refuse.

use std::path::{Path, PathBuf};
use std::process::Command;

use openstack_image::diskformat::Inspection;
use openstack_image::{
    ContainerFormat, DiskFormat, Error, ImageStatus, ImportMethod, WaitOptions, glance_verdict,
    inspect_file,
};
use openstack_tests::{ADMIN, image, state_dir, unique};

/// One file of the corpus and the format it is uploaded as.
struct Case {
    name: &'static str,
    file: PathBuf,
    declared: DiskFormat,
}

fn tool(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

/// Runs a tool; a missing one fails loudly, naming what installs it.
fn run(program: &str, args: &[&str], dir: &Path) {
    let out =
        Command::new(program).args(args).current_dir(dir).output().unwrap_or_else(|e| {
            panic!("{program} {args:?}: {e} (cargo xtask cloud up installs it)")
        });
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn qemu_img(dir: &Path, args: &[&str]) {
    run(&tool("OSRS_QEMU_IMG", "/usr/bin/qemu-img"), args, dir);
}

/// Rewrites bytes of a copy of `from` as `to`.
fn corrupt(dir: &Path, from: &str, to: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(dir.join(from)).unwrap();
    edit(&mut bytes);
    std::fs::write(dir.join(to), bytes).unwrap();
    dir.join(to)
}

/// A raw disk with a partition table written by sfdisk (`label` gpt or dos).
fn partitioned(dir: &Path, name: &str, label: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![0u8; 8 << 20]).unwrap();
    let mut child = Command::new(tool("OSRS_SFDISK", "/usr/sbin/sfdisk"))
        .args(["--quiet", name])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sfdisk (cargo xtask cloud up installs fdisk)");
    use std::io::Write;
    let script = format!("label: {label}\n,,L\n");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "sfdisk {label}");
    path
}

fn corpus(dir: &Path) -> Vec<Case> {
    let raw = openstack_tests::data(4 << 20, 41);
    std::fs::write(dir.join("raw.img"), &raw).unwrap();
    let q = |args: &[&str]| qemu_img(dir, args);
    q(&["create", "-q", "-f", "qcow2", "plain.qcow2", "64M"]);
    q(&["create", "-q", "-f", "qcow2", "-o", "compat=0.10", "v2.qcow2", "64M"]);
    q(&["convert", "-c", "-O", "qcow2", "raw.img", "compressed.qcow2"]);
    q(&["create", "-q", "-f", "qcow2", "-b", "plain.qcow2", "-F", "qcow2", "backing.qcow2"]);
    q(&["create", "-q", "-f", "qcow2", "-o", "data_file=external.raw", "datafile.qcow2", "16M"]);
    q(&["create", "-q", "-f", "vmdk", "-o", "subformat=monolithicSparse", "sparse.vmdk", "64M"]);
    q(&["convert", "-O", "vmdk", "-o", "subformat=streamOptimized", "raw.img", "stream.vmdk"]);
    q(&["create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", "flat.vmdk", "16M"]);
    q(&["create", "-q", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "split.vmdk", "16M"]);
    q(&["create", "-q", "-f", "vpc", "dynamic.vhd", "16M"]);
    q(&["create", "-q", "-f", "vpc", "-o", "subformat=fixed", "fixed.vhd", "16M"]);
    q(&["create", "-q", "-f", "vhdx", "disk.vhdx", "64M"]);
    q(&["create", "-q", "-f", "vdi", "disk.vdi", "16M"]);
    q(&["create", "-q", "-f", "qed", "disk.qed", "16M"]);
    q(&[
        "create",
        "-q",
        "-f",
        "luks",
        "--object",
        "secret,id=s0,data=not-a-real-secret",
        "-o",
        "key-secret=s0,iter-time=10",
        "disk.luks",
        "4M",
    ]);
    std::fs::create_dir_all(dir.join("iso-root")).unwrap();
    std::fs::write(dir.join("iso-root/hello.txt"), b"hello\n").unwrap();
    run(
        &tool("OSRS_XORRISO", "/usr/bin/xorriso"),
        &["-as", "mkisofs", "-quiet", "-o", "disk.iso", "iso-root"],
        dir,
    );
    let gpt = partitioned(dir, "gpt.img", "gpt");
    let mbr = partitioned(dir, "mbr.img", "dos");
    std::fs::write(
        dir.join("host-file.vmdk"),
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
         createType=\"monolithicFlat\"\n\nRW 2048 FLAT \"/etc/hostname\" 0\n\n\
         ddb.virtualHWVersion = \"4\"\n",
    )
    .unwrap();

    // Hand-corrupted headers.
    let feature = corrupt(dir, "plain.qcow2", "feature.qcow2", |b| b[0x4f] |= 1 << 5);
    let v4 = corrupt(dir, "plain.qcow2", "v4.qcow2", |b| b[7] = 4);
    let sparse_host = corrupt(dir, "sparse.vmdk", "sparse-host.vmdk", |b| {
        let at = find(b, b"\"sparse.vmdk\"");
        b[at..at + 13].copy_from_slice(b"\"/e/sparse.v\"");
    });
    // qemu-img writes the grain directory's offset in a streamOptimized header; VMware's
    // tools put it in a footer at the end (gdOffset = all ones): made so by hand, then
    // with a broken end-of-stream marker.
    let footer = corrupt(dir, "stream.vmdk", "footer.vmdk", |b| {
        let header = b[..512].to_vec();
        b[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut marker = vec![0u8; 512];
        marker[12..16].copy_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&marker);
        b.extend_from_slice(&header);
        b.extend_from_slice(&[0u8; 512]);
    });
    let eos = corrupt(dir, "footer.vmdk", "eos.vmdk", |b| {
        let n = b.len();
        b[n - 512 + 12] = 1;
    });
    let elsewhere = corrupt(dir, "sparse.vmdk", "elsewhere.vmdk", |b| b[28] = 2);
    let region = corrupt(dir, "disk.vhdx", "region.vhdx", |b| b[192 * 1024] = b'x');
    let extra = corrupt(dir, "gpt.img", "gpt-extra.img", |b| {
        let e = 446 + 16;
        b[e + 4] = 0x83;
        b[e + 8..e + 12].copy_from_slice(&2048u32.to_le_bytes());
    });
    let boot = corrupt(dir, "mbr.img", "mbr-boot.img", |b| b[446] = 0x7f);

    let at = |f: &str| dir.join(f);
    let case = |name, file, declared| Case { name, file, declared };
    use DiskFormat::{Iso, Qcow2, Raw, Vdi, Vhd, Vhdx, Vmdk};
    vec![
        case("raw", at("raw.img"), Raw),
        case("raw declared qcow2", at("raw.img"), Qcow2),
        case("qcow2 v3", at("plain.qcow2"), Qcow2),
        case("qcow2 v2", at("v2.qcow2"), Qcow2),
        case("qcow2 compressed", at("compressed.qcow2"), Qcow2),
        case("qcow2 with a backing file", at("backing.qcow2"), Qcow2),
        case("qcow2 with a data file", at("datafile.qcow2"), Qcow2),
        case("qcow2 declared raw", at("plain.qcow2"), Raw),
        case("qcow2 declared vmdk", at("plain.qcow2"), Vmdk),
        case("qcow2 backing file declared raw", at("backing.qcow2"), Raw),
        case("qcow2 unknown feature bit 5", feature, Qcow2),
        case("qcow2 version 4", v4, Qcow2),
        case("vmdk monolithicSparse", at("sparse.vmdk"), Vmdk),
        case("vmdk streamOptimized", at("stream.vmdk"), Vmdk),
        case("vmdk monolithicFlat descriptor", at("flat.vmdk"), Vmdk),
        case("vmdk twoGbMaxExtentSparse descriptor", at("split.vmdk"), Vmdk),
        case("vmdk descriptor naming a host file", at("host-file.vmdk"), Vmdk),
        case("vmdk sparse, extent with a path", sparse_host, Vmdk),
        case("vmdk streamOptimized, footer at the end", footer, Vmdk),
        case("vmdk streamOptimized, bad end-of-stream marker", eos, Vmdk),
        case("vmdk with its descriptor elsewhere, declared raw", elsewhere, Raw),
        case("vhd dynamic", at("dynamic.vhd"), Vhd),
        case("vhd fixed", at("fixed.vhd"), Vhd),
        case("vhd fixed declared raw", at("fixed.vhd"), Raw),
        case("vhdx", at("disk.vhdx"), Vhdx),
        case("vhdx without its region table", region, Vhdx),
        case("vdi", at("disk.vdi"), Vdi),
        case("qed declared raw", at("disk.qed"), Raw),
        case("luks declared raw", at("disk.luks"), Raw),
        case("iso", at("disk.iso"), Iso),
        case("gpt disk declared raw", gpt, Raw),
        case("mbr disk declared raw", mbr, Raw),
        case("gpt, extra MBR partition", extra, Raw),
        case("mbr, invalid boot flag", boot, Raw),
    ]
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).expect("needle in the corpus file")
}

/// oslo.utils' verdict on each file: (format, virtual size, failed checks).
fn oslo(files: &[&Path]) -> Vec<(Option<String>, u64, Vec<String>)> {
    let python = state_dir().join("venv/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("diskformat/oslo_verdict.py");
    let out =
        Command::new(&python).arg(&script).args(files).output().unwrap_or_else(|e| {
            panic!("{}: {e} (cargo xtask cloud up builds it)", python.display())
        });
    assert!(out.status.success(), "oslo: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let failures = v["failures"].as_array().unwrap();
            (
                v["format"].as_str().map(String::from),
                v["virtual_size"].as_u64().unwrap_or(0),
                failures.iter().map(|f| f.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect()
}

fn failed(found: &Inspection) -> Vec<String> {
    let mut names: Vec<String> = found.failures().map(|c| c.name.to_string()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_oslo_and_glance_agree_on_every_file_of_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let cases = corpus(dir.path());
    let files: Vec<&Path> = cases.iter().map(|c| c.file.as_path()).collect();
    let oracle = oslo(&files);
    let img = image(ADMIN);
    let mut table = vec![
        "| file | declared | ours | oslo.utils | Glance | agree |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    let mut disagreements = Vec::new();
    for (case, (oslo_format, oslo_size, oslo_failed)) in cases.iter().zip(&oracle) {
        let found = inspect_file(&case.file).await.unwrap();
        let ours_failed = failed(&found);
        let predicted = glance_verdict(&case.declared, &found);
        // Glance's own verdict: a real upload with the declared format, not inspected here.
        let name = unique("corpus");
        let uploaded = img
            .create_image(&name)
            .filename(&case.file)
            .disk_format(case.declared.clone())
            .inspect(false)
            .digests(&[])
            .allow_duplicates(true)
            .await;
        let glance_accepts = match uploaded {
            Ok(created) => {
                img.delete_image(&created.image).await.unwrap();
                true
            }
            // Glance answers InvalidImageData on PUT /file with 415.
            Err(e) if e.status().map(|s| s.as_u16()) == Some(415) => false,
            Err(e) => panic!("{}: {}", case.name, e.report()),
        };
        // oslo's format and failed checks, and ours (the same names Glance uses); where
        // oslo could not decide among formats, both must refuse.
        let same_format = match oslo_format {
            Some(f) => f == found.format.inspector_name(),
            None => ours_failed.contains(&"single_format".to_string()),
        };
        let same_size = match found.virtual_size {
            Some(v) => v == *oslo_size,
            None => true,
        };
        let agree = same_format
            && same_size
            && &ours_failed == oslo_failed
            && predicted.is_ok() == glance_accepts;
        let verdict = |ok: bool| if ok { "accepted" } else { "refused" };
        let checks = |f: &[String]| {
            if f.is_empty() { String::new() } else { format!(" ({})", f.join(", ")) }
        };
        table.push(format!(
            "| {} | {} | {}{}, {} | {}{} | {} | {} |",
            case.name,
            case.declared.as_str(),
            found.format,
            checks(&ours_failed),
            verdict(predicted.is_ok()),
            oslo_format.as_deref().unwrap_or("several"),
            checks(oslo_failed),
            verdict(glance_accepts),
            if agree { "yes" } else { "**NO**" },
        ));
        if !agree {
            disagreements.push(format!(
                "{}: ours {:?} size {:?} failed {ours_failed:?} predicted {predicted:?}; oslo \
                 {oslo_format:?} size {oslo_size} failed {oslo_failed:?}; glance accepts: \
                 {glance_accepts}",
                case.name, found.format, found.virtual_size
            ));
        }
        // What Glance refuses, create_image refuses before anything exists.
        if predicted.is_err() {
            let err = img
                .create_image(&name)
                .filename(&case.file)
                .disk_format(case.declared.clone())
                .await
                .unwrap_err();
            assert!(
                matches!(err.kind(), Error::ImageFormat { .. }),
                "{}: {}",
                case.name,
                err.report()
            );
            assert!(
                img.find_image_opt(&name).await.unwrap().is_none(),
                "{}: a record was left",
                case.name
            );
        }
    }
    println!("{}", table.join("\n"));
    if let Ok(path) = std::env::var("OSRS_DISKFORMAT_REPORT") {
        std::fs::write(path, table.join("\n") + "\n").unwrap();
    }
    assert!(disagreements.is_empty(), "disagreements:\n{}", disagreements.join("\n"));
}

/// The import path: Glance inspects staged data only when it imports it (glance-direct), and
/// a refusal is then a failed task ("Internal Error") with the image left `importing`. For
/// every file of the corpus, `stage_image` into a bare image of the declared format must
/// refuse before a byte is staged exactly what Glance's import refuses (and what
/// `create_image` refuses by policy: a qcow2, VMDK... labelled raw), and leave the image
/// `queued`; what it lets through, and what it refused once staged with inspection off, is
/// imported for Glance's verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_image_refuses_what_the_glance_direct_import_would_fail() {
    let dir = tempfile::tempdir().unwrap();
    let cases = corpus(dir.path());
    let img = image(ADMIN);
    let wait = WaitOptions::default().timeout(std::time::Duration::from_secs(120));
    let mut table = vec![
        "| file | declared | stage_image | Glance's import | model | agree |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    let mut disagreements = Vec::new();
    for case in &cases {
        let found = inspect_file(&case.file).await.unwrap();
        let predicted = glance_verdict(&case.declared, &found).is_ok();
        let rec = img
            .create_image(unique("staged"))
            .disk_format(case.declared.clone())
            .container_format(ContainerFormat::Bare)
            .await
            .unwrap();
        let staged = match img.stage_image(&rec, case.file.as_path()).await {
            Ok(_) => true,
            Err(e) if matches!(e.kind(), Error::ImageFormat { .. }) => {
                let now = img.get_image(&rec).await.unwrap();
                assert_eq!(now.status, ImageStatus::Queued, "{}: something was staged", case.name);
                img.stage_image(&rec, case.file.as_path()).inspect(false).await.unwrap();
                false
            }
            Err(e) => panic!("{}: {}", case.name, e.report()),
        };
        let imported =
            match img.import_image(&rec, ImportMethod::GlanceDirect).wait(wait.clone()).await {
                Ok(done) => done.image.status == ImageStatus::Active,
                Err(e) if matches!(e.kind(), Error::Failed { .. }) => false,
                Err(e) => panic!("{}: {}", case.name, e.report()),
            };
        img.delete_image(&rec).await.unwrap();
        // Refused by policy, not by Glance: content of a disk format labelled raw.
        let policy =
            predicted && case.declared == DiskFormat::Raw && found.format.as_str() != "raw";
        let agree = predicted == imported && (staged == imported || (policy && !staged));
        let verdict = |ok: bool| if ok { "accepted" } else { "refused" };
        table.push(format!(
            "| {} | {} | {}{} | {} | {} | {} |",
            case.name,
            case.declared.as_str(),
            verdict(staged),
            if policy && !staged { " (policy)" } else { "" },
            verdict(imported),
            verdict(predicted),
            if agree { "yes" } else { "**NO**" },
        ));
        if !agree {
            disagreements.push(format!(
                "{}: stage_image {staged}, Glance's import {imported}, glance_verdict {predicted}",
                case.name
            ));
        }
    }
    println!("{}", table.join("\n"));
    assert!(disagreements.is_empty(), "disagreements:\n{}", disagreements.join("\n"));
}

/// `bytes` as a stream of 64 KiB chunks.
fn chunked(bytes: Vec<u8>) -> openstack_image::ImageData {
    let len = bytes.len() as u64;
    let bytes = bytes::Bytes::from(bytes);
    let chunks: Vec<std::io::Result<bytes::Bytes>> = (0..bytes.len())
        .step_by(64 << 10)
        .map(|i| Ok(bytes.slice(i..(i + (64 << 10)).min(bytes.len()))))
        .collect();
    openstack_image::ImageData::sized_stream(futures_util::stream::iter(chunks), len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_streams_are_inspected_by_their_start_and_sent_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    qemu_img(d, &["create", "-q", "-f", "qcow2", "plain.qcow2", "64M"]);
    qemu_img(
        d,
        &["create", "-q", "-f", "qcow2", "-b", "plain.qcow2", "-F", "qcow2", "backing.qcow2"],
    );
    // A qcow2 with data in it, bigger than the 4 MiB inspected, whose split falls in a chunk.
    std::fs::write(d.join("raw.img"), openstack_tests::data((6 << 20) + 12_345, 42)).unwrap();
    qemu_img(d, &["convert", "-O", "qcow2", "raw.img", "full.qcow2"]);
    let full = std::fs::read(d.join("full.qcow2")).unwrap();
    assert!(full.len() > 4 << 20, "{}", full.len());
    let img = image(ADMIN);

    // A stream: detected, and every byte sent (the SDK compares Glance's checksums with what
    // it hashed, and the size says nothing was lost or repeated).
    let name = unique("stream-qcow2");
    let made = img.create_image(&name).data(chunked(full.clone())).await.unwrap();
    assert_eq!(made.disk_format, Some(DiskFormat::Qcow2));
    assert_eq!(made.size, Some(full.len() as u64));
    assert_eq!(
        made.checksum.as_deref(),
        Some(openstack_transfer::digest_hex(openstack_transfer::Algorithm::Md5, &full).as_str())
    );
    img.delete_image(&made.image).await.unwrap();

    // A reader of unknown length: the same.
    let name = unique("reader-qcow2");
    let reader = tokio::fs::File::open(d.join("full.qcow2")).await.unwrap();
    let made =
        img.create_image(&name).data(openstack_image::ImageData::reader(reader)).await.unwrap();
    assert_eq!(
        (made.disk_format.clone(), made.size),
        (Some(DiskFormat::Qcow2), Some(full.len() as u64))
    );
    img.delete_image(&made.image).await.unwrap();

    // An unsafe stream: refused from its start, nothing created.
    let name = unique("stream-backing");
    let err = img
        .create_image(&name)
        .data(chunked(std::fs::read(d.join("backing.qcow2")).unwrap()))
        .await
        .unwrap_err();
    let Error::ImageFormat { inspection, declared, .. } = err.kind() else {
        panic!("{}", err.report())
    };
    assert_eq!((declared, inspection.format.as_str()), (&None, "qcow2"));
    assert!(img.find_image_opt(&name).await.unwrap().is_none());

    // What a stream's start cannot tell: a streamOptimized VMDK's footer is at its end. The
    // inspection says the footer was not checked; Glance checks it after the upload and
    // refuses the image (415), which the SDK then deletes.
    let mut vmdk = {
        qemu_img(
            d,
            &["convert", "-O", "vmdk", "-o", "subformat=streamOptimized", "raw.img", "s.vmdk"],
        );
        std::fs::read(d.join("s.vmdk")).unwrap()
    };
    let header = vmdk[..512].to_vec();
    vmdk[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
    vmdk.extend_from_slice(&[0u8; 12]);
    vmdk.extend_from_slice(&3u32.to_le_bytes());
    vmdk.extend_from_slice(&[0u8; 496]);
    vmdk.extend_from_slice(&header);
    vmdk.extend_from_slice(&[1u8; 512]); // a broken end-of-stream marker
    let head = &vmdk[..vmdk.len().min(openstack_image::diskformat::HEAD_LEN)];
    let from_start = openstack_image::diskformat::inspect(head);
    let footer = from_start.checks.iter().find(|c| c.name == "footer").expect("a footer check");
    assert!(
        matches!(footer.outcome, openstack_image::diskformat::Outcome::NotChecked(_)),
        "{footer:?}"
    );
    let name = unique("stream-footer");
    let err = img.create_image(&name).data(chunked(vmdk)).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(415), "{}", err.report());
    assert!(err.cleanup().is_some(), "{err:?}");
    assert!(img.find_image_opt(&name).await.unwrap().is_none());
}
