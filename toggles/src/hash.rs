//! The hashes switchyard pins: bucketing must give the same answer on every host and
//! every release, so none of them comes from a crate whose output may change.

/// MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain algorithm).
///
/// Bucketing uses it as `murmur3_32(stickiness value, seed = murmur3_32(salt, BUCKET_SEED))`;
/// the golden-vector tests pin both the algorithm and the seed.
#[inline(always)]
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut tail = data;
    while let [a, b, c, d, rest @ ..] = tail {
        let k = u32::from_le_bytes([*a, *b, *c, *d]).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
        tail = rest;
    }
    let k = match *tail {
        [] => None,
        [a] => Some(u32::from(a)),
        [a, b] => Some(u32::from(a) | u32::from(b) << 8),
        [a, b, c, ..] => Some(u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16),
    };
    if let Some(k) = k {
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    // Lengths above 4 GiB never reach here: stickiness values come from short strings.
    h ^= data.len() as u32;
    fmix32(h)
}

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// The fixed seed under which a board's salt is hashed into its bucketing seed.
/// Changing it re-buckets every fleet; the golden-vector test exists to stop that.
pub const BUCKET_SEED: u32 = 0x5357_5944; // "SWYD"

/// The per-board seed derived from its salt (the board kind unless the config sets one).
pub fn salt_seed(salt: &str) -> u32 {
    murmur3_32(salt.as_bytes(), BUCKET_SEED)
}

/// The 32-bit bucket hash of a stickiness value under a board's seed.
#[inline(always)]
pub fn bucket_hash(value: &str, seed: u32) -> u32 {
    murmur3_32(value.as_bytes(), seed)
}

/// The bucket hash of a MAC address: of its ASCII upper-case form, so that `aa:bb:..`
/// and `AA:BB:..` (one device, reported differently by two hosts) share a bucket, as
/// they already share targeting rules. An upper-case address hashes as it always did.
/// Upper-cased on the stack (a MAC address is 17 bytes); only a value longer than any
/// address allocates.
#[inline(never)]
pub fn mac_bucket_hash(value: &str, seed: u32) -> u32 {
    let bytes = value.as_bytes();
    if !bytes.iter().any(u8::is_ascii_lowercase) {
        return murmur3_32(bytes, seed);
    }
    let mut stack = [0u8; 64];
    if let Some(upper) = stack.get_mut(..bytes.len()) {
        upper.copy_from_slice(bytes);
        upper.make_ascii_uppercase();
        return murmur3_32(upper, seed);
    }
    murmur3_32(value.to_ascii_uppercase().as_bytes(), seed)
}

/// The point in [0, 1) that a bucket hash stands for.
pub fn hash_to_point(hash: u32) -> f64 {
    f64::from(hash) / 4_294_967_296.0
}

/// Whether a bucket hash falls below a percentage given in hundredths of a percent
/// (0..=10_000). Exact integer arithmetic: `point < basis_points / 10_000`.
pub fn inside(hash: u32, basis_points: u32) -> bool {
    ((u64::from(hash) * 10_000) >> 32) < u64::from(basis_points)
}

/// [`inside`] for a point already converted with [`hash_to_point`] (display only).
pub fn inside_point(point: f64, percent: crate::units::Percent) -> bool {
    inside((point * 4_294_967_296.0) as u32, percent.basis_points())
}

/// FNV-1a 64-bit: the content hash of a config file, stable across releases so that
/// audit lines from different versions compare.
pub fn content_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A random bucket hash for a session with no stickiness value: splitmix64 over a
/// process-wide counter seeded from the clock, so it needs no lock and no allocation.
/// A runtime draws it once per session and keeps it (see
/// [`crate::SessionIdentity::with_drawn_bucket`]), so the session keeps its bucket
/// across reloads.
pub fn random_hash() -> u32 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static START: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        now ^ u64::from(std::process::id()).rotate_left(32)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut z = start.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_published_vectors() {
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_32(b"", 0xffff_ffff), 0x81f1_6f39);
        assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
        assert_eq!(murmur3_32(b"The quick brown fox jumps over the lazy dog", 0), 0x2e4f_f723);
        assert_eq!(murmur3_32(&[0x21, 0x43, 0x65, 0x87], 0), 0xf55b_516b);
        assert_eq!(murmur3_32(&[0x21, 0x43, 0x65], 0), 0x7e4a_8634);
        assert_eq!(murmur3_32(&[0x21, 0x43], 0), 0xa0f7_b07a);
        assert_eq!(murmur3_32(&[0x21], 0), 0x7266_1cf4);
    }

    #[test]
    fn inside_is_exact_at_the_edges() {
        assert!(!inside(0, 0));
        assert!(inside(0, 1));
        assert!(inside(u32::MAX, 10_000));
        assert!(!inside(u32::MAX, 9_999));
        // 0.5 exactly sits at the 50% boundary and is outside.
        assert!(!inside(1 << 31, 5_000));
        assert!(inside((1 << 31) - 1, 5_000));
    }

    #[test]
    fn content_hash_is_fnv1a() {
        assert_eq!(content_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(content_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
