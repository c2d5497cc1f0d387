//! The registry's error codes (`registry/api/errcode` and `registry/api/v2` of distribution
//! 2.8) and the JSON they travel in: `{"errors":[{"code":…,"message":…,"detail":…}]}`.

use serde_json::Value;

#[allow(dead_code)] // the whole vocabulary of 2.8, used or not
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unknown,
    Unsupported,
    Denied,
    DigestInvalid,
    SizeInvalid,
    NameInvalid,
    TagInvalid,
    NameUnknown,
    ManifestUnknown,
    ManifestInvalid,
    ManifestBlobUnknown,
    BlobUnknown,
    BlobUploadUnknown,
    BlobUploadInvalid,
    PaginationNumberInvalid,
}

impl Code {
    /// `MANIFEST_UNKNOWN`.
    pub fn value(self) -> &'static str {
        match self {
            Code::Unknown => "UNKNOWN",
            Code::Unsupported => "UNSUPPORTED",
            Code::Denied => "DENIED",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::SizeInvalid => "SIZE_INVALID",
            Code::NameInvalid => "NAME_INVALID",
            Code::TagInvalid => "TAG_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID",
        }
    }

    /// The default message.
    pub fn message(self) -> &'static str {
        match self {
            Code::Unknown => "unknown error",
            Code::Unsupported => "The operation is unsupported.",
            Code::Denied => "requested access to the resource is denied",
            Code::DigestInvalid => "provided digest did not match uploaded content",
            Code::SizeInvalid => "provided length did not match content length",
            Code::NameInvalid => "invalid repository name",
            Code::TagInvalid => "manifest tag did not match URI",
            Code::NameUnknown => "repository name not known to registry",
            Code::ManifestUnknown => "manifest unknown",
            Code::ManifestInvalid => "manifest invalid",
            Code::ManifestBlobUnknown => "blob unknown to registry",
            Code::BlobUnknown => "blob unknown to registry",
            Code::BlobUploadUnknown => "blob upload unknown to registry",
            Code::BlobUploadInvalid => "blob upload invalid",
            Code::PaginationNumberInvalid => "invalid number of results requested",
        }
    }

    /// The HTTP status the error is answered with (as in 2.8, where BLOB_UPLOAD_INVALID is a
    /// 404).
    pub fn status(self) -> u16 {
        match self {
            Code::Unknown => 500,
            Code::Unsupported => 405,
            Code::Denied => 403,
            Code::DigestInvalid | Code::SizeInvalid | Code::NameInvalid | Code::TagInvalid => 400,
            Code::ManifestInvalid | Code::ManifestBlobUnknown | Code::PaginationNumberInvalid => 400,
            Code::NameUnknown
            | Code::ManifestUnknown
            | Code::BlobUnknown
            | Code::BlobUploadUnknown
            | Code::BlobUploadInvalid => 404,
        }
    }

    /// What the log's `err.code` shows: `manifest unknown`.
    pub fn log_name(self) -> String {
        self.value().to_ascii_lowercase().replace('_', " ")
    }
}

/// One error of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: Code,
    pub message: Option<String>,
    pub detail: Option<Value>,
}

impl ApiError {
    pub fn new(code: Code) -> ApiError {
        ApiError { code, message: None, detail: None }
    }

    pub fn detail(code: Code, detail: impl Into<Value>) -> ApiError {
        ApiError { code, message: None, detail: Some(detail.into()) }
    }

    pub fn with_message(mut self, m: impl Into<String>) -> ApiError {
        self.message = Some(m.into());
        self
    }

    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or(self.code.message())
    }
}

/// The JSON body (with the newline Go's encoder ends it with).
pub fn body(errors: &[ApiError]) -> Vec<u8> {
    // Written by hand to keep Go's field order (code, message, detail).
    let mut v = b"{\"errors\":[".to_vec();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            v.push(b',');
        }
        v.extend_from_slice(b"{\"code\":");
        v.extend_from_slice(&json_string(e.code.value()));
        v.extend_from_slice(b",\"message\":");
        v.extend_from_slice(&json_string(e.message()));
        if let Some(d) = &e.detail {
            v.extend_from_slice(b",\"detail\":");
            v.extend_from_slice(&serde_json::to_vec(d).unwrap_or_default());
        }
        v.push(b'}');
    }
    v.extend_from_slice(b"]}\n");
    v
}

fn json_string(s: &str) -> Vec<u8> {
    serde_json::to_vec(&Value::from(s)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shape() {
        let b = body(&[ApiError::detail(Code::ManifestUnknown, json!({"Tag": "latest"}))]);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"latest\"}}]}\n"
        );
        let b = body(&[ApiError::new(Code::Unsupported)]);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"The operation is unsupported.\"}]}\n"
        );
        assert_eq!(Code::BlobUploadInvalid.status(), 404);
        assert_eq!(Code::ManifestBlobUnknown.log_name(), "manifest blob unknown");
    }
}
