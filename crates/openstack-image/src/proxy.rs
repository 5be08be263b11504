//! `ImageProxy`: the handle every call goes through.
//!
//! The calls themselves live with their resource (`images`, `members`, `tasks`, ...); each
//! is built by a pure function, sent here, and decoded.

use std::sync::Arc;

use openstack_auth::{ApiVersion, Result, ServiceEndpoint, Session};
use openstack_resource::{
    Api, Create, Delete, Get, List, ListOptions, PreparedRequest, Query, Resource, Update,
    send_json,
};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::call::{Call, Items};
use crate::id_ref::IdRef;
use crate::info::{ImportInfo, Store};
use crate::list_query::StoreQuery;
use crate::schemas::Schema;

pub(crate) const SERVICE: &str = "image";

/// The Image service v2 through one session. Cheap to clone; share it between tasks.
///
/// Calls mirror openstacksdk's image proxy one-to-one (snake_case names) in one shape:
///
/// * required identifiers are positional, parent first: `(image, member)`,
///   `(namespace, object)`, `(namespace, tag)`;
/// * a call returns a [`crate::Call`] (a `'static` future) or, when it has options, a
///   `#[must_use]` builder whose setters set them and which you `.await`;
/// * "missing is fine" is an `_opt` variant answering `None` instead of
///   [`openstack_auth::Error::NotFound`] (`delete_image_opt`, `find_image_opt`, ...);
/// * every collection is a stream ([`crate::Items`]);
/// * waiters take one [`crate::WaitOptions`].
///
/// Dropping any returned future before it completes sends nothing further; what a dropped
/// transfer leaves behind is documented on [`ImageProxy::create_image`] and
/// [`ImageProxy::download_image`].
#[derive(Clone, Debug)]
pub struct ImageProxy {
    pub(crate) session: Session,
    pub(crate) cache: Arc<Cached>,
}

/// Server facts fetched once per proxy.
#[derive(Debug, Default)]
pub(crate) struct Cached {
    pub(crate) image_schema: OnceCell<Schema>,
    pub(crate) import_info: OnceCell<ImportInfo>,
    pub(crate) stores: OnceCell<Vec<Store>>,
}

impl ImageProxy {
    /// A proxy over `session` (which finds the `image` endpoint in the catalog).
    ///
    /// ```no_run
    /// # fn demo() -> openstack_auth::Result<()> {
    /// use openstack_auth::{CloudConfig, Session};
    /// let image = openstack_image::ImageProxy::new(Session::new(CloudConfig::from_cloud("mycloud")?)?);
    /// # let _ = image; Ok(()) }
    /// ```
    pub fn new(session: Session) -> Self {
        ImageProxy { session, cache: Arc::new(Cached::default()) }
    }

    /// The session (for raw requests to Glance or other services).
    ///
    /// ```no_run
    /// # fn demo(image: openstack_image::ImageProxy) {
    /// println!("authenticated {} times", image.session().auth_count());
    /// # }
    /// ```
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The image endpoint, with the server's highest API version.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let ep = image.endpoint().await?;
    /// println!("Glance at {} speaks up to {:?}", ep.root, ep.version);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Catalog errors.
    pub async fn endpoint(&self) -> Result<Arc<ServiceEndpoint>> {
        self.session.endpoint(SERVICE).await
    }

    /// Fails with [`openstack_auth::Error::Unsupported`] when the server is older than
    /// `2.minor`.
    pub(crate) async fn require(&self, what: &str, minor: u32) -> Result<()> {
        self.endpoint().await?.require(what, ApiVersion::new(2, minor))
    }

    /// A typed handle on one of Glance's collections.
    pub(crate) fn api<R: Resource>(&self, parent: R::Parent) -> Api<R> {
        Api::new(self.session.clone(), parent)
    }

    // ---- the resource framework's verbs as `'static` calls ------------------------------

    /// `GET {base}/{id}`.
    pub(crate) fn get_one<R: Get>(&self, parent: R::Parent, id: impl IdRef) -> Call<R> {
        let (api, id) = (self.api::<R>(parent), id.id_ref().to_string());
        Call::new(async move { api.get(&id).await })
    }

    /// `GET {base}/{id}`, `None` when it does not exist.
    pub(crate) fn get_one_opt<R: Get>(&self, parent: R::Parent, id: impl IdRef) -> Call<Option<R>> {
        let (api, id) = (self.api::<R>(parent), id.id_ref().to_string());
        Call::new(async move { api.get_opt(&id).await })
    }

    /// `DELETE {base}/{id}`.
    pub(crate) fn delete_one<R: Delete>(&self, parent: R::Parent, id: impl IdRef) -> Call<()> {
        let (api, id) = (self.api::<R>(parent), id.id_ref().to_string());
        Call::new(async move { api.delete(&id).await })
    }

    /// `DELETE {base}/{id}`, `None` when it did not exist.
    pub(crate) fn delete_one_opt<R: Delete>(
        &self,
        parent: R::Parent,
        id: impl IdRef,
    ) -> Call<Option<()>> {
        let (api, id) = (self.api::<R>(parent), id.id_ref().to_string());
        Call::new(async move { api.delete_opt(&id).await })
    }

    /// `POST {base}`.
    pub(crate) fn create_one<R: Create>(&self, parent: R::Parent, body: R::Create) -> Call<R>
    where
        R::Create: 'static,
    {
        let api = self.api::<R>(parent);
        Call::new(async move { api.create(&body).await })
    }

    /// The update from `original` to `changed`, per the resource's strategy.
    pub(crate) fn update_one<R: Update + Get>(
        &self,
        parent: R::Parent,
        original: &R,
        changed: &R,
    ) -> Call<R> {
        let api = self.api::<R>(parent);
        let (original, changed) = (original.clone(), changed.clone());
        Call::new(async move { api.update(&original, &changed).await })
    }

    /// The collection as a lazy stream.
    pub(crate) fn list_all<R: List>(&self, parent: R::Parent, query: &Query) -> Items<R> {
        Box::pin(self.api::<R>(parent).list(query, &ListOptions::default()))
    }

    pub(crate) async fn send(&self, req: PreparedRequest) -> Result<Value> {
        Ok(send_json(&self.session, SERVICE, req).await?.1)
    }

    // ---- server facts fetched once ------------------------------------------------------

    pub(crate) async fn cached_image_schema(&self) -> Result<&Schema> {
        self.cache
            .image_schema
            .get_or_try_init(|| self.get_schema(crate::SchemaName::Image).into_future())
            .await
    }

    pub(crate) async fn cached_import_info(&self) -> Result<&ImportInfo> {
        self.cache.import_info.get_or_try_init(|| self.get_import_info().into_future()).await
    }

    pub(crate) async fn cached_stores(&self) -> Result<&Vec<Store>> {
        self.cache
            .stores
            .get_or_try_init(|| {
                futures_util::TryStreamExt::try_collect::<Vec<Store>>(
                    self.stores(&StoreQuery::new()),
                )
            })
            .await
    }
}

#[cfg(test)]
pub(crate) fn test_proxy() -> ImageProxy {
    use openstack_auth::CloudConfig;
    use openstack_auth::{AuthOptions, AuthType};
    let auth = AuthOptions { endpoint: Some("http://127.0.0.1:9".into()), ..Default::default() };
    let mut cfg = CloudConfig::new("offline", AuthType::None, auth);
    cfg.endpoint_overrides.insert("image".into(), "http://127.0.0.1:9".into());
    ImageProxy::new(Session::new(cfg).expect("an offline session"))
}
