//! Glance's statuses and formats: `#[non_exhaustive]` enums with an `Unknown(String)` escape
//! that round-trips values this SDK does not know yet.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string enum with an `Unknown(String)` escape that round-trips.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this SDK does not know yet (kept as sent).
            Unknown(String),
        }

        impl $name {
            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}

string_enum! {
    /// An image's status.
    ImageStatus {
        /// Record exists, no data yet.
        Queued => "queued",
        /// Data being uploaded (legacy).
        Saving => "saving",
        /// Usable.
        Active => "active",
        /// Upload failed.
        Killed => "killed",
        /// Deleted.
        Deleted => "deleted",
        /// Data staged or being staged.
        Uploading => "uploading",
        /// Import in progress.
        Importing => "importing",
        /// Scheduled for deletion.
        PendingDelete => "pending_delete",
        /// Deactivated by an admin: data not downloadable by non-admins.
        Deactivated => "deactivated",
    }
}

#[allow(clippy::derivable_impls)] // the enum comes from a macro
impl Default for ImageStatus {
    fn default() -> Self {
        ImageStatus::Queued
    }
}

string_enum! {
    /// Who can see an image.
    Visibility {
        /// Everyone.
        Public => "public",
        /// The owner only.
        Private => "private",
        /// The owner and accepted members.
        Shared => "shared",
        /// Everyone, but not listed by default.
        Community => "community",
    }
}

#[allow(clippy::derivable_impls)] // the enum comes from a macro
impl Default for Visibility {
    fn default() -> Self {
        Visibility::Shared
    }
}

string_enum! {
    /// A disk format.
    DiskFormat {
        /// Amazon machine image.
        Ami => "ami",
        /// Amazon ramdisk.
        Ari => "ari",
        /// Amazon kernel.
        Aki => "aki",
        /// VHD.
        Vhd => "vhd",
        /// VHDX.
        Vhdx => "vhdx",
        /// VMDK.
        Vmdk => "vmdk",
        /// Raw.
        Raw => "raw",
        /// QCOW2.
        Qcow2 => "qcow2",
        /// VDI.
        Vdi => "vdi",
        /// ISO 9660.
        Iso => "iso",
        /// Virtuozzo ploop.
        Ploop => "ploop",
    }
}

string_enum! {
    /// A container format.
    ContainerFormat {
        /// Amazon machine image.
        Ami => "ami",
        /// Amazon ramdisk.
        Ari => "ari",
        /// Amazon kernel.
        Aki => "aki",
        /// No container.
        Bare => "bare",
        /// OVF.
        Ovf => "ovf",
        /// OVA.
        Ova => "ova",
        /// Docker tarball.
        Docker => "docker",
        /// Compressed.
        Compressed => "compressed",
    }
}

string_enum! {
    /// A member's status.
    MemberStatus {
        /// Shared, not yet answered.
        Pending => "pending",
        /// Accepted: the image shows in the member's lists.
        Accepted => "accepted",
        /// Rejected.
        Rejected => "rejected",
    }
}

string_enum! {
    /// A task's status.
    TaskStatus {
        /// Created.
        Pending => "pending",
        /// Running.
        Processing => "processing",
        /// Done.
        Success => "success",
        /// Failed.
        Failure => "failure",
    }
}
