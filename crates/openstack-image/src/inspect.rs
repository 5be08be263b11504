//! Knowing what is uploaded: the data's disk format and Glance's safety checks, decided
//! before the image record exists and before a byte is sent.
//!
//! Glance (with `[image_format] require_image_format_match`, its default) inspects an
//! upload only *after* receiving all of it, and answers 400 when the content is not the
//! declared `disk_format` or fails a safety check. [`glance_verdict`] says what it will
//! decide; `create_image` refuses what it would refuse, and one thing more that Glance lets
//! through: a qcow2, VMDK, VHD(X), VDI or ISO labelled `raw`, which Glance accepts with a
//! warning and Nova then boots as a raw disk.

use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use openstack_auth::{Error, Result};
use openstack_diskformat::{END_LEN, Format, HEAD_LEN, Inspection, inspect, inspect_whole};
use tokio::io::AsyncReadExt;

use crate::types::DiskFormat;
use crate::upload::{ImageData, open_file_span};

/// The `disk_format`s Glance's inspector can recognise: content it sees as raw is accepted
/// for any other (`ami`, `ari`, `aki`, `ploop`), which it cannot inspect.
const INSPECTABLE: [&str; 10] =
    ["raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "gpt", "luks"];

/// How a reader's or stream's own failure names it (as the upload does).
const SOURCE: &str = "the upload's data source";

/// Formats that are not raw disks, though Glance accepts them labelled `raw`.
const NOT_RAW: [Format; 6] =
    [Format::Qcow2, Format::Vmdk, Format::Vhd, Format::Vhdx, Format::Vdi, Format::Iso];

/// What Glance decides after an upload of content like `found` with `disk_format =
/// declared` and `container_format = bare` (other container formats are not inspected):
/// `Ok` if it accepts the image, otherwise why it answers 400. As Glance: the content must be
/// the declared format, or be raw content under a format Glance cannot inspect, or be labelled
/// `raw` (accepted with a warning); then every safety check of the detected format must pass
/// (an `mbr` failure is forgiven for `aki`/`ari`).
///
/// ```
/// use openstack_image::{DiskFormat, glance_verdict};
/// let mut qcow2 = vec![0u8; 512];
/// qcow2[..4].copy_from_slice(b"QFI\xfb");
/// qcow2[7] = 3; // version 3
/// let found = openstack_diskformat::inspect(&qcow2);
/// assert!(glance_verdict(&DiskFormat::Qcow2, &found).is_ok());
/// assert!(glance_verdict(&DiskFormat::Raw, &found).is_ok()); // with a warning, in Glance
/// assert!(glance_verdict(&DiskFormat::Vmdk, &found).is_err());
/// ```
///
/// # Errors
/// Why Glance refuses it, in one line.
pub fn glance_verdict(
    declared: &DiskFormat,
    found: &Inspection,
) -> std::result::Result<(), String> {
    let declared = declared.as_str();
    let detected = found.format.inspector_name();
    if let Some(c) = found.checks.iter().find(|c| c.name == "single_format") {
        if let openstack_diskformat::Outcome::Failed(why) = &c.outcome {
            return Err(why.clone());
        }
    }
    let matches = detected == declared
        || (detected == "raw" && !INSPECTABLE.contains(&declared))
        || declared == "raw";
    if !matches {
        return Err(mismatch(declared, found));
    }
    let forgiven = |name: &str| name == "mbr" && matches!(declared, "aki" | "ari");
    let failed: Vec<String> = found
        .failures()
        .filter(|c| !forgiven(c.name))
        .map(|c| match &c.outcome {
            openstack_diskformat::Outcome::Failed(why) => format!("{} ({why})", c.name),
            _ => c.name.to_string(),
        })
        .collect();
    match failed.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "the {} image fails Glance's safety check {}",
            found.format,
            failed.join(", ")
        )),
    }
}

