//! The one shape of every call: a request built without I/O ([`Built`]), sent by a
//! [`Call`] (a `'static` future owning a clone of the proxy), or paged by an [`Items`]
//! stream.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt, TryStreamExt};
use openstack_auth::{ApiVersion, Error, Result};
use openstack_resource::PreparedRequest;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::proxy::ImageProxy;

/// A call in flight: `.await` it, hand it to `tokio::spawn`, `timeout` or `select!`.
///
/// Every [`ImageProxy`] call without options returns one; calls with options return a
/// builder whose `IntoFuture` ends in the same way. The future owns a clone of the proxy
/// (cheap), so it is `'static` and can be spawned. Nothing is sent until it is first polled;
/// dropping it before it completes abandons the request. Transfers say on their builders
/// what a drop leaves behind.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<T> {
    fut: Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>,
}

impl<T> Call<T> {
    pub(crate) fn new(fut: impl Future<Output = Result<T>> + Send + 'static) -> Self {
        Call { fut: Box::pin(fut) }
    }
}

impl<T> Future for Call<T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.fut.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}

/// A lazy stream of a collection's items, following `next` links page by page.
///
/// `futures_util::TryStreamExt::try_collect` turns it into a `Vec`; `take(n)` stops early
/// (no further page is fetched). Errors (including a refused query, before anything is
/// sent) are items of the stream.
pub type Items<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// One Glance request built without I/O: what it is called, the API version it needs, and
/// the HTTP request. Pure functions in each module build these; unit tests inspect them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Built {
    /// The call's name, for errors (`delete_image(store)`).
    pub(crate) what: &'static str,
    /// The lowest Glance API version that has it.
    pub(crate) needs: Option<ApiVersion>,
    /// The server feature that version stands for, when Glance lists it only with that
    /// feature configured (see [`Built::needs_feature`]).
    pub(crate) feature: Option<(ApiVersion, &'static str)>,
    /// Method, path and query, headers, JSON body.
    pub(crate) http: PreparedRequest,
}

/// Glance's multi-store feature, listed as API 2.8 only when several stores are configured.
pub(crate) const MULTI_STORE: (u32, &str) = (8, "multiple stores (enabled_backends)");
/// Glance's cache API, listed as API 2.14 only when the image cache is configured.
pub(crate) const IMAGE_CACHE: (u32, &str) = (14, "the image cache (image_cache_dir)");

impl Built {
    pub(crate) fn new(what: &'static str, http: PreparedRequest) -> Self {
        Built { what, needs: None, feature: None, http }
    }

    /// Gated on Glance API `2.minor`.
    pub(crate) fn needs(mut self, minor: u32) -> Self {
        self.needs = Some(ApiVersion::new(2, minor));
        self
    }

    /// Gated on a feature Glance shows by listing `2.minor` (multiple stores: 2.8, the image
    /// cache: 2.14): a cloud without it lists newer versions but not that one, and answers
    /// the call with a 404 ("Multi backend is not supported at this site").
    pub(crate) fn needs_feature(mut self, minor: u32, feature: &'static str) -> Self {
        self.feature = Some((ApiVersion::new(2, minor), feature));
        self
    }
}

/// Decodes a JSON body into `T`, naming the request in the error.
pub(crate) fn json<T: DeserializeOwned>(what: &'static str) -> impl FnOnce(Value) -> Result<T> {
    move |v| serde_json::from_value(v).map_err(|e| crate::error::decode(what, e))
}

/// Decodes the array (or map) under `key`.
pub(crate) fn field<T: DeserializeOwned>(
    what: &'static str,
    key: &'static str,
) -> impl FnOnce(Value) -> Result<T> {
    move |mut v| {
        let inner = v.get_mut(key).map(Value::take).unwrap_or(Value::Null);
        serde_json::from_value(inner).map_err(|e| crate::error::decode(what, e))
    }
}

/// Ignores the body.
pub(crate) fn unit(_: Value) -> Result<()> {
    Ok(())
}

impl ImageProxy {
    /// Checks the version gate, then sends.
    pub(crate) async fn exec(&self, built: Built) -> Result<Value> {
        if built.needs.is_some() || built.feature.is_some() {
            let ep = self.endpoint().await?;
            if let Some(v) = built.needs {
                ep.require(built.what, v)?;
            }
            if let Some((v, feature)) = built.feature {
                ep.require_offered(built.what, v, feature)?;
            }
        }
        self.send(built.http).await
    }

    /// build → send → decode, as a `'static` future.
    pub(crate) fn call<T, D>(&self, built: Result<Built>, decode: D) -> Call<T>
    where
        T: Send + 'static,
        D: FnOnce(Value) -> Result<T> + Send + 'static,
    {
        let proxy = self.clone();
        Call::new(async move { decode(proxy.exec(built?).await?) })
    }

    /// As [`ImageProxy::call`], with a 404 answered by `None` (the `_opt` calls).
    pub(crate) fn call_opt<T, D>(&self, built: Result<Built>, decode: D) -> Call<Option<T>>
    where
        T: Send + 'static,
        D: FnOnce(Value) -> Result<T> + Send + 'static,
    {
        let proxy = self.clone();
        Call::new(async move {
            match proxy.exec(built?).await {
                Ok(v) => decode(v).map(Some),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// A collection Glance answers in one response (the array under `key`), as a stream.
    pub(crate) fn one_page<T>(&self, built: Result<Built>, key: &'static str) -> Items<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let proxy = self.clone();
        let page = async move {
            let built = built?;
            let what = built.what;
            let v = proxy.exec(built).await?;
            let items: Vec<T> = field(what, key)(v)?;
            Ok::<_, Error>(futures_util::stream::iter(items.into_iter().map(Ok)))
        };
        futures_util::stream::once(page).try_flatten().boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_static_send<F: Future + Send + 'static>(_: &F) {}

    #[test]
    fn calls_are_static_and_send() {
        let proxy = crate::test_proxy();
        let call = proxy.get_image("x");
        assert_static_send(&call);
        drop(call);
    }
}
