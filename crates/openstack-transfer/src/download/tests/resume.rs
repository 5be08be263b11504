//! Resuming a broken download: where it asks from, what counts against the budget, and what
//! a server that ignores Range, refuses a reopen or ends a body early leads to.

use super::*;

#[tokio::test]
async fn resumes_at_10_50_and_99_percent() {
    let data = object();
    for pct in [10u64, 50, 99] {
        let cut = data.len() as u64 * pct / 100;
        let opens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let src = Flaky {
            data: data.clone(),
            cut: Some(cut),
            ignore_range: false,
            flip: None,
            opens: opens.clone(),
        };
        let mut out = Vec::new();
        let report = Download::new(src, expected(&data), &DownloadOptions::default())
            .to_writer(&mut out)
            .await
            .unwrap();
        assert!(out == data, "cut at {pct}%: the bytes differ");
        assert_eq!(report.resumes, 1);
        // The resume asked for exactly the first byte not yet received.
        assert_eq!(*opens.lock().unwrap(), [0, cut], "cut at {pct}%");
    }
}

#[tokio::test]
async fn a_connection_broken_after_the_last_byte_is_verified_not_resumed() {
    let data = object();
    for flip in [None, Some(1234)] {
        let opens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let src = Flaky {
            data: data.clone(),
            cut: Some(data.len() as u64),
            ignore_range: false,
            flip,
            opens: opens.clone(),
        };
        let mut out = Vec::new();
        let got = Download::new(src, expected(&data), &DownloadOptions::default())
            .to_writer(&mut out)
            .await;
        assert_eq!(
            *opens.lock().unwrap(),
            [0],
            "no resume from the end (a server answers that with 416)"
        );
        match flip {
            None => assert_eq!(got.unwrap().resumes, 0),
            Some(_) => {
                assert!(matches!(got, Err(TransferError::ChecksumMismatch { .. })), "{got:?}")
            }
        }
    }
}

#[tokio::test]
async fn server_ignoring_range_restarts_cleanly() {
    let data = object();
    let src = Flaky {
        data: data.clone(),
        cut: Some(400_000),
        ignore_range: true,
        flip: None,
        opens: Default::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.img");
    let report = Download::new(src, expected(&data), &DownloadOptions::default())
        .to_path(&target)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), data.to_vec());
    assert_eq!(report.resumes, 1);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
}

/// [`Flaky`] whose opens fail (connection refused) while `refusals` last, and whose first
/// open fails too when `first`: a server restarting while a download resumes.
struct Refusing {
    inner: Flaky,
    refusals: u32,
    first: bool,
}

impl RangeSource for Refusing {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        let refuse = if offset == 0 { std::mem::take(&mut self.first) } else { self.refusals > 0 };
        if !refuse {
            return self.inner.open(offset);
        }
        if offset > 0 {
            self.refusals -= 1;
        }
        self.inner.opens.lock().unwrap().push(offset);
        Box::pin(async { Err(TransferError::interrupted("connection refused")) })
    }
}

#[tokio::test]
async fn a_resume_refused_is_tried_again_within_the_budget() {
    let data = object();
    let cut = data.len() as u64 / 2;
    let src = |refusals| Refusing {
        inner: Flaky { cut: Some(cut), ..Flaky::serving(&data) },
        refusals,
        first: false,
    };
    // The cut and two refused reopens: three of the five resumes allowed.
    let refusing = src(2);
    let opens = refusing.inner.opens.clone();
    let mut out = Vec::new();
    let report = Download::new(refusing, expected(&data), &DownloadOptions::default())
        .to_writer(&mut out)
        .await
        .unwrap();
    assert!(out == data, "the bytes differ");
    assert_eq!(report.resumes, 3);
    assert_eq!(*opens.lock().unwrap(), [0, cut, cut, cut]);

    // With two resumes allowed, the second refusal is one too many.
    let refusing = src(2);
    let opens = refusing.inner.opens.clone();
    let err = Download::new(refusing, expected(&data), &DownloadOptions::default().max_resumes(2))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.is_resumable(), "{err}");
    assert_eq!(*opens.lock().unwrap(), [0, cut, cut]);
}

