//! Fresh master key||salt material from the kernel's CSPRNG.

use std::fs::File;
use std::io::{self, Read};

/// `len` random bytes from /dev/urandom.
pub fn random_key_salt(len: usize) -> io::Result<Vec<u8>> {
    let mut key = vec![0u8; len];
    File::open("/dev/urandom")?.read_exact(&mut key)?;
    Ok(key)
}
