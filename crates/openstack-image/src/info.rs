//! Stores, import methods, quota usage and image locations (`/v2/info/*`, locations).

use std::future::IntoFuture;

use http::Method;
use openstack_auth::Result;
use openstack_resource::{PreparedRequest, encode_segment};
use serde_json::{Value, json};

use crate::call::{Built, Call, Items, MULTI_STORE, json, unit};
use crate::id_ref::IdRef;
use crate::list_query::StoreQuery;
use crate::proxy::ImageProxy;
use crate::types::Location;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

fn bool_from_any<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

/// A storage backend (`GET /v2/info/stores[/detail]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Store {
    /// Store id.
    pub id: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Whether it is the default store (Glance sends `"true"` as a string).
    #[serde(default, deserialize_with = "bool_from_any")]
    pub default: bool,
    /// Whether it is read-only (e.g. the http store).
    #[serde(default, rename = "read-only", deserialize_with = "bool_from_any")]
    pub read_only: bool,
    /// Backend type (detail only).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub store_type: Option<String>,
    /// Weight (detail only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// Backend properties (detail only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, Value>>,
    /// Fields this SDK does not know yet (kept, and sent back as they came).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What the interoperable import offers (`GET /v2/info/import`).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ImportInfo {
    /// Advertised import methods (`glance-direct`, `web-download`, `copy-image`, `glance-download`).
    pub import_methods: Vec<String>,
    /// The rest of the document as Glance sent it (kept, and serialised back).
    pub extra: BTreeMap<String, Value>,
}

impl<'de> Deserialize<'de> for ImportInfo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut extra = BTreeMap::<String, Value>::deserialize(d)?;
        let import_methods = extra
            .get("import-methods")
            .and_then(|m| m.get("value"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default();
        extra.remove("import-methods");
        Ok(ImportInfo { import_methods, extra })
    }
}

impl Serialize for ImportInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut doc = self.extra.clone();
        doc.insert(
            "import-methods".into(),
            json!({ "type": "array", "value": self.import_methods }),
        );
        doc.serialize(s)
    }
}

/// Quota usage (`GET /v2/info/usage`): resource → `{usage, limit}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Per quota: usage and limit.
    #[serde(default)]
    pub usage: BTreeMap<String, UsageEntry>,
    /// Fields this SDK does not know yet (kept, and sent back as they came).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One quota's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsageEntry {
    /// Used.
    pub usage: i64,
    /// Limit.
    pub limit: i64,
    /// Fields this SDK does not know yet (kept, and sent back as they came).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}
crate::id_ref::id_ref!(Store => id);

/// `GET /v2/info/stores` (API 2.8) or `/v2/info/stores/detail` (API 2.15).
pub(crate) fn stores_request(details: bool) -> Built {
    if details {
        Built::new("stores(details)", PreparedRequest::new(Method::GET, "/v2/info/stores/detail"))
            .needs(15)
            .needs_feature(MULTI_STORE.0, MULTI_STORE.1)
    } else {
        Built::new("stores", PreparedRequest::new(Method::GET, "/v2/info/stores"))
            .needs_feature(MULTI_STORE.0, MULTI_STORE.1)
    }
}

/// `POST /v2/images/{id}/locations` (API 2.17).
pub(crate) fn add_location_request(image: &str, url: &str, validation: Option<&Value>) -> Built {
    let mut body = json!({ "url": url });
    if let Some(v) = validation {
        body["validation_data"] = v.clone();
    }
    Built::new(
        "add_image_location",
        PreparedRequest::new(Method::POST, locations_path(image)).with_json(body),
    )
    .needs(17)
}

/// `GET` of a document under `/v2/info/`, gated on `2.minor`.
pub(crate) fn info_request(what: &'static str, path: &str, minor: u32) -> Built {
    Built::new(what, PreparedRequest::new(Method::GET, path)).needs(minor)
}

/// `GET /v2/images/{id}/locations` (API 2.17; admin/service).
pub(crate) fn locations_request(image: &str) -> Built {
    Built::new("image_locations", PreparedRequest::new(Method::GET, locations_path(image)))
        .needs(17)
}

fn locations_path(image: &str) -> String {
    format!("/v2/images/{}/locations", encode_segment(image))
}

impl ImageProxy {
    /// `stores(details=False)`: the storage backends (multi-store clouds; API 2.8), as a
    /// stream; [`StoreQuery::details`] asks for their details (API 2.15, admin by default).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use openstack_image::StoreQuery;
    /// let stores: Vec<_> = image.stores(&StoreQuery::new()).try_collect().await?;
    /// let detailed: Vec<_> = image.stores(&StoreQuery::new().details()).try_collect().await?;
    /// # let _ = (stores, detailed); Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Unsupported`] (naming the feature) on a cloud with one store,
    /// before anything is sent; 403 for the details without the right role.
    pub fn stores(&self, query: &StoreQuery) -> Items<Store> {
        self.one_page(Ok(stores_request(query.wants_details())), "stores")
    }