#[tokio::test]
async fn a_first_request_refused_is_an_error_not_a_resume() {
    // Nothing was received: there is nothing to resume (retrying a request that never got
    // an answer is the session's job, with its backoff).
    let data = object();
    let src = Refusing { inner: Flaky::serving(&data), refusals: 0, first: true };
    let opens = src.inner.opens.clone();
    let err = Download::new(src, expected(&data), &DownloadOptions::default())
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.is_resumable(), "{err}");
    assert_eq!(*opens.lock().unwrap(), [0]);
}

/// [`Flaky`] cut at the next of `cuts` on each open (none once they run out); `quiet`: a cut
/// ends the body without an error, as a source other than hyper may report a short body.
struct Scripted {
    inner: Flaky,
    cuts: std::collections::VecDeque<u64>,
    quiet: bool,
}

impl Scripted {
    fn new(inner: Flaky, cuts: &[u64], quiet: bool) -> Scripted {
        Scripted { inner, cuts: cuts.iter().copied().collect(), quiet }
    }
}

impl RangeSource for Scripted {
    fn open(&mut self, offset: u64) -> OpenFuture<'_> {
        self.inner.cut = self.cuts.pop_front();
        let quiet = self.quiet;
        let opened = self.inner.open(offset);
        Box::pin(async move {
            let mut o = opened.await?;
            if quiet {
                o.body = Box::pin(o.body.take_while(|r| std::future::ready(r.is_ok())));
            }
            Ok(o)
        })
    }
}

#[tokio::test]
async fn a_body_that_ends_early_without_an_error_is_resumed_or_a_size_mismatch() {
    let data = object();
    let cut = data.len() as u64 / 3;
    let src = Scripted::new(Flaky::serving(&data), &[cut], true);
    let opens = src.inner.opens.clone();
    let mut out = Vec::new();
    let report = Download::new(src, expected(&data), &DownloadOptions::default())
        .to_writer(&mut out)
        .await
        .unwrap();
    assert!(out == data, "the bytes differ");
    assert_eq!(report.resumes, 1);
    assert_eq!(*opens.lock().unwrap(), [0, cut]);

    let src = Scripted::new(Flaky::serving(&data), &[cut], true);
    let err = Download::new(src, expected(&data), &DownloadOptions::default().max_resumes(0))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    let TransferError::SizeMismatch { expected, actual } = err else { panic!("{err:?}") };
    assert_eq!((expected, actual), (data.len() as u64, cut));
}

#[tokio::test]
async fn every_resume_counts_against_the_budget() {
    // Broken with an error or ended short, four times: two resumes, then the error.
    let data = object();
    for quiet in [false, true] {
        let src = Scripted::new(Flaky::serving(&data), &[1000, 2000, 3000, 4000], quiet);
        let opens = src.inner.opens.clone();
        let err = Download::new(src, expected(&data), &DownloadOptions::default().max_resumes(2))
            .to_writer(&mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(*opens.lock().unwrap(), [0, 1000, 2000], "quiet: {quiet}");
        match quiet {
            false => assert!(err.is_resumable(), "{err}"),
            true => {
                assert!(matches!(err, TransferError::SizeMismatch { actual: 3000, .. }), "{err:?}")
            }
        }
    }
}

#[tokio::test]
async fn a_restarted_body_that_ends_before_the_resume_point_is_an_error() {
    // The server ignores Range: the second answer starts again at 0 and is skipped up to
    // the resume point, but ends before it.
    let data = object();
    let flaky = Flaky { ignore_range: true, ..Flaky::serving(&data) };
    let src = Scripted::new(flaky, &[400_000, 100_000], true);
    let err = Download::new(src, expected(&data), &DownloadOptions::default())
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransferError::Resume { message } if message.contains("before reaching the resume point")),
        "{err:?}"
    );
}

#[tokio::test]
async fn resume_budget_is_bounded() {
    let data = object();
    let src = Flaky {
        data: data.clone(),
        cut: Some(1000),
        ignore_range: false,
        flip: None,
        opens: Default::default(),
    };
    let mut out = Vec::new();
    let err = Download::new(src, expected(&data), &DownloadOptions::default().max_resumes(0))
        .to_writer(&mut out)
        .await
        .unwrap_err();
    assert!(err.is_resumable(), "{err}");
}
