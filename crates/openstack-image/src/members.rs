//! Image members: sharing an image with other projects. Every call takes the image first,
//! then the member.

use http::Method;
use openstack_auth::Error;
use openstack_resource::{PreparedRequest, Query, encode_segment};
use serde_json::json;

use crate::call::{Built, Call, Items, json};
use crate::id_ref::IdRef;
use crate::proxy::ImageProxy;
use crate::types::MemberStatus;
use openstack_resource::{Create, Delete, Get, List, Resource};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A member of a shared image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The member project's id.
    pub member_id: String,
    /// The image.
    pub image_id: String,
    /// Status.
    pub status: MemberStatus,
    /// Creation time.
    #[serde(default)]
    pub created_at: String,
    /// Last update.
    #[serde(default)]
    pub updated_at: String,
    /// Its schema.
    #[serde(default)]
    pub schema: String,
    /// Fields this SDK does not know yet (kept, and sent back as they came).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Resource for Member {
    const SERVICE_TYPE: &'static str = "image";
    const KIND: &'static str = "member";
    const RESOURCE_KEY: Option<&'static str> = None;
    const LIST_KEY: &'static str = "members";
    const NAME_FILTER: Option<&'static str> = None;
    const READ_ONLY: &'static [&'static str] =
        &["member_id", "image_id", "created_at", "updated_at", "schema"];
    type Parent = String;
    fn base_path(image_id: &String) -> String {
        format!("/v2/images/{}/members", encode_segment(image_id))
    }
    fn id(&self) -> &str {
        &self.member_id
    }
}
impl Get for Member {}
impl List for Member {}
impl Delete for Member {}
impl Create for Member {
    type Create = Value;
}
crate::id_ref::id_ref!(Member => member_id);

/// `PUT /v2/images/{image}/members/{member}` with the new status.
pub(crate) fn update_request(image: &str, member: &str, status: &MemberStatus) -> Built {
    Built::new(
        "update_member",
        PreparedRequest::new(
            Method::PUT,
            format!("/v2/images/{}/members/{}", encode_segment(image), encode_segment(member)),
        )
        .with_json(json!({ "status": status.as_str() })),
    )
}

impl ImageProxy {
    /// `add_member(image, member=project_id)`: shares an image with a project.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let m = image.add_member("5cfaff86-…", "project-id").await?;
    /// # let _ = m; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Server errors (e.g. 403 for a public image, 409 when already a member).
    pub fn add_member(&self, image: impl IdRef, member: impl IdRef) -> Call<Member> {
        self.create_one::<Member>(image.id_ref().to_string(), json!({ "member": member.id_ref() }))
    }

    /// `remove_member(member, image, ignore_missing=False)`, image first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// image.remove_member("5cfaff86-…", "project-id").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] when the project is not a member.
    pub fn remove_member(&self, image: impl IdRef, member: impl IdRef) -> Call<()> {
        self.delete_one::<Member>(image.id_ref().to_string(), member)
    }

    /// `remove_member(member, image, ignore_missing=True)`: `None` when it was no member.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let removed = image.remove_member_opt("5cfaff86-…", "project-id").await?.is_some();
    /// # let _ = removed; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn remove_member_opt(&self, image: impl IdRef, member: impl IdRef) -> Call<Option<()>> {
        self.delete_one_opt::<Member>(image.id_ref().to_string(), member)
    }

    /// `get_member(member, image)`, image first.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let m = image.get_member("5cfaff86-…", "project-id").await?;
    /// # let _ = m; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn get_member(&self, image: impl IdRef, member: impl IdRef) -> Call<Member> {
        self.get_one::<Member>(image.id_ref().to_string(), member)
    }

    /// [`ImageProxy::get_member`], `None` when the project is not a member of the image.
    ///
    /// # Errors
    /// As [`ImageProxy::get_member`], but for not-found.
    pub fn get_member_opt(&self, image: impl IdRef, member: impl IdRef) -> Call<Option<Member>> {
        self.get_one_opt::<Member>(image.id_ref().to_string(), member)
    }

    /// `find_member(name_or_id, image, ignore_missing=False)`, image first: members have no
    /// names, so by id.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let m = image.find_member("5cfaff86-…", "project-id").await?;
    /// # let _ = m; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ResourceNotFound`] when the project is not a member.
    pub fn find_member(&self, image: impl IdRef, member: impl IdRef) -> Call<Member> {
        // A member is found by its id only: the same request, and the same 404 kind
        // (`Error::NotFound`), as `get_member`.
        self.get_member(image, member)
    }

    /// `find_member(name_or_id, image, ignore_missing=True)`: `None` when not a member.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// let maybe = image.find_member_opt("5cfaff86-…", "project-id").await?;
    /// # let _ = maybe; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Errors other than not-found.
    pub fn find_member_opt(&self, image: impl IdRef, member: impl IdRef) -> Call<Option<Member>> {
        let api = self.api::<Member>(image.id_ref().to_string());
        let member = member.id_ref().to_string();
        Call::new(async move { api.get_opt(&member).await })
    }

    /// `members(image, **query)`: the image's members, as a stream.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let members: Vec<_> = image.members("5cfaff86-…").try_collect().await?;
    /// # let _ = members; Ok(()) }
    /// ```
    pub fn members(&self, image: impl IdRef) -> Items<Member> {
        self.list_all::<Member>(image.id_ref().to_string(), &Query::new())
    }

    /// `update_member(member, image, status=...)`, image first: the member project accepts
    /// or rejects the share.
    ///
    /// ```no_run
    /// # async fn demo(image: openstack_image::ImageProxy) -> openstack_auth::Result<()> {
    /// use openstack_image::MemberStatus;
    /// image.update_member("5cfaff86-…", "my-project-id", MemberStatus::Accepted).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a status Glance does not know (nothing sent); server
    /// errors (only the member project may change its status).
    pub fn update_member(
        &self,
        image: impl IdRef,
        member: impl IdRef,
        status: MemberStatus,
    ) -> Call<Member> {
        let built = match status {
            MemberStatus::Unknown(s) => Err(Error::InvalidArgument(format!(
                "member status {s:?} is not one of pending, accepted, rejected"
            ))),
            status => Ok(update_request(image.id_ref(), member.id_ref(), &status)),
        };
        self.call(built, json("update_member"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_member_request() {
        let b = update_request("img 1", "proj/2", &MemberStatus::Rejected);
        assert_eq!(b.http.method, Method::PUT);
        assert_eq!(b.http.path, "/v2/images/img%201/members/proj%2F2");
        assert_eq!(b.http.json, Some(json!({"status": "rejected"})));
    }
}
