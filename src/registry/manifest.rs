//! What travels as manifests: Docker's v2 schema 2 manifest and manifest list, OCI's image
//! manifest and index, read from a registry (media type from `Content-Type`, else from the
//! JSON), the platform chosen from a list, and the manifest skiff pushes (Docker's shape by
//! default, as Docker 20.10 pushes; OCI's for images that came as OCI).

use crate::error::{Error, Result};
use crate::spec::Digest;
use serde::{Deserialize, Serialize};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// The `Accept` header of a manifest request: every format skiff reads.
pub const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// A platform: `linux/amd64`, `linux/arm/v7`, `wasip1/wasm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// `os/arch[/variant]` as `--platform` takes it.
    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let bad = || Error::Other(format!("\"{s}\": unknown operating system or architecture: invalid argument"));
        if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        let arch = match parts[1].to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            "wasm32" => "wasm".to_string(),
            a => a.to_string(),
        };
        let os = match parts[0].to_ascii_lowercase().as_str() {
            "wasi" => "wasip1".to_string(),
            o => o.to_string(),
        };
        Ok(Platform { os, architecture: arch, variant: parts.get(2).map(|v| v.to_ascii_lowercase()) })
    }

    pub fn new(os: &str, arch: &str) -> Platform {
        Platform { os: os.into(), architecture: arch.into(), variant: None }
    }

    fn matches(&self, other: &Platform) -> bool {
        let os = |o: &str| if o == "wasi" { "wasip1".to_string() } else { o.to_string() };
        let arch = |a: &str| if a == "wasm32" { "wasm".to_string() } else { a.to_string() };
        os(&self.os) == os(&other.os)
            && arch(&self.architecture) == arch(&other.architecture)
            && (self.variant.is_none() || self.variant == other.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A descriptor as registries send them (with a platform in lists).
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteDescriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawManifest {
    #[serde(rename = "schemaVersion", default)]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<RemoteDescriptor>,
    #[serde(default)]
    layers: Option<Vec<RemoteDescriptor>>,
    #[serde(default)]
    manifests: Option<Vec<RemoteDescriptor>>,
}

/// A manifest fetched from a registry.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// An image: its config and layers (bottom first).
    Image { media_type: String, config: RemoteDescriptor, layers: Vec<RemoteDescriptor> },
    /// A manifest list / OCI index: one manifest per platform.
    List { media_type: String, manifests: Vec<RemoteDescriptor> },
}

/// Parse manifest bytes, `content_type` being the response's `Content-Type` (if any).
pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Fetched> {
    let ct = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .filter(|c| !c.is_empty() && c != "application/json" && c != "text/plain" && c != "application/octet-stream");
    if ct.as_deref() == Some(DOCKER_SCHEMA1)
        || ct.as_deref() == Some("application/vnd.docker.distribution.manifest.v1+json")
    {
        return Err(Error::Other(
            "unsupported manifest format: Docker image manifest v2 schema 1 (deprecated; push the image again with a newer client)"
                .into(),
        ));
    }
    let raw: RawManifest = serde_json::from_slice(bytes).map_err(|e| Error::Other(format!("invalid manifest: {e}")))?;
    if raw.schema_version == 1 {
        return Err(Error::Other("unsupported manifest format: Docker image manifest v2 schema 1".into()));
    }
    let media_type = ct
        .or(raw.media_type.clone())
        .unwrap_or_else(|| if raw.manifests.is_some() { OCI_INDEX } else { OCI_MANIFEST }.to_string());
    match media_type.as_str() {
        DOCKER_LIST | OCI_INDEX => Ok(Fetched::List {
            media_type,
            manifests: raw.manifests.ok_or_else(|| Error::Other("invalid manifest list: no manifests".into()))?,
        }),
        DOCKER_MANIFEST | OCI_MANIFEST => Ok(Fetched::Image {
            media_type,
            config: raw.config.ok_or_else(|| Error::Other("invalid manifest: no config".into()))?,
            layers: raw.layers.unwrap_or_default(),
        }),
        other => Err(Error::Other(format!("unsupported manifest media type {other}"))),
    }
}

/// The platform skiff pulls when none is asked for: `linux/<host arch>` on Linux if the
/// list has it (the native backend runs it), else `wasip1/wasm` (the WASI backend).
pub fn default_platforms() -> Vec<Platform> {
    let mut out = Vec::new();
    if cfg!(target_os = "linux") {
        out.push(Platform::new("linux", crate::runtime::host_arch()));
    }
    out.push(Platform::new(crate::builtin::PLATFORM.0, crate::builtin::PLATFORM.1));
    out
}

/// Choose the manifest of a list for `wanted` (in order of preference). Docker's message
/// when none fits.
pub fn select<'a>(manifests: &'a [RemoteDescriptor], wanted: &[Platform]) -> Result<&'a RemoteDescriptor> {
    for w in wanted {
        // An exact variant first, then any variant of the same os/arch.
        let exact = manifests.iter().find(|m| m.platform.as_ref().is_some_and(|p| w.variant.is_some() && p == w));
        if let Some(m) = exact {
            return Ok(m);
        }
        if let Some(m) = manifests.iter().find(|m| m.platform.as_ref().is_some_and(|p| w.matches(p))) {
            return Ok(m);
        }
    }
    let first = wanted.first().map(|p| p.to_string()).unwrap_or_default();
    Err(Error::Other(format!("no matching manifest for {first} in the manifest list entries")))
}