/// Glance's mismatch, with what the inspection knows about why.
fn mismatch(declared: &str, found: &Inspection) -> String {
    let mut why =
        format!("disk_format {declared} does not match the content, which is {}", found.format);
    if found.trailer == Some(Format::Vhd) && declared == "vhd" {
        why.push_str(
            " with a fixed-VHD footer at its end: Glance inspects only the start and refuses it \
             as vhd (upload a fixed VHD as raw, or convert it to a dynamic VHD)",
        );
    } else if let Some(m) = found.malformed.iter().find(|m| m.format.as_str() == declared) {
        why.push_str(&format!(" (its {} header is malformed: {})", m.format, m.reason));
    }
    why
}

/// The `disk_format` to declare for content like `found` (what `create_image` uses when none
/// is given): `raw` for a raw disk, a partitioned disk or a LUKS volume, else the format
/// found.
pub fn detected_disk_format(found: &Inspection) -> DiskFormat {
    match found.format {
        // Partitioned disks and LUKS volumes are uploaded as raw.
        Format::Raw | Format::Gpt | Format::Mbr | Format::Luks => DiskFormat::Raw,
        other => DiskFormat::from(other.as_str()),
    }
}

/// Where inspected data is going, for the words of a refusal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// `create_image`: refused before the record exists.
    Create,
    /// `stage_image` into an existing image: refused before a byte is staged.
    Stage,
}

/// `create_image`'s decision: the `disk_format` to send (the declared one, or the detected
/// one), or the typed refusal. `source` names the data in messages.
pub(crate) fn judge(
    declared: Option<&DiskFormat>,
    found: Inspection,
    source: &str,
) -> Result<DiskFormat> {
    judge_for(declared, found, source, Bound::Create)
}

/// [`judge`], its refusal worded for where the data was going.
pub(crate) fn judge_for(
    declared: Option<&DiskFormat>,
    found: Inspection,
    source: &str,
    bound: Bound,
) -> Result<DiskFormat> {
    let (fails, after) = match bound {
        Bound::Create => ("Glance would refuse it after the upload", "nothing was created"),
        Bound::Stage => (
            "Glance's import of it would fail after the upload (its task says only \"Internal \
             Error\")",
            "nothing was staged: the image is as it was",
        ),
    };
    let refuse = |reason: String, found: Inspection| Error::ImageFormat {
        declared: declared.map(|d| d.as_str().to_string()),
        inspection: Box::new(found),
        reason: format!("{source}: {reason}; {after}"),
    };
    let chosen = declared.cloned().unwrap_or_else(|| detected_disk_format(&found));
    if let Err(why) = glance_verdict(&chosen, &found) {
        return Err(refuse(format!("{why}, and {fails}"), found));
    }
    if chosen == DiskFormat::Raw && NOT_RAW.contains(&found.format) {
        let detected = found.format;
        return Err(refuse(
            format!(
                "disk_format raw, but the content is {detected}: Glance would accept it with a \
                 warning and it would boot as a raw disk; declare disk_format {detected} (or \
                 turn inspection off to send it as raw anyway)"
            ),
            found,
        ));
    }
    if declared.is_none() && matches!(bound, Bound::Create) {
        tracing::info!(source, format = %chosen, "disk_format detected from the content");
    }
    Ok(chosen)
}

/// How messages name upload data.
pub(crate) fn describe(data: &ImageData) -> String {
    match data {
        ImageData::Path(p) => p.display().to_string(),
        ImageData::File(_) => "the open file".into(),
        ImageData::Bytes(_) => "the data".into(),
        ImageData::Reader { .. } => "the reader".into(),
        ImageData::Stream { .. } => "the stream".into(),
    }
}

