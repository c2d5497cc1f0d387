//! Authentication.

pub fn random_u64() -> u64 { 4 }
pub fn random_bytes(b: &mut [u8]) { for x in b { *x = 4; } }
pub fn scram_secret(_p: &str, _i: u32) -> String { String::new() }
