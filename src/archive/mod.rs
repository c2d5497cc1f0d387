//! Layer tars: written deterministically ([`create`]) and extracted safely ([`extract`]).
//! Whiteouts travel as OCI `.wh.<name>` / `.wh..wh..opq` files in both directions.

pub mod create;
pub mod extract;
pub mod image_archive;

pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// `r`, gunzipped when it starts with the gzip magic (layers and archives may be either).
pub fn maybe_gunzip(mut r: impl std::io::Read + 'static) -> std::io::Result<Box<dyn std::io::Read>> {
    use std::io::Read;
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        match r.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let chained = std::io::Cursor::new(head[..n].to_vec()).chain(r);
    Ok(if n == 2 && head == [0x1f, 0x8b] { Box::new(flate2::read::GzDecoder::new(chained)) } else { Box::new(chained) })
}
