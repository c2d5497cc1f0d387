//! Descriptors, the image manifest and the image index (`index.json`).

use super::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A pointer to content: its media type, digest and size.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Descriptor {
        Descriptor { media_type: media_type.to_string(), digest, size, annotations: BTreeMap::new() }
    }
}

/// An image manifest: one config and the layers, bottom first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `index.json` of an OCI layout: the manifests, each with its tag annotation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

impl Default for ImageIndex {
    fn default() -> Self {
        ImageIndex { schema_version: 2, media_type: Some(super::MEDIA_TYPE_INDEX.into()), manifests: vec![] }
    }
}