    /// `get_import_info()`: the advertised import methods (API 2.6).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let info = image.get_import_info().await?;
    /// println!("{:?}", info.import_methods);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_import_info(&self) -> Call<ImportInfo> {
        self.call(
            Ok(info_request("get_import_info", "/v2/info/import", 6)),
            json("get_import_info"),
        )
    }

    /// Quota usage (`GET /v2/info/usage`, API 2.13): usage and limit per quota; empty when
    /// the cloud does not use unified limits.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let usage = image.get_usage().await?;
    /// # let _ = usage; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors.
    pub fn get_usage(&self) -> Call<Usage> {
        self.call(Ok(info_request("get_usage", "/v2/info/usage", 13)), json("get_usage"))
    }

    /// Adds a location to a queued image (`POST /v2/images/{id}/locations`, API 2.17).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.add_image_location("5cfaff86-…", "http://127.0.0.1:8089/cirros.img").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors (403 unless an http store is enabled; 409 unless the image is queued).
    pub fn add_image_location(&self, image: impl IdRef, url: &str) -> AddImageLocation {
        AddImageLocation {
            proxy: self.clone(),
            image: image.id_ref().to_string(),
            url: url.to_string(),
            validation_data: None,
        }
    }

    /// An image's locations (`GET /v2/images/{id}/locations`, API 2.17; admin/service), as
    /// a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let locations: Vec<_> = image.image_locations("5cfaff86-…").try_collect().await?;
    /// # let _ = locations; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`openstack_auth::Error::Unsupported`] below API 2.17 (Glance 28 / 2024.1 offers 2.16;
    /// Glance 30 / 2025.1 has it), before anything is sent; [`openstack_auth::Error::Forbidden`] where Glance's
    /// policy `fetch_image_location` (by default: service users, with an `X-Service-Token`)
    /// refuses the caller: Glance 30 refuses an admin, Glance 33 lets one through.
    pub fn image_locations(&self, image: impl IdRef) -> Items<Location> {
        let proxy = self.clone();
        let b = locations_request(image.id_ref());
        // Glance answers a bare array.
        let page = async move {
            let v = proxy.exec(b).await?;
            let items: Vec<Location> = json("image_locations")(v)?;
            Ok::<_, openstack_auth::Error>(futures_util::stream::iter(items.into_iter().map(Ok)))
        };
        Box::pin(futures_util::TryStreamExt::try_flatten(futures_util::stream::once(page)))
    }
}

/// `add_image_location(image, url)` being configured; `.await` it.
#[must_use = "nothing is sent until it is awaited"]
#[derive(Debug)]
pub struct AddImageLocation {
    proxy: ImageProxy,
    image: String,
    url: String,
    validation_data: Option<Value>,
}

impl AddImageLocation {
    /// `validation_data=`: the data's `os_hash_algo` / `os_hash_value` for Glance to check.
    pub fn validation_data(mut self, data: Value) -> Self {
        self.validation_data = Some(data);
        self
    }
}

impl IntoFuture for AddImageLocation {
    type Output = Result<()>;
    type IntoFuture = Call<()>;
    fn into_future(self) -> Call<()> {
        let b = add_location_request(&self.image, &self.url, self.validation_data.as_ref());
        self.proxy.call(Ok(b), unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_decodes_glances_unified_limits_answer() {
        // As Glance 33 answers GET /v2/info/usage with use_keystone_limits on (captured from
        // the local cloud with limits registered in Keystone).
        let body = serde_json::json!({"usage": {
            "image_size_total": {"usage": 3, "limit": 1000000},
            "image_stage_total": {"usage": 0, "limit": 1000000},
            "image_count_total": {"usage": 12, "limit": 100000},
            "image_count_uploading": {"usage": 0, "limit": 1000}
        }});
        let usage: Usage = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(usage.usage.len(), 4);
        assert_eq!(usage.usage["image_count_total"].usage, 12);
        assert_eq!(usage.usage["image_size_total"].limit, 1_000_000);
        assert_eq!(serde_json::to_value(&usage).unwrap(), body, "round-trips");
    }

    #[test]
    fn stores_gates() {
        let multi = Some((openstack_auth::ApiVersion::new(2, 8), MULTI_STORE.1));
        assert_eq!(stores_request(false).feature, multi);
        let d = stores_request(true);
        assert_eq!(
            (d.http.path.as_str(), d.needs, d.feature),
            ("/v2/info/stores/detail", Some(openstack_auth::ApiVersion::new(2, 15)), multi)
        );
    }

    #[test]
    fn stores_info_booleans_are_strings() {
        let s: Store =
            serde_json::from_value(json!({"id": "web", "description": "d", "read-only": "true"}))
                .unwrap();
        assert!(s.read_only && !s.default);
        let info: ImportInfo =
            serde_json::from_value(json!({"import-methods": {"value": ["glance-direct"]}}))
                .unwrap();
        assert_eq!(info.import_methods, vec!["glance-direct"]);
        let doc = json!({"import-methods": {"type": "array", "value": ["web-download"]}, "x": 1});
        let info: ImportInfo = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(serde_json::to_value(&info).unwrap(), doc, "round-trips");
    }

    #[test]
    fn location_body() {
        let b = add_location_request("i", "http://x/y", Some(&json!({"os_hash_algo": "sha512"})));
        assert_eq!(b.http.path, "/v2/images/i/locations");
        assert_eq!(
            b.http.json,
            Some(json!({"url": "http://x/y", "validation_data": {"os_hash_algo": "sha512"}}))
        );
    }
}
