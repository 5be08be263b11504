//! [`IdRef`]: what names a resource in a URL (a leaf module: everything may use it).

/// Something that names a resource: an id string, or the resource itself.
///
/// Every call taking an image accepts `"id"`, `String`, or `&Image` (openstacksdk's
/// "the value can be the ID of an image or an Image instance"); the id is what goes into the
/// URL, never a text form of the object.
pub trait IdRef {
    /// The id (or, for metadefs, the name) used in URLs.
    fn id_ref(&self) -> &str;
}

impl IdRef for str {
    fn id_ref(&self) -> &str {
        self
    }
}
impl IdRef for String {
    fn id_ref(&self) -> &str {
        self
    }
}
impl<T: IdRef + ?Sized> IdRef for &T {
    fn id_ref(&self) -> &str {
        (**self).id_ref()
    }
}

/// Implements [`IdRef`] for resources by one of their fields.
macro_rules! id_ref {
    ($($ty:ty => $field:ident),+ $(,)?) => {
        $(impl $crate::id_ref::IdRef for $ty {
            fn id_ref(&self) -> &str {
                &self.$field
            }
        })+
    };
}
pub(crate) use id_ref;
