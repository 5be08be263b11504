//! `create_image`: validate, create the record, stream the data with digests in flight,
//! clean up on failure, wait, and verify the server's checksums.

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::TryStreamExt;
use openstack_auth::{Cleanup, Error, Result};
use openstack_resource::{Api, Query, WaitOptions};
use openstack_transfer::{Algorithm, Digests, Progress, UploadOptions, digest_hex};
use serde_json::Value;

use crate::call::Call;
use crate::error::transfer_error;
use crate::import::{ImportMethod, StoreSelection};
use crate::proxy::{IdRef, ImageProxy};
use crate::types::{ContainerFormat, DiskFormat, Image, ImageCreate, ImageStatus, Visibility};
use crate::upload::{FileSource, ImageData, PreparedUpload, open_file_span};

const MD5_KEY: &str = "owner_specified.openstack.md5";
const SHA256_KEY: &str = "owner_specified.openstack.sha256";
const OBJECT_KEY: &str = "owner_specified.openstack.object";

/// `create_image(name, ...)` being configured; `.await` it.
///
/// ```no_run
/// # async fn demo(image: &openstack_image::ImageProxy) -> openstack_auth::Result<()> {
/// use openstack_image::{ContainerFormat, DiskFormat};
/// let img = image
///     .create_image("cirros")
///     .filename("cirros-0.6.2-x86_64-disk.img")
///     .disk_format(DiskFormat::Qcow2)
///     .container_format(ContainerFormat::Bare)
///     .tags(["test"])
///     .wait(openstack_image::WaitOptions::default())
///     .await?;
/// # let _ = img; Ok(()) }
/// ```
#[must_use = "nothing is created until it is awaited"]
pub struct CreateImage {
    proxy: ImageProxy,
    name: String,
    filename: Option<PathBuf>,
    // In a Mutex only so the builder is Sync (readers and streams need not be).
    data: std::sync::Mutex<Option<ImageData>>,
    container: String,
    md5: Option<String>,
    sha256: Option<String>,
    disk_format: Option<DiskFormat>,
    container_format: Option<ContainerFormat>,
    tags: Vec<String>,
    disable_vendor_agent: bool,
    allow_duplicates: bool,
    meta: BTreeMap<String, Value>,
    properties: BTreeMap<String, Value>,
    visibility: Option<Visibility>,
    min_disk: Option<u64>,
    min_ram: Option<u64>,
    protected: bool,
    os_hidden: bool,
    wait: Option<WaitOptions>,
    validate_checksum: bool,
    use_import: bool,
    selection: StoreSelection,
    keep_on_mismatch: bool,
    progress: Option<Progress>,
    digests: Vec<Algorithm>,
}

impl std::fmt::Debug for CreateImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateImage")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("data", &self.data.lock().map(|d| format!("{d:?}")).unwrap_or_default())
            .finish_non_exhaustive()
    }
}

