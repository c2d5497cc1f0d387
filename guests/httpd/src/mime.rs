//! Content types by file extension.

/// The `Content-Type` of a file named `path`.
pub fn content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext,
        _ => return "application/octet-stream",
    };
    let lower;
    let ext = if ext.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = ext.to_ascii_lowercase();
        lower.as_str()
    } else {
        ext
    };
    match ext {
        "html" | "htm" | "shtml" => "text/html",
        "css" => "text/css",
        "js" | "mjs" => "application/javascript",
        "json" => "application/json",
        "txt" => "text/plain",
        "xml" => "text/xml",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" | "svgz" => "image/svg+xml",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn by_extension() {
        assert_eq!(content_type("/index.html"), "text/html");
        assert_eq!(content_type("/a/STYLE.CSS"), "text/css");
        assert_eq!(content_type("/app.js"), "application/javascript");
        assert_eq!(content_type("/d.json"), "application/json");
        assert_eq!(content_type("/r.txt"), "text/plain");
        assert_eq!(content_type("/p.png"), "image/png");
        assert_eq!(content_type("/p.jpg"), "image/jpeg");
        assert_eq!(content_type("/i.svg"), "image/svg+xml");
        assert_eq!(content_type("/favicon.ico"), "image/x-icon");
        assert_eq!(content_type("/Makefile"), "application/octet-stream");
        assert_eq!(content_type("/.hidden"), "application/octet-stream");
        assert_eq!(content_type("/x.tar.gz"), "application/octet-stream");
    }
}