/// The manifest skiff pushes, in Docker's shape (`json.MarshalIndent` with three spaces, as
/// Docker writes it) or OCI's: the same image gives the same bytes, so the same digest, on
/// every machine.
pub fn push_manifest(oci: bool, config: (&Digest, u64), layers: &[(Digest, u64)]) -> Vec<u8> {
    use serde_json::json;
    let (mt, config_mt, layer_mt) = if oci {
        (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP)
    } else {
        (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP)
    };
    // Docker's Go struct orders a descriptor mediaType, size, digest; OCI's mediaType, digest, size.
    let desc = |m: &str, d: &Digest, s: u64| {
        if oci {
            json!({"mediaType": m, "digest": d.to_string(), "size": s})
        } else {
            json!({"mediaType": m, "size": s, "digest": d.to_string()})
        }
    };
    let v = json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": desc(config_mt, config.0, config.1),
        "layers": layers.iter().map(|(d, s)| desc(layer_mt, d, *s)).collect::<Vec<_>>(),
    });
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"   "));
    v.serialize(&mut ser).expect("JSON serialises");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn list() -> Vec<RemoteDescriptor> {
        let text = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[
            {{"mediaType":"{DOCKER_MANIFEST}","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"{DOCKER_MANIFEST}","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v6"}}}},
            {{"mediaType":"{DOCKER_MANIFEST}","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,"platform":{{"os":"wasip1","architecture":"wasm"}}}}]}}"#,
            d('a'),
            d('b'),
            d('c'),
            d('e')
        );
        match parse(text.as_bytes(), None).unwrap() {
            Fetched::List { manifests, media_type } => {
                assert_eq!(media_type, DOCKER_LIST);
                manifests
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn selects_platforms() {
        let l = list();
        let pick = |p: &[&str]| {
            let want: Vec<Platform> = p.iter().map(|s| Platform::parse(s).unwrap()).collect();
            select(&l, &want).map(|m| m.digest.to_string())
        };
        assert_eq!(pick(&["linux/amd64"]).unwrap(), d('a'));
        assert_eq!(pick(&["linux/x86_64"]).unwrap(), d('a'));
        assert_eq!(pick(&["linux/arm/v7"]).unwrap(), d('c'));
        assert_eq!(pick(&["linux/arm"]).unwrap(), d('b'), "no variant asked: the first of that arch");
        assert_eq!(pick(&["wasi/wasm32"]).unwrap(), d('e'));
        assert_eq!(pick(&["linux/riscv64", "wasip1/wasm"]).unwrap(), d('e'), "falls back in order");
        assert_eq!(
            pick(&["linux/s390x"]).unwrap_err().to_string(),
            "no matching manifest for linux/s390x in the manifest list entries"
        );
        assert!(Platform::parse("linux").is_err());
        let defaults = default_platforms();
        assert_eq!(defaults.last().unwrap().to_string(), "wasip1/wasm");
    }

    #[test]
    fn reads_each_manifest_kind() {
        let m = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{OCI_CONFIG}","digest":"{}","size":7}},"layers":[{{"mediaType":"{OCI_LAYER_GZIP}","digest":"{}","size":9}}]}}"#,
            d('a'),
            d('b')
        );
        // No mediaType field and no Content-Type: OCI, from the shape.
        match parse(m.as_bytes(), None).unwrap() {
            Fetched::Image { media_type, config, layers } => {
                assert_eq!(media_type, OCI_MANIFEST);
                assert_eq!((config.size, layers.len()), (7, 1));
            }
            other => panic!("{other:?}"),
        }
        // The Content-Type wins over the shape.
        assert!(
            matches!(parse(m.as_bytes(), Some(DOCKER_MANIFEST)).unwrap(), Fetched::Image { media_type, .. } if media_type == DOCKER_MANIFEST)
        );
        assert!(parse(br#"{"schemaVersion":1,"name":"x"}"#, None).unwrap_err().to_string().contains("schema 1"));
        assert!(parse(b"{}", Some(DOCKER_SCHEMA1)).is_err());
    }

    #[test]
    fn push_manifests_are_docker_shaped_and_stable() {
        let cfg = Digest::of(b"config");
        let layer = Digest::of(b"layer");
        let m = push_manifest(false, (&cfg, 6), &[(layer.clone(), 5)]);
        let text = String::from_utf8(m.clone()).unwrap();
        assert!(text.starts_with("{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n   \"config\": {\n      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n      \"size\": 6,\n"), "{text}");
        assert!(!text.ends_with('\n'));
        assert_eq!(m, push_manifest(false, (&cfg, 6), &[(layer.clone(), 5)]));
        match parse(&m, None).unwrap() {
            Fetched::Image { media_type, layers, .. } => {
                assert_eq!(media_type, DOCKER_MANIFEST);
                assert_eq!(layers[0].media_type, DOCKER_LAYER_GZIP);
            }
            other => panic!("{other:?}"),
        }
        let oci = push_manifest(true, (&cfg, 6), &[(layer, 5)]);
        assert!(matches!(parse(&oci, None).unwrap(), Fetched::Image { media_type, .. } if media_type == OCI_MANIFEST));
    }
}
