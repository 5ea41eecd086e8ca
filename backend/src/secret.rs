//! Random secrets and their digests, made one way everywhere: session ids,
//! learner and instructor tokens, sandbox and control-store passwords,
//! room ids, and what the stores keep of them (sha-256, hex).

use sha2::Digest;

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(hex(&buf))
}

/// sha-256 of `data`, as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

/// Whether `candidate` hashes to `digest`, in constant time: both sides
/// are hashed, so neither the secret's length nor its first differing byte
/// shows in the timing.
pub fn matches_digest(digest: &[u8; 32], candidate: &str) -> bool {
    let other: [u8; 32] = sha2::Sha256::digest(candidate.as_bytes()).into();
    digest
        .iter()
        .zip(other.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_has_two_digits_per_byte_and_differs_each_time() {
        let a = random_hex(16).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16).unwrap());
    }

    #[test]
    fn sha256_of_nothing_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
