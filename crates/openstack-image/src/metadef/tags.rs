//! Metadef tags of a namespace.

use std::collections::BTreeMap;
use std::future::IntoFuture;

use http::Method;
use openstack_auth::Result;
use openstack_resource::{
    Delete, Get, List, PreparedRequest, Resource, Update, UpdateStrategy, encode_segment,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ns_path;
use crate::call::{Built, Call, Items, field, json};
use crate::id_ref::{IdRef, id_ref};
use crate::list_query::TagQuery;
use crate::proxy::ImageProxy;

/// A metadef tag.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefTag {
    /// Name (its id within the namespace).
    pub name: String,
    /// Creation time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Last update.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated_at: String,
    /// Other fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Resource for MetadefTag {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "metadef tag";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "tags";
    const UPDATE: UpdateStrategy = UpdateStrategy::Put;
    const READ_ONLY: &'static [&'static str] = &["created_at", "updated_at"];
    const NAME_FILTER: Option<&'static str> = None;
    const QUERY_PARAMETERS: &'static [&'static str] = &["sort_key", "sort_dir"];
    type Parent = String;
    fn base_path(ns: &String) -> String {
        format!("{}/tags", ns_path(ns))
    }
    fn id(&self) -> &str {
        &self.name
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}
impl Get for MetadefTag {}
impl List for MetadefTag {}
impl Update for MetadefTag {}
impl Delete for MetadefTag {}
id_ref!(MetadefTag => name);

/// `POST /v2/metadefs/namespaces/{ns}/tags/{name}` (a tag is created by its URL).
pub(crate) fn create_request(ns: &str, name: &str) -> Built {
    Built::new(
        "create_metadef_tag",
        PreparedRequest::new(
            Method::POST,
            format!("{}/tags/{}", ns_path(ns), encode_segment(name)),
        ),
    )
}

/// `POST /v2/metadefs/namespaces/{ns}/tags` with several names; `X-Openstack-Append` keeps
/// the existing ones.
pub(crate) fn create_many_request(ns: &str, names: &[String], append: bool) -> Result<Built> {
    let body = json!({ "tags": names.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>() });
    let mut req =
        PreparedRequest::new(Method::POST, format!("{}/tags", ns_path(ns))).with_json(body);
    if append {
        req = req.with_header("x-openstack-append", "True")?;
    }
    Ok(Built::new("create_metadef_tags", req))
}

impl ImageProxy {
    /// Creates one tag in a namespace.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let tag = image.create_metadef_tag("OS::Example", "fast").await?;
    /// # let _ = tag; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors (409 for a duplicate).
    pub fn create_metadef_tag(&self, namespace: impl IdRef, name: &str) -> Call<MetadefTag> {
        self.call(Ok(create_request(namespace.id_ref(), name)), json("create_metadef_tag"))
    }

    /// Creates several tags; by default they replace the namespace's tags
    /// ([`CreateMetadefTags::append`] keeps the existing ones).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let tags = image.create_metadef_tags("OS::Example", ["a", "b"]).append(true).await?;
    /// # let _ = tags; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn create_metadef_tags<S: Into<String>>(
        &self,
        namespace: impl IdRef,
        names: impl IntoIterator<Item = S>,
    ) -> CreateMetadefTags {
        CreateMetadefTags {
            proxy: self.clone(),
            namespace: namespace.id_ref().to_string(),
            names: names.into_iter().map(Into::into).collect(),
            append: false,
        }
    }

    /// Gets one tag.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let tag = image.get_metadef_tag("OS::Example", "fast").await?;
    /// # let _ = tag; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn get_metadef_tag(&self, namespace: impl IdRef, name: impl IdRef) -> Call<MetadefTag> {
        self.get_one::<MetadefTag>(namespace.id_ref().to_string(), name)
    }

    /// [`ImageProxy::get_metadef_tag`], `None` when the namespace has no such tag (or there
    /// is no such namespace).
    ///
    /// # Errors
    /// As [`ImageProxy::get_metadef_tag`], but for not-found.
    pub fn get_metadef_tag_opt(
        &self,
        namespace: impl IdRef,
        name: impl IdRef,
    ) -> Call<Option<MetadefTag>> {
        self.get_one_opt::<MetadefTag>(namespace.id_ref().to_string(), name)
    }

    /// `metadef_tags(namespace, **query)`: a namespace's tags (sorting, paging), as a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use openstack_image::{SortDir, TagQuery};
    /// let q = TagQuery::new().sort("name", SortDir::Asc);
    /// let tags: Vec<_> = image.metadef_tags("OS::Example", &q).try_collect().await?;
    /// # let _ = tags; Ok(()) }
    /// ```
    pub fn metadef_tags(&self, namespace: impl IdRef, query: &TagQuery) -> Items<MetadefTag> {
        self.list_all::<MetadefTag>(namespace.id_ref().to_string(), &query.to_query())
    }

    /// Renames a tag.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let tag = image.update_metadef_tag("OS::Example", "fast", "faster").await?;
    /// # let _ = tag; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn update_metadef_tag(
        &self,
        namespace: impl IdRef,
        name: impl IdRef,
        new_name: &str,
    ) -> Call<MetadefTag> {
        let api = self.api::<MetadefTag>(namespace.id_ref().to_string());
        let original = MetadefTag { name: name.id_ref().to_string(), ..Default::default() };
        let changed = MetadefTag { name: new_name.to_string(), ..Default::default() };
        Call::new(async move { api.update(&original, &changed).await })
    }

    /// Deletes a tag.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_tag("OS::Example", "fast").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::NotFound`].
    pub fn delete_metadef_tag(&self, namespace: impl IdRef, name: impl IdRef) -> Call<()> {
        self.delete_one::<MetadefTag>(namespace.id_ref().to_string(), name)
    }

    /// As [`ImageProxy::delete_metadef_tag`], `None` when it did not exist.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.delete_metadef_tag_opt("OS::Example", "fast").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn delete_metadef_tag_opt(
        &self,
        namespace: impl IdRef,
        name: impl IdRef,
    ) -> Call<Option<()>> {
        self.delete_one_opt::<MetadefTag>(namespace.id_ref().to_string(), name)
    }
}

/// `create_metadef_tags(namespace, names)` being configured; `.await` it.
#[must_use = "nothing is sent until it is awaited"]
#[derive(Debug)]
pub struct CreateMetadefTags {
    proxy: ImageProxy,
    namespace: String,
    names: Vec<String>,
    append: bool,
}

impl CreateMetadefTags {
    /// Keep the namespace's existing tags (default: replace them).
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }
}

impl IntoFuture for CreateMetadefTags {
    type Output = Result<Vec<MetadefTag>>;
    type IntoFuture = Call<Vec<MetadefTag>>;
    fn into_future(self) -> Self::IntoFuture {
        let b = create_many_request(&self.namespace, &self.names, self.append);
        self.proxy.call(b, field("create_metadef_tags", "tags"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_requests() {
        assert_eq!(create_request("ns", "a b").http.path, "/v2/metadefs/namespaces/ns/tags/a%20b");
        let b = create_many_request("ns", &["x".into(), "y".into()], true).unwrap();
        assert_eq!(b.http.headers["x-openstack-append"], "True");
        assert_eq!(b.http.json, Some(json!({"tags": [{"name": "x"}, {"name": "y"}]})));
        assert!(create_many_request("ns", &[], false).unwrap().http.headers.is_empty());
    }
}