impl CreateImage {
    /// `filename=`: the file to upload (streamed, never read into memory).
    pub fn filename(mut self, path: impl AsRef<Path>) -> Self {
        self.filename = Some(path.as_ref().to_path_buf());
        self
    }
    /// `data=`: bytes, a reader or a stream to upload (exclusive with `filename`).
    pub fn data(mut self, data: impl Into<ImageData>) -> Self {
        self.data = std::sync::Mutex::new(Some(data.into()));
        self
    }
    /// `container=`: the object-store container name recorded in
    /// `owner_specified.openstack.object` (default `images`).
    pub fn container(mut self, container: impl Into<String>) -> Self {
        self.container = container.into();
        self
    }
    /// `md5=`: the data's MD5 as the caller knows it; checked against what is uploaded.
    pub fn md5(mut self, md5: impl Into<String>) -> Self {
        self.md5 = Some(md5.into().to_ascii_lowercase());
        self
    }
    /// `sha256=`: the data's SHA-256 as the caller knows it; checked against what is uploaded.
    pub fn sha256(mut self, sha256: impl Into<String>) -> Self {
        self.sha256 = Some(sha256.into().to_ascii_lowercase());
        self
    }
    /// `disk_format=` (default: the file's extension when it names a format, else `qcow2`).
    pub fn disk_format(mut self, f: impl Into<DiskFormat>) -> Self {
        self.disk_format = Some(f.into());
        self
    }
    /// `container_format=` (default `bare`).
    pub fn container_format(mut self, f: impl Into<ContainerFormat>) -> Self {
        self.container_format = Some(f.into());
        self
    }
    /// `tags=`.
    pub fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }
    /// `disable_vendor_agent=` (default true): adds the cloud's `disable_vendor_agent`
    /// properties from clouds.yaml (empty for most clouds, as in openstacksdk).
    pub fn disable_vendor_agent(mut self, disable: bool) -> Self {
        self.disable_vendor_agent = disable;
        self
    }
    /// `allow_duplicates=` (default false): when false, an image with the same name and the
    /// same data (by `owner_specified.openstack.md5`/`sha256`) is returned instead of a new one.
    pub fn allow_duplicates(mut self, allow: bool) -> Self {
        self.allow_duplicates = allow;
        self
    }
    /// `meta=`: properties set verbatim.
    pub fn meta<K: Into<String>, V: Into<Value>>(
        mut self,
        meta: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.meta.extend(meta.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }
    /// `**kwargs`: one more image property (free-form).
    pub fn property(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }
    /// Visibility.
    pub fn visibility(mut self, v: Visibility) -> Self {
        self.visibility = Some(v);
        self
    }
    /// Minimum disk (GiB).
    pub fn min_disk(mut self, gib: u64) -> Self {
        self.min_disk = Some(gib);
        self
    }
    /// Minimum RAM (MiB).
    pub fn min_ram(mut self, mib: u64) -> Self {
        self.min_ram = Some(mib);
        self
    }
    /// Protected from deletion.
    pub fn protected(mut self, p: bool) -> Self {
        self.protected = p;
        self
    }
    /// Hidden from default lists.
    pub fn os_hidden(mut self, h: bool) -> Self {
        self.os_hidden = h;
        self
    }
    /// `wait=True, timeout=`: wait until the image is `active` (on the import path: until
    /// the import task ended too), polling as `options` says. Without it the call returns
    /// once the data is uploaded (or staged and the import accepted).
    pub fn wait(mut self, options: WaitOptions) -> Self {
        self.wait = Some(options);
        self
    }
    /// `validate_checksum=`: also require the server to report a checksum and wait for
    /// `active` so it can be compared. (Digests the server reports are always compared.)
    pub fn validate_checksum(mut self, v: bool) -> Self {
        self.validate_checksum = v;
        self
    }
    /// Which digests to compute while the data streams (default md5, sha256 and sha512).
    /// After the upload each one the server also reports is compared (`checksum` is md5,
    /// `os_hash_value` is by `os_hash_algo`, sha512 unless the cloud chose otherwise), and md5 /
    /// sha256 are recorded as `owner_specified.openstack.{md5,sha256}` for deduplication.
    /// `&[]` hashes nothing, as openstacksdk does by default: no client CPU spent, nothing
    /// verified (`validate_checksum(true)` then fails before anything is created). A digest
    /// claimed with [`CreateImage::md5`] / [`CreateImage::sha256`] is always computed.
    pub fn digests(mut self, algorithms: &[Algorithm]) -> Self {
        self.digests = algorithms.to_vec();
        self
    }

    /// The digests computed in flight: those asked for plus those the caller claims.
    fn upload_digests(&self) -> Vec<Algorithm> {
        let mut algorithms = self.digests.clone();
        for (claimed, a) in [(&self.md5, Algorithm::Md5), (&self.sha256, Algorithm::Sha256)] {
            if claimed.is_some() && !algorithms.contains(&a) {
                algorithms.push(a);
            }
        }
        algorithms
    }

    /// `use_import=`: upload with stage + glance-direct import instead of `PUT /file`.
    pub fn use_import(mut self, v: bool) -> Self {
        self.use_import = v;
        self
    }
    /// `stores=`: target stores (implies `use_import`).
    pub fn stores<S: IdRef>(mut self, stores: impl IntoIterator<Item = S>) -> Self {
        self.selection.stores = stores.into_iter().map(|s| s.id_ref().to_string()).collect();
        self
    }
    /// `all_stores=` (implies `use_import`).
    pub fn all_stores(mut self, all: bool) -> Self {
        self.selection.all_stores = Some(all);
        self
    }
    /// `all_stores_must_succeed=` (implies `use_import`).
    pub fn all_stores_must_succeed(mut self, must: bool) -> Self {
        self.selection.all_stores_must_succeed = Some(must);
        self
    }
    /// Keep the image when its checksum does not match (default: delete it).
    pub fn keep_on_mismatch(mut self, keep: bool) -> Self {
        self.keep_on_mismatch = keep;
        self
    }
    /// Reports upload progress.
    pub fn progress(mut self, p: Progress) -> Self {
        self.progress = Some(p);
        self
    }

    /// How to wait: as asked, else (for `validate_checksum`) up to an hour.
    fn wait_options(&self) -> Option<WaitOptions> {
        self.wait.clone().or_else(|| {
            self.validate_checksum
                .then(|| WaitOptions::default().timeout(Duration::from_secs(3600)))
        })
    }

    fn uses_import(&self) -> bool {
        self.use_import
            || self.selection.is_set()
            || self.selection.all_stores_must_succeed.is_some()
    }

    fn has_upload_data(&mut self) -> bool {
        self.filename.is_some() || self.has_data()
    }

    /// Everything that can be checked before a request changes anything.
    fn has_data(&mut self) -> bool {
        self.data.get_mut().map(|d| d.is_some()).unwrap_or(false)
    }

    async fn validate(&mut self) -> Result<()> {
        let has_data = self.has_data();
        if self.filename.is_some() && has_data {
            return Err(Error::InvalidArgument(
                "filename and data are mutually exclusive; give one".into(),
            ));
        }
        // openstacksdk: a name that is a path to an image file means "upload this file".
        if self.filename.is_none() && !has_data && Path::new(&self.name).is_file() {
            self.filename = Some(PathBuf::from(&self.name));
            self.name = String::new();
        }
        if self.name.is_empty() {
            match self.filename.as_ref().and_then(|f| f.file_stem()) {
                Some(stem) => self.name = stem.to_string_lossy().into_owned(),
                None => return Err(Error::InvalidArgument("an image needs a name".into())),
            }
        }
        if let Some(path) = &self.filename {
            let io = |source| Error::Io { path: path.display().to_string(), source };
            let meta = tokio::fs::metadata(path).await.map_err(io)?;
            if !meta.is_file() {
                return Err(io(crate::upload::not_a_regular_file()));
            }
            // Readable? Opening now fails before the record exists.
            tokio::fs::File::open(path).await.map_err(io)?;
        }
        if self.disk_format.is_none() {
            let by_ext = self
                .filename
                .as_ref()
                .and_then(|f| f.extension())
                .map(|e| DiskFormat::from(e.to_string_lossy().to_ascii_lowercase().as_str()))
                .filter(|f| !matches!(f, DiskFormat::Unknown(_)));
            self.disk_format = Some(by_ext.unwrap_or(DiskFormat::Qcow2));
        }
        if self.container_format.is_none() {
            self.container_format = Some(ContainerFormat::Bare);
        }
        let schema = self.proxy.cached_image_schema().await?;
        for (field, value) in [
            ("disk_format", self.disk_format.as_ref().map(|f| f.as_str().to_string())),
            ("container_format", self.container_format.as_ref().map(|f| f.as_str().to_string())),
        ] {
            let allowed = schema.enum_values(field);
            if let Some(v) = value {
                if !allowed.is_empty() && !allowed.contains(&v) {
                    return Err(Error::InvalidArgument(format!(
                        "{field} {v:?} is not supported by this cloud (supported: {})",
                        allowed.join(", ")
                    )));
                }
            }
        }
        if self.validate_checksum && self.upload_digests().is_empty() && self.has_upload_data() {
            return Err(Error::InvalidArgument(
                "validate_checksum(true) needs a digest to compare: digests(&[]) computes none"
                    .into(),
            ));
        }
        for tag in &self.tags {
            if tag.is_empty() || tag.chars().count() > 255 {
                return Err(Error::InvalidArgument(format!(
                    "tag {tag:?} must be 1 to 255 characters long"
                )));
            }
        }
        if self.uses_import() {
            if self.filename.is_none() && !has_data {
                return Err(Error::InvalidArgument("use_import/stores need data to import".into()));
            }
            self.proxy.validate_import("glance-direct", &self.selection).await?;
        }
        Ok(())
    }

    /// Looks for an existing image with this name and the same data.
    async fn find_duplicate(&self) -> Result<Option<Image>> {
        let api: Api<Image> = self.proxy.api::<Image>(());
        let same_name: Vec<Image> = api
            .list(&Query::new().param("name", &self.name), &Default::default())
            .try_collect()
            .await?;
        if same_name.is_empty() {
            return Ok(None);
        }
        let (md5, sha256) = match (&self.md5, &self.sha256) {
            (Some(m), Some(s)) => (m.clone(), Some(s.clone())),
            (Some(m), None) => (m.clone(), None),
            _ => match self.pre_hash().await? {
                Some((m, s)) => (m, Some(s)),
                // A one-shot reader or stream cannot be hashed twice: no dedupe.
                None => return Ok(None),
            },
        };
        Ok(same_name.into_iter().find(|img| {
            let md5_ok = img.property(MD5_KEY).or(img.checksum.as_deref()) == Some(md5.as_str());
            let sha_ok = match (&sha256, img.property(SHA256_KEY)) {
                (Some(s), Some(theirs)) => s == theirs,
                _ => true,
            };
            md5_ok && sha_ok && img.status == ImageStatus::Active
        }))
    }

    /// Hashes the data before upload (only for deduplication, and only for re-readable data).
    async fn pre_hash(&self) -> Result<Option<(String, String)>> {
        let opts = UploadOptions::default().algorithms(&[Algorithm::Md5, Algorithm::Sha256]);
        let file = match (&self.filename, self.data.lock().ok().as_deref()) {
            (Some(path), _) => Some(FileSource::Path(path.clone())),
            (None, Some(Some(ImageData::File(f)))) => {
                let (offset, _) = open_file_span(f)?;
                Some(FileSource::Open { file: f.clone(), offset })
            }
            (None, Some(Some(ImageData::Bytes(b)))) => {
                return Ok(Some((digest_hex(Algorithm::Md5, b), digest_hex(Algorithm::Sha256, b))));
            }
            // A one-shot reader or stream cannot be hashed twice: no dedupe.
            _ => None,
        };
        let Some(file) = file else { return Ok(None) };
        let name = file.name();
        let (body, results) = file.body(&opts).map_err(|e| transfer_error(e, &name))?;
        let _ =
            http_body_util::BodyExt::collect(body).await.map_err(|e| transfer_error(e, &name))?;
        let d = results.wait().await.map_err(|e| transfer_error(e, &name))?;
        Ok(Some((
            d.get(Algorithm::Md5).unwrap_or_default().into(),
            d.get(Algorithm::Sha256).unwrap_or_default().into(),
        )))
    }

    async fn run(mut self) -> Result<Image> {
        self.validate().await?;
        if !self.allow_duplicates {
            if let Some(existing) = self.find_duplicate().await? {
                tracing::info!(image = %existing.id, "an identical image with this name exists; returning it");
                return Ok(existing);
            }
        }
        let taken = self.data.get_mut().ok().and_then(Option::take);
        let data = self.filename.take().map(ImageData::Path).or(taken);
        // Open the data first: an unreadable file fails before the record exists.
        let upload = match data {
            Some(d) => {
                let mut opts = UploadOptions::default().algorithms(&self.upload_digests());
                if let Some(p) = self.progress.clone() {
                    opts = opts.progress(p);
                }
                Some(self.proxy.prepare_upload(d, &opts).await?)
            }
            None => None,
        };
        let mut properties = BTreeMap::new();
        if self.disable_vendor_agent {
            let vendor = &self.proxy.session.config().disable_vendor_agent;
            properties.extend(vendor.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))));
        }
        properties.extend(self.properties.clone());
        properties.extend(self.meta.clone());
        properties
            .insert(OBJECT_KEY.into(), Value::String(format!("{}/{}", self.container, self.name)));
        if let Some(m) = &self.md5 {
            properties.insert(MD5_KEY.into(), Value::String(m.clone()));
        }
        if let Some(s) = &self.sha256 {
            properties.insert(SHA256_KEY.into(), Value::String(s.clone()));
        }
        let body = ImageCreate {
            name: Some(self.name.clone()),
            disk_format: self.disk_format.clone(),
            container_format: self.container_format.clone(),
            visibility: self.visibility.clone(),
            protected: self.protected,
            os_hidden: self.os_hidden,
            min_disk: self.min_disk,
            min_ram: self.min_ram,
            tags: self.tags.clone(),
            properties,
            id: None,
        };
        let created = self.proxy.api::<Image>(()).create(&body).await?;
        let Some(upload) = upload else {
            return Ok(created);
        };
        match self.upload_and_verify(&created, upload).await {
            Ok(img) => Ok(img),
            Err((err, keep)) => {
                let what = format!("image {}", created.id);
                let cleanup = if keep {
                    Cleanup::kept(what)
                } else {
                    match self.proxy.delete_image_opt(&created.id).await {
                        Ok(_) => Cleanup::deleted(what),
                        Err(e) => {
                            tracing::warn!(image = %created.id, error = %e.report(), "could not delete the half-created image");
                            Cleanup::delete_failed(what, e)
                        }
                    }
                };
                Err(err.with_cleanup("create_image", cleanup))
            }
        }
    }

    /// Uploads and verifies; on error says whether to keep the image.
    async fn upload_and_verify(
        &self,
        created: &Image,
        upload: PreparedUpload,
    ) -> std::result::Result<Image, (Error, bool)> {
        let fail = |e: Error| (e, false);
        let digests: Digests = if self.uses_import() {
            self.proxy.put_data(&created.id, "stage", upload, None).await.map_err(fail)?
        } else {
            self.proxy.put_data(&created.id, "file", upload, None).await.map_err(fail)?
        };
        let md5 = digests.get(Algorithm::Md5).map(str::to_string);
        let sha256 = digests.get(Algorithm::Sha256).map(str::to_string);
        // The caller's claims about the data are checked against what was actually sent
        // (a claimed digest is always computed).
        for (claimed, actual, algorithm) in
            [(&self.md5, &md5, "md5"), (&self.sha256, &sha256, "sha256")]
        {
            if let (Some(c), Some(actual)) = (claimed, actual) {
                if c != actual {
                    return Err((
                        Error::ChecksumMismatch {
                            algorithm: algorithm.into(),
                            expected: c.clone(),
                            actual: actual.clone(),
                        },
                        self.keep_on_mismatch,
                    ));
                }
            }
        }
        if self.uses_import() {
            let import = self
                .proxy
                .import_image(&created.id, ImportMethod::GlanceDirect)
                .selection(self.selection.clone());
            if let Some(options) = self.wait_options() {
                import.wait(options).await.map_err(fail)?;
            } else {
                import.await.map_err(fail)?;
            }
        }
        let mut image = self.proxy.get_image(&created.id).await.map_err(fail)?;
        if let Some(options) = self.wait_options().filter(|_| image.status != ImageStatus::Active) {
            image = self
                .proxy
                .wait_for_status(&created.id, ImageStatus::Active)
                .options(options)
                .await
                .map_err(fail)?;
        }
        if image.status == ImageStatus::Active {
            verify_server_digests(&image, &digests, self.validate_checksum)
                .map_err(|e| (e, self.keep_on_mismatch))?;
        }
        // Record what was computed so later create_image calls can deduplicate.
        let mut changed = image.clone();
        for (key, value) in [(MD5_KEY, md5), (SHA256_KEY, sha256)] {
            if let Some(v) = value.filter(|v| image.property(key) != Some(v.as_str())) {
                changed.properties.insert(key.into(), Value::String(v));
            }
        }
        if changed.properties != image.properties {
            image = self.proxy.update_image(&image, &changed).await.map_err(fail)?;
        }
        Ok(image)
    }
}