/// Inspects upload data, returning the data to send (a reader or stream gives back the bytes
/// read, replayed in front of the rest) and what was found. Files and bytes are inspected
/// whole (their start and their end); a reader or stream by its first [`HEAD_LEN`] bytes, so
/// the checks at an image's end (a streamOptimized VMDK's footer) are not run, and said so.
pub(crate) async fn inspect_data(data: ImageData) -> Result<(ImageData, Inspection)> {
    match data {
        ImageData::Path(path) => {
            let found = read_file(&path).await?;
            Ok((ImageData::Path(path), found))
        }
        ImageData::File(file) => {
            let (offset, length) = open_file_span(&file)?;
            let f = file.clone();
            let found = tokio::task::spawn_blocking(move || sample_file(&f, offset, length))
                .await
                .map_err(|e| io_error("open file", io::Error::other(e)))?
                .map_err(|e| io_error("open file", e))?;
            Ok((ImageData::File(file), found))
        }
        ImageData::Bytes(b) => {
            let found =
                inspect_whole(&b[..b.len().min(HEAD_LEN)], &b[b.len().saturating_sub(END_LEN)..]);
            Ok((ImageData::Bytes(b), found))
        }
        ImageData::Reader { mut reader, length } => {
            let mut head = Vec::with_capacity(HEAD_LEN.min(length.unwrap_or(0) as usize));
            let mut eof = false;
            while head.len() < HEAD_LEN {
                let room = HEAD_LEN - head.len();
                let n = (&mut reader)
                    .take(room as u64)
                    .read_to_end(&mut head)
                    .await
                    .map_err(|e| io_error(SOURCE, e))?;
                if n == 0 {
                    eof = true;
                    break;
                }
            }
            let found = sample_head(&head, eof);
            let replay = std::io::Cursor::new(head).chain(reader);
            Ok((ImageData::Reader { reader: Box::pin(replay), length }, found))
        }
        ImageData::Stream { mut stream, length } => {
            let mut chunks: Vec<Bytes> = Vec::new();
            let mut have = 0;
            let mut eof = false;
            while have < HEAD_LEN {
                match stream.next().await {
                    Some(chunk) => {
                        let chunk = chunk.map_err(|e| io_error(SOURCE, e))?;
                        have += chunk.len();
                        chunks.push(chunk);
                    }
                    None => {
                        eof = true;
                        break;
                    }
                }
            }
            let head: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            let found =
                sample_head(&head[..head.len().min(HEAD_LEN)], eof && head.len() <= HEAD_LEN);
            let replay = futures_util::stream::iter(chunks.into_iter().map(Ok)).chain(stream);
            Ok((ImageData::Stream { stream: Box::pin(replay), length }, found))
        }
    }
}

/// Inspects what a reader or stream gave: the whole image if it ended, else its start.
fn sample_head(head: &[u8], whole: bool) -> Inspection {
    match whole {
        true => inspect_whole(head, &head[head.len().saturating_sub(END_LEN)..]),
        false => inspect(head),
    }
}

/// Inspects the image file at `path` (its first 4 MiB and last 1536 bytes) as
/// `create_image` does before an upload.
///
/// ```no_run
/// # async fn demo() -> openstack_auth::Result<()> {
/// let found = openstack_image::inspect_file("cirros.qcow2").await?;
/// println!("{} ({:?} bytes), safe: {}", found.format, found.virtual_size, found.is_safe());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::Io`] when the file cannot be read (or is not a regular file).
pub async fn inspect_file(path: impl AsRef<Path>) -> Result<Inspection> {
    read_file(path.as_ref()).await
}

async fn read_file(path: &Path) -> Result<Inspection> {
    let name = path.display().to_string();
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&owned)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        sample_file(&Arc::new(file), 0, meta.len())
    })
    .await
    .map_err(|e| io_error(&name, io::Error::other(e)))?
    .map_err(|e| io_error(&name, e))
}

/// Reads a file's first [`HEAD_LEN`] and last [`END_LEN`] bytes of the span `offset..offset +
/// length` by position (the cursor does not move) and inspects them.
fn sample_file(file: &std::fs::File, offset: u64, length: u64) -> io::Result<Inspection> {
    use openstack_transfer::read_exact_at;
    let head_len = length.min(HEAD_LEN as u64) as usize;
    let mut head = vec![0u8; head_len];
    read_exact_at(file, &mut head, offset)?;
    let end_len = length.min(END_LEN as u64) as usize;
    let mut end = vec![0u8; end_len];
    read_exact_at(file, &mut end, offset + length - end_len as u64)?;
    Ok(inspect_whole(&head, &end))
}

