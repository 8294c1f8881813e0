//! Targeting rules compiled at config load into one table per identity field, so that a
//! decision answers "which rule matches first?" with at most one hashed lookup per field
//! the session has, instead of a string search per rule and field.
//!
//! The answer is the same as trying the rules in order: the first rule that lists any of
//! the session's values is the one with the smallest index among the rules that list
//! each value, so each table maps a value to the smallest index of a rule listing it.

use crate::config::TargetingRule;
use crate::decide::SessionIdentity;
use std::collections::HashSet;
use std::fmt;

/// Every targeting rule of one board, one table per identity field (serial number, MAC
/// address, serial port, file, other info, session key).
#[derive(Clone, Default)]
pub(crate) struct TargetIndex {
    fields: [FieldTable; 6],
    /// Whether any rule lists any value: a board without targeting costs one test.
    targeted: bool,
}

impl fmt::Debug for TargetIndex {
    // The rules themselves are printed beside it; the tables would only repeat them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: usize = self.fields.iter().map(|t| t.entries.len()).sum();
        f.debug_struct("TargetIndex").field("values", &values).finish()
    }
}

impl PartialEq for TargetIndex {
    /// The index is a pure function of the rules, which `BoardConfig` compares itself.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The values one field is targeted by.
#[derive(Clone, Default)]
struct FieldTable {
    /// Bit `len % 64` is set for the byte length of every listed value: a session value
    /// whose bit is clear cannot match, whatever its bytes. (Lengths 64 apart share a
    /// bit; the exact comparison after the hash lookup tells them apart.)
    lengths: u64,
    /// Bit `hash >> 58` is set for the [`folded_hash`] of every listed value: with a
    /// short list, most values of a listed length are turned away here, before the
    /// search (whose branches a random hash would mispredict).
    hash_bits: u64,
    /// [`folded_hash`] of each value, sorted; parallel to `entries`.
    hashes: Box<[u64]>,
    /// Each listed value once, with the smallest index of a rule listing it.
    entries: Box<[(Box<str>, usize)]>,
}

impl TargetIndex {
    pub(crate) fn new(rules: &[TargetingRule]) -> TargetIndex {
        let mut fields: [Vec<(u64, Box<str>, usize)>; 6] = Default::default();
        let mut seen: [HashSet<&str>; 6] = Default::default();
        for (index, rule) in rules.iter().enumerate() {
            let lists = [
                &rule.serial_number,
                &rule.mac_address,
                &rule.serial_port,
                &rule.file,
                &rule.other_info,
                &rule.session_key,
            ];
            for ((field, seen), list) in fields.iter_mut().zip(&mut seen).zip(lists) {
                // Rules arrive in order, so the first rule to list a value keeps it.
                for value in list {
                    if seen.insert(value.as_str()) {
                        field.push((folded_hash(value.as_bytes()), value.as_str().into(), index));
                    }
                }
            }
        }
        let fields = fields.map(FieldTable::new);
        let targeted = fields.iter().any(|t| !t.entries.is_empty());
        TargetIndex { fields, targeted }
    }

    /// The index of the first rule that lists any of the session's values.
    #[inline(always)]
    pub(crate) fn first_match(&self, id: &SessionIdentity<'_>) -> Option<usize> {
        if !self.targeted {
            return None;
        }
        // Every field in turn, without a loop: a field the session lacks (empty) or no
        // rule lists costs a bit test, as does a value of a length no rule lists.
        let p = id.params;
        let [serial_number, mac_address, serial_port, file, other_info, session_key] = &self.fields;
        let first = serial_number
            .lookup(&p.serial_number, false)
            // MAC addresses are listed upper-cased and matched without regard to case.
            .min(mac_address.lookup(&p.mac_address, true))
            .min(serial_port.lookup(&p.serial_port, false))
            .min(file.lookup(&p.file, false))
            .min(other_info.lookup(&p.other_info, false))
            .min(session_key.lookup(id.session_key.unwrap_or(""), false));
        (first != NO_RULE).then_some(first)
    }
}

/// What [`FieldTable::lookup`] answers when no rule lists the value: larger than any index.
const NO_RULE: usize = usize::MAX;

impl FieldTable {
    fn new(mut values: Vec<(u64, Box<str>, usize)>) -> FieldTable {
        values.sort_by_key(|(hash, _, _)| *hash);
        FieldTable {
            lengths: values.iter().fold(0, |bits, (_, v, _)| bits | length_bit(v.len())),
            hash_bits: values.iter().fold(0, |bits, (hash, _, _)| bits | hash_bit(*hash)),
            hashes: values.iter().map(|(hash, _, _)| *hash).collect(),
            entries: values.into_iter().map(|(_, v, rule)| (v, rule)).collect(),
        }
    }

