//! Where an upload body's bytes come from, and what it can be made again from.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::io::AsyncRead;

use crate::error::TransferError;
use crate::fileread::{READ_AHEAD, read_file, read_file_at};

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;
type FrameQueue = tokio::sync::mpsc::Receiver<io::Result<Bytes>>;

/// How a file source is read.
pub(crate) enum FileRead {
    /// From the cursor of a file the body opened itself.
    Own(std::fs::File),
    /// `[offset, end)` by position, in a file the caller may share.
    At { file: Arc<std::fs::File>, offset: u64, end: u64 },
}

/// What an upload body reads its bytes from.
pub(crate) enum Source {
    Bytes {
        data: Bytes,
        chunk: usize,
    },
    /// A file read on its own thread, straight into the frames' buffers.
    File {
        file: Option<FileRead>,
        frames: Option<FrameQueue>,
        chunk: usize,
        name: String,
    },
    Reader {
        reader: Pin<Box<dyn AsyncRead + Send>>,
        buf: BytesMut,
        chunk: usize,
        name: String,
    },
    Stream(ByteStream),
    Done,
}

/// What a body can be made again from.
#[derive(Clone)]
pub(crate) enum Origin {
    Path(PathBuf),
    OpenFile { file: Arc<std::fs::File>, offset: u64 },
    Bytes(Bytes),
    OneShot,
}

impl Source {
    /// The next slice of the source, `None` at its end.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransferError>>> {
        match self {
            Source::Bytes { data, chunk } => {
                if data.is_empty() {
                    return Poll::Ready(None);
                }
                let n = (*chunk).min(data.len());
                Poll::Ready(Some(Ok(data.split_to(n))))
            }
            Source::File { file, frames, chunk, name } => {
                if let Some(f) = file.take() {
                    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
                    let chunk = *chunk;
                    std::thread::Builder::new()
                        .name("file-reader".into())
                        .spawn(move || match f {
                            FileRead::Own(f) => read_file(f, chunk, tx),
                            FileRead::At { file, offset, end } => {
                                read_file_at(&file, offset, end, chunk, tx)
                            }
                        })
                        .map_err(|e| TransferError::io(&*name, e))?;
                    *frames = Some(rx);
                }
                let Some(rx) = frames.as_mut() else { return Poll::Ready(None) };
                match ready!(rx.poll_recv(cx)) {
                    None => Poll::Ready(None),
                    Some(Ok(b)) => Poll::Ready(Some(Ok(b))),
                    Some(Err(e)) => Poll::Ready(Some(Err(TransferError::io(&*name, e)))),
                }
            }
            Source::Reader { reader, buf, chunk, name } => {
                if buf.capacity() < *chunk {
                    // Reclaims the previous allocation once the frames sent from it are gone.
                    buf.reserve(*chunk);
                }
                match ready!(tokio_util::io::poll_read_buf(reader.as_mut(), cx, buf)) {
                    Ok(0) => Poll::Ready(None),
                    Ok(_) => Poll::Ready(Some(Ok(buf.split().freeze()))),
                    Err(e) => Poll::Ready(Some(Err(TransferError::io(&*name, e)))),
                }
            }
            Source::Stream(s) => match ready!(s.as_mut().poll_next(cx)) {
                None => Poll::Ready(None),
                Some(Ok(b)) => Poll::Ready(Some(Ok(b))),
                Some(Err(e)) => Poll::Ready(Some(Err(TransferError::io("stream", e)))),
            },
            Source::Done => Poll::Ready(None),
        }
    }
}
