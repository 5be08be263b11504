//! `create_image` / `upload_image`: the builder. What it does when awaited (validate,
//! create the record, stream the data with digests in flight, clean up on failure, wait,
//! verify the server's checksums) is in `run`.

mod guard;
mod run;

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::path::{Path, PathBuf};

use openstack_auth::Result;
use openstack_resource::WaitOptions;
use openstack_transfer::{Algorithm, Progress};
use serde_json::Value;

use crate::call::Call;
use crate::import::StoreSelection;
use crate::proxy::ImageProxy;
use crate::types::{ContainerFormat, DiskFormat, Image, Visibility};
use crate::upload::ImageData;

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
    id: Option<String>,
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
    inspect: bool,
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
    /// `id=`: the new image's id, a UUID (default: a random one chosen here). Checked before
    /// anything is sent; an id already taken is Glance's [`openstack_auth::Error::Conflict`].
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
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
    /// `disk_format=`. Left unset, it is **detected** from the content (see
    /// [`CreateImage::inspect`]): `raw` for a raw or partitioned disk, otherwise the format
    /// found. openstacksdk defaults to `qcow2` (its `image_format` setting) and
    /// openstackclient to `raw`, whatever the data; without data, or with inspection off,
    /// the default here is theirs: the file's extension when it names a format, else
    /// `qcow2`. Declared, it is checked against the content.
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
    /// `allow_duplicates=` (default false, as in openstacksdk): when false, an active image
    /// with the same name and the same data (by `owner_specified.openstack.md5`/`sha256`) is
    /// returned instead of a new one, and [`CreatedImage::reused`] says so. Data that cannot
    /// be read twice (a reader, a stream) is never compared: a new image is made.
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
    /// Which digests to verify (default md5, sha256 and sha512): computed while the data
    /// streams, and after the upload each one the server also reports is compared
    /// (`checksum` is md5, `os_hash_value` is by `os_hash_algo`, sha512 unless the cloud chose
    /// otherwise). Whenever anything is hashed, md5 and sha256 are computed too and recorded
    /// as `owner_specified.openstack.{md5,sha256}` for deduplication, as openstacksdk does.
    /// `&[]` hashes nothing, as openstacksdk does by default: no client CPU spent, nothing
    /// verified (`validate_checksum(true)` then fails before anything is created). A digest
    /// claimed with [`CreateImage::md5`] / [`CreateImage::sha256`] is always computed.
    pub fn digests(mut self, algorithms: &[Algorithm]) -> Self {
        self.digests = algorithms.to_vec();
        self
    }

    /// The digests compared with the server's: those asked for plus those the caller claims.
    fn compared_digests(&self) -> Vec<Algorithm> {
        let mut algorithms = self.digests.clone();
        for (claimed, a) in [(&self.md5, Algorithm::Md5), (&self.sha256, Algorithm::Sha256)] {
            if claimed.is_some() && !algorithms.contains(&a) {
                algorithms.push(a);
            }
        }
        algorithms
    }

    /// The digests computed in flight: the compared ones, plus md5 and sha256 (recorded for
    /// deduplication, as openstacksdk records both) whenever anything is hashed at all.
    fn upload_digests(&self) -> Vec<Algorithm> {
        let mut algorithms = self.compared_digests();
        if !algorithms.is_empty() {
            for a in [Algorithm::Md5, Algorithm::Sha256] {
                if !algorithms.contains(&a) {
                    algorithms.push(a);
                }
            }
        }
        algorithms
    }

    /// `use_import=`: upload with stage + glance-direct import instead of `PUT /file`.
    pub fn use_import(mut self, v: bool) -> Self {
        self.use_import = v;
        self
    }
    crate::import::store_setters!(" (implies `use_import`)");
    /// Keep the image when its checksum does not match (default: delete it).
    pub fn keep_on_mismatch(mut self, keep: bool) -> Self {
        self.keep_on_mismatch = keep;
        self
    }
    /// Whether to inspect the data before anything is created (default true, for
    /// `container_format` `bare`, the only one Glance inspects).
    ///
    /// Inspection reads the first 4 MiB and the last 1536 bytes of a file or bytes, or the
    /// first 4 MiB of a reader or stream (held and then sent, so nothing is read twice), and
    /// runs the checks Glance runs after an upload (`openstack_diskformat`): the format, and
    /// for qcow2 a backing file, an external data file, unknown features; for VMDK the
    /// create type and extents naming other files, and a streamOptimized footer (not for a
    /// reader or stream: it is at the end); for VHDX its region tables; for a partitioned
    /// disk its MBR. Content Glance would refuse ([`glance_verdict`]), and content of another
    /// format labelled `raw` (which Glance accepts with a warning, and which would boot as
    /// garbage), fail with [`openstack_auth::Error::ImageFormat`] before the record is
    /// created. An unset `disk_format` becomes the detected one.
    ///
    /// Turn it off for formats this inspection does not know (Glance then has the last word
    /// after the upload), or to send mislabelled data on purpose.
    ///
    /// [`glance_verdict`]: crate::glance_verdict
    pub fn inspect(mut self, inspect: bool) -> Self {
        self.inspect = inspect;
        self
    }
    /// Reports upload progress.
    pub fn progress(mut self, p: Progress) -> Self {
        self.progress = Some(p);
        self
    }
}

