//! What an awaited `create_image` does: validate everything it can before anything
//! exists, create the record, stream the data with digests in flight, clean up on failure,
//! wait, and compare the server's checksums with what was sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use openstack_auth::{Cleanup, Error, Result};
use openstack_resource::{Api, Query, WaitOptions};
use openstack_transfer::{Algorithm, Digests, UploadOptions, digest_hex};
use serde_json::Value;

use super::CreateImage;
use super::CreatedImage;
use super::guard::{PendingCreate, RecordGuard, delete_patiently};
use crate::check::check_image_property;
use crate::error::transfer_error;
use crate::import::ImportMethod;
use crate::types::{ContainerFormat, DiskFormat, Image, ImageCreate, ImageStatus};
use crate::upload::{FileSource, ImageData, PreparedUpload, open_file_span};

const MD5_KEY: &str = "owner_specified.openstack.md5";
const SHA256_KEY: &str = "owner_specified.openstack.sha256";
const OBJECT_KEY: &str = "owner_specified.openstack.object";

impl CreateImage {
    /// How to wait: as asked, else (for `validate_checksum`) with the default options.
    fn wait_options(&self) -> Option<WaitOptions> {
        self.wait.clone().or_else(|| self.validate_checksum.then(WaitOptions::default))
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
        if let Some(id) = &self.id {
            if uuid::Uuid::try_parse(id).is_err() {
                return Err(Error::InvalidArgument(format!(
                    "image id {id:?} is not a UUID (Glance accepts only UUIDs, e.g. {})",
                    uuid::Uuid::new_v4()
                )));
            }
        }
        // A file that is missing, unreadable or not a regular file is refused when the upload
        // is prepared (`prepare_upload`, one open), still before the record exists.
        if self.container_format.is_none() {
            self.container_format = Some(ContainerFormat::Bare);
        }
        self.inspect_data().await?;
        if self.disk_format.is_none() {
            let by_ext = self
                .filename
                .as_ref()
                .and_then(|f| f.extension())
                .map(|e| DiskFormat::from(e.to_string_lossy().to_ascii_lowercase().as_str()))
                .filter(|f| !matches!(f, DiskFormat::Unknown(_)));
            self.disk_format = Some(by_ext.unwrap_or(DiskFormat::Qcow2));
        }
        let proxy = self.proxy.clone();
        let schema = proxy.cached_image_schema().await?;
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
            crate::images::check_tag(tag)?;
        }
        let refuse = |why: String| Err(Error::InvalidArgument(why));
        if let Err(why) = schema.check("name", &Value::String(self.name.clone())) {
            return refuse(why);
        }
        for (key, value) in self.properties.iter().chain(&self.meta) {
            if let Err(why) = check_image_property(schema, key, value) {
                return refuse(why);
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

    /// Inspects the data (when asked, and for `bare` images: the only ones Glance inspects),
    /// refusing what Glance would refuse after the upload, and sets an unset `disk_format` to
    /// the detected one. A reader or stream comes back with its first bytes replayed.
    async fn inspect_data(&mut self) -> Result<()> {
        if !self.inspect || self.container_format != Some(ContainerFormat::Bare) {
            return Ok(());
        }
        let (data, source) = match (&self.filename, self.data.get_mut().ok().and_then(Option::take))
        {
            (Some(path), _) => (ImageData::Path(path.clone()), path.display().to_string()),
            (None, Some(data)) => {
                let source = crate::inspect::describe(&data);
                (data, source)
            }
            (None, None) => return Ok(()),
        };
        let (data, found) = crate::inspect::inspect_data(data).await?;
        if self.filename.is_none() {
            self.data = std::sync::Mutex::new(Some(data));
        }
        self.disk_format = Some(crate::inspect::judge(self.disk_format.as_ref(), found, &source)?);
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

    pub(super) async fn run(mut self) -> Result<CreatedImage> {
        self.validate().await?;
        if !self.allow_duplicates {
            if let Some(existing) = self.find_duplicate().await? {
                tracing::info!(image = %existing.id, "an identical image with this name exists; returning it");
                return Ok(CreatedImage { image: existing, reused: true });
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
            // The id is chosen here, so the POST can be repeated safely when its answer is
            // lost (a timeout, a broken connection): Glance refuses a second record with it.
            id: Some(self.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())),
        };
        // The POST runs in a task of its own: if this future is dropped while the POST is in
        // flight, the record Glance creates anyway is deleted when the answer arrives.
        let created = PendingCreate::start(&self.proxy, body).finish().await?;
        let Some(upload) = upload else {
            return Ok(CreatedImage { image: created, reused: false });
        };
        // From here until the image is complete (or its fate decided), dropping this future
        // deletes the record in a task of its own: nothing half-made is left behind.
        let mut guard = RecordGuard::new(&self.proxy, &created.id);
        match self.upload_and_verify(&created, upload).await {
            Ok(image) => {
                guard.disarm();
                Ok(CreatedImage { image, reused: false })
            }
            Err((err, keep)) => {
                let what = format!("image {}", created.id);
                let cleanup = if keep {
                    Cleanup::kept(what)
                } else {
                    delete_patiently(&self.proxy, &created.id).await
                };
                guard.disarm();
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
            [(&self.md5, &md5, Algorithm::Md5), (&self.sha256, &sha256, Algorithm::Sha256)]
        {
            if let (Some(c), Some(actual)) = (claimed, actual) {
                if c != actual {
                    return Err((
                        Error::ChecksumMismatch {
                            algorithm,
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
                .wait(options)
                .await
                .map_err(fail)?;
        }
        if image.status == ImageStatus::Active {
            verify_server_digests(
                &image,
                &digests,
                &self.compared_digests(),
                self.validate_checksum,
            )
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
fn verify_server_digests(
    image: &Image,
    digests: &Digests,
    asked: &[Algorithm],
    require: bool,
) -> Result<()> {
    let mut compared = false;
    let ours = |a: Algorithm| asked.contains(&a).then(|| digests.get(a)).flatten();
    if let Some(server_md5) = &image.checksum {
        if let Some(ours) = ours(Algorithm::Md5) {
            compared = true;
            if !server_md5.eq_ignore_ascii_case(ours) {
                return Err(Error::ChecksumMismatch {
                    algorithm: Algorithm::Md5,
                    expected: ours.into(),
                    actual: server_md5.clone(),
                });
            }
        }
    }
    if let (Some(algo), Some(value)) = (&image.os_hash_algo, &image.os_hash_value) {
        let known = algo.parse::<Algorithm>().ok();
        if let Some((algorithm, ours)) = known.and_then(|a| Some((a, ours(a)?))) {
            compared = true;
            if !value.eq_ignore_ascii_case(ours) {
                return Err(Error::ChecksumMismatch {
                    algorithm,
                    expected: ours.into(),
                    actual: value.clone(),
                });
            }
        }
    }
    if require && !compared {
        let ours: Vec<&str> = asked.iter().map(|a| a.as_str()).collect();
        return Err(Error::InvalidArgument(format!(
            "validate_checksum: nothing to compare for image {}: it reports checksum {:?} and \
             os_hash_algo {:?}, the digests to verify are [{}]",
            image.id,
            image.checksum,
            image.os_hash_algo,
            ours.join(", ")
        )));
    }
    Ok(())
}
