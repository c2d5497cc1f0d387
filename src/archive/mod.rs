//! Layer tars: written deterministically ([`create`]) and extracted safely ([`extract`]).
//! Whiteouts travel as OCI `.wh.<name>` / `.wh..wh..opq` files in both directions.

pub mod create;
pub mod extract;
pub mod image_archive;

pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
