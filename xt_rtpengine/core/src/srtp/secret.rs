//! Handling of key material on the stack.

/// Overwrites key material so it does not linger in freed stack or heap memory.
pub fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference to a u8; the volatile
        // write only keeps the compiler from dropping the store as dead.
        unsafe { core::ptr::write_volatile(b, 0) };
    }
}

/// Compares two tags without an early exit, so timing does not reveal the matching prefix.
pub fn tags_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_and_compare() {
        let mut k = [7u8; 20];
        wipe(&mut k);
        assert_eq!(k, [0; 20]);
        assert!(tags_equal(&[1, 2, 3], &[1, 2, 3]));
        assert!(!tags_equal(&[1, 2, 3], &[1, 2, 4]));
        assert!(!tags_equal(&[1, 2], &[1, 2, 3]));
        assert!(tags_equal(&[], &[]));
    }
}