/// Compares the server's digests with the computed ones.
fn verify_server_digests(image: &Image, digests: &Digests, require: bool) -> Result<()> {
    let mut compared = false;
    if let Some(server_md5) = &image.checksum {
        if let Some(ours) = digests.get(Algorithm::Md5) {
            compared = true;
            if !server_md5.eq_ignore_ascii_case(ours) {
                return Err(Error::ChecksumMismatch {
                    algorithm: "md5".into(),
                    expected: ours.into(),
                    actual: server_md5.clone(),
                });
            }
        }
    }
    if let (Some(algo), Some(value)) = (&image.os_hash_algo, &image.os_hash_value) {
        if let Some(ours) = algo.parse::<Algorithm>().ok().and_then(|a| digests.get(a)) {
            compared = true;
            if !value.eq_ignore_ascii_case(ours) {
                return Err(Error::ChecksumMismatch {
                    algorithm: algo.clone(),
                    expected: ours.into(),
                    actual: value.clone(),
                });
            }
        }
    }
    if require && !compared {
        let ours: Vec<&str> = digests.values.iter().map(|(a, _)| a.as_str()).collect();
        return Err(Error::InvalidArgument(format!(
            "validate_checksum: nothing to compare for image {}: it reports checksum {:?} and \
             os_hash_algo {:?}, the upload computed [{}]",
            image.id,
            image.checksum,
            image.os_hash_algo,
            ours.join(", ")
        )));
    }
    Ok(())
}

