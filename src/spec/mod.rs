//! OCI / Docker JSON types: digests, descriptors, manifests, the image index and the image config.
//!
//! Plain serde types rather than the `oci-spec` crate, for two reasons: IDs are hashes of these
//! bytes, so every map must serialise in a stable order (oci-spec uses `HashMap` for
//! annotations and labels), and Docker's image config carries fields OCI lacks (`Healthcheck`,
//! `OnBuild`, `Shell`, `ArgsEscaped`) that `skiff build` writes. Unknown fields of a loaded
//! config are kept (`extra`), and loaded configs are never re-serialised: their bytes are stored
//! as they came, so their IDs do not change.

mod config;
mod digest;
mod manifest;

pub use config::{ContainerConfig, History, ImageConfig, RootFs};
pub use digest::{Digest, HashingWriter};
pub use manifest::{Descriptor, ImageIndex, Manifest};

pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MEDIA_TYPE_DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const MEDIA_TYPE_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The annotation holding an image's full reference in `index.json` (read by skopeo, umoci).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's annotation for the full image name.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// Serialise `value` as compact JSON (the bytes that get hashed).
pub fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("spec types always serialise")
}