    /// The smallest index of a rule listing `value`, or [`NO_RULE`]. Listed values are
    /// never empty, so an empty value (a field the session lacks) fails the length test
    /// unless a listed value is 64 bytes long (or 128, ...).
    #[inline(always)]
    fn lookup(&self, value: &str, ignore_case: bool) -> usize {
        if self.lengths & length_bit(value.len()) == 0 {
            return NO_RULE;
        }
        self.probe(value, ignore_case)
    }

    #[inline(never)]
    fn probe(&self, value: &str, ignore_case: bool) -> usize {
        let hash = folded_hash(value.as_bytes());
        if self.hash_bits & hash_bit(hash) == 0 {
            return NO_RULE;
        }
        self.search(hash, value, ignore_case)
    }

    #[inline(never)]
    fn search(&self, hash: u64, value: &str, ignore_case: bool) -> usize {
        let start = self.hashes.partition_point(|h| *h < hash);
        let same_hash = self.hashes[start..].iter().take_while(|h| **h == hash).count();
        self.entries[start..start + same_hash]
            .iter()
            .find(|(listed, _)| if ignore_case { listed.eq_ignore_ascii_case(value) } else { **listed == *value })
            .map_or(NO_RULE, |(_, rule)| *rule)
    }
}

#[inline]
fn hash_bit(hash: u64) -> u64 {
    1 << (hash >> 58)
}

#[inline(always)]
fn length_bit(len: usize) -> u64 {
    // `% 64` is what a shift or bit test does with its count anyway: one instruction.
    1 << (len % 64)
}

/// A fast 64-bit hash that ignores bit 5 of every byte, so that strings equal but for
/// ASCII case hash alike (MAC addresses); other strings it folds together are told apart
/// by the exact comparison after the lookup. Only used inside one process: never
/// persisted, never part of bucketing. Short values (the usual identity field) are read
/// as two overlapping words, without a loop or a copy.
#[inline(always)]
fn folded_hash(bytes: &[u8]) -> u64 {
    const FOLD: u64 = !0x2020_2020_2020_2020;
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    const L: u64 = 0xd6e8_feb8_6659_fd93;
    let mix = |a: u64, b: u64| {
        let product = u128::from(a ^ K) * u128::from(b ^ L);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let len = bytes.len();
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w) & FOLD
    };
    let half = |at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(w)) & FOLD
    };
    let (mut h, a, b) = match len {
        0 => (0, 0, 0),
        1..=3 => {
            let small = u64::from(bytes[0]) | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]) << 16;
            (0, small & FOLD, 0)
        }
        4..=7 => (0, half(0), half(len - 4)),
        8..=16 => (0, word(0), word(len - 8)),
        _ => {
            let mut h = 0;
            let mut at = 0;
            while len - at > 16 {
                h = mix(word(at) ^ h, word(at + 8));
                at += 16;
            }
            (h, word(len - 16), word(len - 8))
        }
    };
    h = mix(a ^ h, b ^ (len as u64).rotate_left(32));
    mix(h, h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Path;
    use board_api::InputParams;

    fn rule(serial_number: &[&str], mac_address: &[&str]) -> TargetingRule {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        TargetingRule {
            name: "r".into(),
            serve: Path::Rust,
            serial_number: list(serial_number),
            mac_address: list(mac_address),
            serial_port: Vec::new(),
            file: Vec::new(),
            other_info: Vec::new(),
            session_key: Vec::new(),
        }
    }

    #[test]
    fn folded_hash_ignores_ascii_case_only() {
        // Every length class: 1-3, 4-7, 8-16 and the loop past 16.
        for (lower, upper, other) in [
            ("a", "A", "b"),
            ("ab:", "AB:", "ab;"),
            ("ab:c", "AB:C", "ab:d"),
            ("aa:bb:c", "AA:BB:C", "aa:bb:d"),
            ("aa:bb:cc", "AA:BB:CC", "aa:bb:cd"),
            ("aa:bb:cc:dd:ee:f", "AA:BB:CC:DD:EE:F", "aa:bb:cc:dd:ee:e"),
            ("aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:fe"),
            ("/dev/serial/by-id/usb-ftdi-x", "/DEV/SERIAL/BY-ID/USB-FTDI-X", "/dev/serial/by-id/usb-ftdi-y"),
            ("/dev/serial/by-id/usb-ftdi-long-name-for-a-dongle-0001", "/DEV/SERIAL/BY-ID/USB-FTDI-LONG-NAME-FOR-A-DONGLE-0001", "/dev/serial/by-id/usb-ftdi-long-name-for-b-dongle-0001"),
        ] {
            assert_eq!(folded_hash(lower.as_bytes()), folded_hash(upper.as_bytes()), "{lower}");
            assert_ne!(folded_hash(lower.as_bytes()), folded_hash(other.as_bytes()), "{lower}");
        }
        assert_ne!(folded_hash(b"ab"), folded_hash(b"ab\0"));
        assert_ne!(folded_hash(b""), folded_hash(b"\0"));
    }

    #[test]
    fn a_value_listed_twice_belongs_to_the_earlier_rule() {
        let index = TargetIndex::new(&[rule(&["A"], &[]), rule(&["B", "A"], &[]), rule(&["B"], &["AA:01"])]);
        let p = |serial: &str, mac: &str| InputParams {
            serial_number: serial.into(),
            mac_address: mac.into(),
            ..InputParams::default()
        };
        let first = |params: &InputParams| index.first_match(&SessionIdentity::new(params));
        assert_eq!(first(&p("A", "")), Some(0));
        assert_eq!(first(&p("B", "")), Some(1));
        assert_eq!(first(&p("C", "aa:01")), Some(2));
        assert_eq!(first(&p("B", "aa:01")), Some(1));
        assert_eq!(first(&p("b", "")), None, "serial numbers keep their case");
        assert_eq!(first(&p("", "")), None);
    }

    #[test]
    fn lengths_that_share_a_bit_are_told_apart() {
        let long = "x".repeat(64);
        let index = TargetIndex::new(&[rule(&["a", &long], &[])]);
        let first = |s: &str| {
            let p = InputParams { serial_number: s.into(), ..InputParams::default() };
            index.first_match(&SessionIdentity::new(&p))
        };
        assert_eq!(first(&long), Some(0));
        assert_eq!(first("a"), Some(0));
        assert_eq!(first(""), None, "an absent field shares the bit of a 64-byte value");
        assert_eq!(first(&"a".repeat(65)), None, "65 bytes share the bit of 1 byte");
    }

    #[test]
    fn values_that_fold_to_the_same_hash_are_still_told_apart() {
        // '0' (0x30) and 0x10 differ only in the folded bit.
        let index = TargetIndex::new(&[rule(&["X0"], &[]), rule(&["X\u{10}"], &[])]);
        let serial = |s: &str| InputParams { serial_number: s.into(), ..InputParams::default() };
        assert_eq!(index.first_match(&SessionIdentity::new(&serial("X0"))), Some(0));
        assert_eq!(index.first_match(&SessionIdentity::new(&serial("X\u{10}"))), Some(1));
        assert_eq!(index.first_match(&SessionIdentity::new(&serial("x0"))), None);
    }
}
