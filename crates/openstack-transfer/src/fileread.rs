//! Reading a file for an upload on its own thread, straight into the buffers that become the
//! body's frames (no zero-fill for whole files, no copy, no blocking-pool hop per chunk).

use std::io;

use bytes::Bytes;

/// Chunks read ahead of the network by a file's reader thread.
pub(crate) const READ_AHEAD: usize = 4;

/// Reads `file` in `chunk`-sized frames until its end, each into a fresh buffer that becomes
/// the frame (no copy); stops when the body is dropped.
pub(crate) fn read_file(
    mut file: std::fs::File,
    chunk: usize,
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
) {
    use std::io::Read;
    loop {
        let mut buf = Vec::with_capacity(chunk);
        match (&mut file).take(chunk as u64).read_to_end(&mut buf) {
            Ok(0) => return,
            Ok(_) => {
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}

/// Reads `[offset, end)` of `file` by position (never moving a cursor the caller may share)
/// in `chunk`-sized frames; stops early, without error, if the file is shorter (the body then
/// reports the shortfall against the announced length).
pub(crate) fn read_file_at(
    file: &std::fs::File,
    mut offset: u64,
    end: u64,
    chunk: usize,
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
) {
    while offset < end {
        let want = (end - offset).min(chunk as u64) as usize;
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match read_at(file, &mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            return;
        }
        buf.truncate(filled);
        offset += filled as u64;
        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() || filled < want {
            return;
        }
    }
}

/// Fills `buf` from `file` at `offset` by position (the file's cursor, which others may
/// share, does not move), on Unix and Windows alike; a file that ends first is
/// [`io::ErrorKind::UnexpectedEof`].
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let path = std::env::temp_dir().join(format!("read-exact-at-{}", std::process::id()));
/// std::fs::write(&path, b"0123456789")?;
/// let file = std::fs::File::open(&path)?;
/// let mut buf = [0u8; 3];
/// openstack_transfer::read_exact_at(&file, &mut buf, 4)?;
/// assert_eq!(&buf, b"456");
/// assert!(openstack_transfer::read_exact_at(&file, &mut buf, 9).is_err());
/// # std::fs::remove_file(&path) }
/// ```
pub fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_: &std::fs::File, _: &mut [u8], _: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "reading a file by offset is not supported here",
    ))
}

/// Uploads read regular files only (a directory or a pipe has no length to announce).
pub(crate) fn not_a_regular_file() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")
}