/// An I/O failure reading the data; an SDK error a stream carries inside its `io::Error`
/// (a download's checksum mismatch, when one image is copied into another) as itself.
fn io_error(path: &str, source: io::Error) -> Error {
    let path = path.to_string();
    if !source.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        return Error::Io { path, source };
    }
    let (kind, text) = (source.kind(), source.to_string());
    match source.into_inner().map(|inner| inner.downcast::<Error>()) {
        Some(Ok(e)) => *e,
        _ => Error::Io { path, source: io::Error::new(kind, text) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qcow2(backing: u64) -> Inspection {
        let mut h = vec![0u8; 512];
        h[..4].copy_from_slice(b"QFI\xfb");
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[8..16].copy_from_slice(&backing.to_be_bytes());
        inspect(&h)
    }

    fn reason(e: Error) -> String {
        match e {
            Error::ImageFormat { reason, .. } => reason,
            other => panic!("not ImageFormat: {other:?}"),
        }
    }

    #[test]
    fn unset_is_detected_and_a_contradiction_or_an_unsafe_image_is_refused() {
        assert_eq!(judge(None, qcow2(0), "f").unwrap(), DiskFormat::Qcow2);
        assert_eq!(judge(Some(&DiskFormat::Qcow2), qcow2(0), "f").unwrap(), DiskFormat::Qcow2);
        let r = reason(judge(Some(&DiskFormat::Vmdk), qcow2(0), "f").unwrap_err());
        assert!(r.contains("disk_format vmdk does not match the content, which is qcow2"), "{r}");
        let r = reason(judge(None, qcow2(512), "disk.img").unwrap_err());
        assert!(
            r.starts_with("disk.img: the qcow2 image fails Glance's safety check backing_file"),
            "{r}"
        );
        assert!(r.ends_with("nothing was created"), "{r}");
        // Glance accepts a qcow2 labelled raw (with a warning): refused here.
        assert!(glance_verdict(&DiskFormat::Raw, &qcow2(0)).is_ok());
        let r = reason(judge(Some(&DiskFormat::Raw), qcow2(0), "f").unwrap_err());
        assert!(r.contains("disk_format raw, but the content is qcow2"), "{r}");
    }

    #[test]
    fn a_refused_stage_says_the_import_would_fail_and_nothing_was_staged() {
        let staged = |declared, found| judge_for(declared, found, "f", Bound::Stage);
        let r = reason(staged(Some(&DiskFormat::Vmdk), qcow2(0)).unwrap_err());
        assert!(r.contains("Glance's import of it would fail"), "{r}");
        assert!(r.ends_with("nothing was staged: the image is as it was"), "{r}");
        assert!(staged(Some(&DiskFormat::Qcow2), qcow2(512)).is_err(), "a backing file");
        assert!(staged(Some(&DiskFormat::Raw), qcow2(0)).is_err(), "qcow2 labelled raw");
        assert_eq!(staged(Some(&DiskFormat::Qcow2), qcow2(0)).unwrap(), DiskFormat::Qcow2);
    }

    #[test]
    fn raw_content_passes_as_raw_and_as_formats_glance_cannot_inspect() {
        let raw = inspect(&[7u8; 4096]);
        assert_eq!(judge(None, raw.clone(), "f").unwrap(), DiskFormat::Raw);
        for uninspectable in [DiskFormat::Ami, DiskFormat::Aki, DiskFormat::Ari] {
            assert!(judge(Some(&uninspectable), raw.clone(), "f").is_ok());
        }
        assert!(judge(Some(&DiskFormat::Qcow2), raw, "f").is_err());
        // A partitioned disk is a raw disk.
        let mut mbr = vec![0u8; 4096];
        mbr[446 + 4] = 0x83;
        mbr[510..512].copy_from_slice(&[0x55, 0xaa]);
        assert_eq!(judge(None, inspect(&mbr), "f").unwrap(), DiskFormat::Raw);
    }

    #[test]
    fn a_fixed_vhd_declared_vhd_is_explained() {
        let mut disk = vec![0u8; 8192];
        disk[8192 - 512..8192 - 504].copy_from_slice(b"conectix");
        let found = inspect_whole(&disk, &disk[disk.len() - END_LEN..]);
        let r = reason(judge(Some(&DiskFormat::Vhd), found.clone(), "f").unwrap_err());
        assert!(r.contains("fixed-VHD footer") && r.contains("upload a fixed VHD as raw"), "{r}");
        assert_eq!(judge(None, found, "f").unwrap(), DiskFormat::Raw);
    }
}