impl IntoFuture for CreateImage {
    type Output = Result<CreatedImage>;
    type IntoFuture = Call<CreatedImage>;
    fn into_future(self) -> Call<CreatedImage> {
        Call::new(self.run())
    }
}

/// What `create_image` gave: the image, and whether it is an existing one that was reused
/// (`allow_duplicates(false)`, the default, returns an image of the same name and data
/// instead of making another). It reads as the [`Image`] itself (`created.id`,
/// `&created` where an image is taken); [`CreatedImage::into_image`] unwraps it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreatedImage {
    /// The image, as Glance last reported it.
    pub image: Image,
    /// True when no image was created: an identical one (same name, same md5 and sha256,
    /// active) already existed and is returned.
    pub reused: bool,
}

impl CreatedImage {
    /// The image.
    pub fn into_image(self) -> Image {
        self.image
    }
}

impl std::ops::Deref for CreatedImage {
    type Target = Image;
    fn deref(&self) -> &Image {
        &self.image
    }
}

impl From<CreatedImage> for Image {
    fn from(c: CreatedImage) -> Image {
        c.image
    }
}

impl crate::id_ref::IdRef for CreatedImage {
    fn id_ref(&self) -> &str {
        &self.image.id
    }
}

impl ImageProxy {
    /// `create_image(name, filename, data, container, md5, sha256, disk_format,
    /// container_format, tags, disable_vendor_agent, allow_duplicates, meta, wait, timeout,
    /// validate_checksum, use_import, stores, all_stores, all_stores_must_succeed, **kwargs)`.
    ///
    /// Returns a builder; `.await` it for a [`CreatedImage`] (reads as the image). By
    /// default (`allow_duplicates(false)`, as openstacksdk) an existing image with the same
    /// name and data is returned instead of a new one: [`CreatedImage::reused`] is then true
    /// and nothing was uploaded. Everything checkable is checked before the record is
    /// created; the data is hashed (md5, sha256, sha512) while it streams; if anything fails
    /// after the record exists, the record is deleted and the error says so; after upload the
    /// server's `checksum`/`os_hash_value` are compared with what was sent.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::{DiskFormat, WaitOptions};
    /// let img = image
    ///     .create_image("cirros")
    ///     .filename("cirros.qcow2")
    ///     .disk_format(DiskFormat::Qcow2)
    ///     .wait(WaitOptions::default())
    ///     .await?;
    /// # let _ = img; Ok(()) }
    /// ```
    ///
    /// Exactly one record: its id is chosen by the SDK, so a `POST` whose answer is lost (a
    /// timeout, a broken connection) is sent again safely, and Glance's 409 for that id
    /// means the first one made it.
    ///
    /// Cancellation: dropping the future leaves nothing behind at any point. The `POST` runs
    /// in a task of its own: dropped while it is in flight, the record Glance makes anyway is
    /// deleted when its answer arrives; after the record exists (and until the image is
    /// complete), it is deleted by a task spawned on the current runtime. Both are best
    /// effort, logged with `tracing` when they fail.
    ///
    /// # Errors
    /// [`openstack_auth::Error::InvalidArgument`] / [`openstack_auth::Error::Io`] before
    /// anything is created; after the record exists, the failure wrapped in
    /// [`openstack_auth::Error::CleanedUp`] saying what became of it ([`Error::kind`] gives the
    /// failure to match on).
    ///
    /// [`Error::kind`]: openstack_auth::Error::kind
    pub fn create_image(&self, name: impl Into<String>) -> CreateImage {
        CreateImage {
            proxy: self.clone(),
            name: name.into(),
            id: None,
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
            inspect: true,
        }
    }
    /// `upload_image(container_format=None, disk_format=None, data, **attrs)`: creates an
    /// image and uploads `data` in one call. It is [`ImageProxy::create_image`] with the data
    /// set, so every option is a setter (formats default as there: the disk format from the
    /// file's extension, else `qcow2`; the container format `bare`).
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::{ContainerFormat, DiskFormat};
    /// let img = image
    ///     .upload_image("tiny", b"0123".to_vec())
    ///     .container_format(ContainerFormat::Bare)
    ///     .disk_format(DiskFormat::Raw)
    ///     .await?;
    /// # let _ = img; Ok(()) }
    /// ```
    pub fn upload_image(&self, name: impl Into<String>, data: impl Into<ImageData>) -> CreateImage {
        self.create_image(name).data(data)
    }
}