impl IntoFuture for CreateImage {
    type Output = Result<Image>;
    type IntoFuture = Call<Image>;
    fn into_future(self) -> Call<Image> {
        Call::new(self.run())
    }
}

impl ImageProxy {
    /// `create_image(name, filename, data, container, md5, sha256, disk_format,
    /// container_format, tags, disable_vendor_agent, allow_duplicates, meta, wait, timeout,
    /// validate_checksum, use_import, stores, all_stores, all_stores_must_succeed, **kwargs)`.
    ///
    /// Returns a builder; `.await` it. Everything checkable is checked before the record is
    /// created; the data is hashed (md5, sha256, sha512) while it streams; if anything fails
    /// after the record exists, the record is deleted and the error says so; after upload the
    /// server's `checksum`/`os_hash_value` are compared with what was sent.
    pub fn create_image(&self, name: impl Into<String>) -> CreateImage {
        CreateImage {
            proxy: self.clone(),
            name: name.into(),
            filename: None,
            data: std::sync::Mutex::new(None),
            container: "images".into(),
            md5: None,
            sha256: None,
            disk_format: None,
            container_format: None,
            tags: Vec::new(),
            disable_vendor_agent: true,
            allow_duplicates: false,
            meta: BTreeMap::new(),
            properties: BTreeMap::new(),
            visibility: None,
            min_disk: None,
            min_ram: None,
            protected: false,
            os_hidden: false,
            wait: None,
            validate_checksum: false,
            use_import: false,
            selection: StoreSelection::default(),
            keep_on_mismatch: false,
            progress: None,
            digests: vec![Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512],
        }
    }
    /// `upload_image(container_format, disk_format, data, **attrs)`: creates an image and
    /// uploads `data` in one call (a [`CreateImage`] with data set; the name is required
    /// here, as `create_image`'s first argument).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::{ContainerFormat, DiskFormat};
    /// let img = image
    ///     .upload_image("tiny", ContainerFormat::Bare, DiskFormat::Raw, b"0123".to_vec())
    ///     .await?;
    /// # let _ = img; Ok(()) }
    /// ```
    pub fn upload_image(
        &self,
        name: impl Into<String>,
        container_format: crate::types::ContainerFormat,
        disk_format: crate::types::DiskFormat,
        data: impl Into<ImageData>,
    ) -> CreateImage {
        self.create_image(name)
            .container_format(container_format)
            .disk_format(disk_format)
            .data(data)
    }
}
