//! Targeting rules compiled at config load into one table per identity field, so that a
//! decision answers "which rule matches first?" with at most one hashed lookup per field
//! the session has, instead of a string search per rule and field.
//!
//! The answer is the same as trying the rules in order: the first rule that lists any of
//! the session's values is the one with the smallest index among the rules that list
//! each value, so each table maps a value to the smallest index of a rule listing it.

use crate::config::{StickinessKey, TargetingRule};
use crate::decide::SessionIdentity;
use std::collections::HashSet;
use std::fmt;

/// Every targeting rule of one board, indexed by identity field in [`StickinessKey::AUTO`] order.
#[derive(Clone, Default)]
pub(crate) struct TargetIndex {
    fields: [FieldTable; 6],
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
    /// Bit `min(len, 63)` is set for the byte length of every listed value: a session
    /// value of any other length cannot match, whatever its bytes.
    lengths: u64,
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
        TargetIndex { fields: fields.map(FieldTable::new) }
    }

    /// The index of the first rule that lists any of the session's values.
    #[inline]
    pub(crate) fn first_match(&self, id: &SessionIdentity<'_>) -> Option<usize> {
        let mut first: Option<usize> = None;
        for (key, table) in StickinessKey::AUTO.iter().zip(&self.fields) {
            if table.lengths == 0 {
                continue;
            }
            let Some(value) = id.field(*key) else { continue };
            // MAC addresses are listed upper-cased and matched without regard to case.
            if let Some(rule) = table.lookup(value, *key == StickinessKey::MacAddress) {
                first = Some(first.map_or(rule, |f| f.min(rule)));
            }
        }
        first
    }
}

impl FieldTable {
    fn new(mut values: Vec<(u64, Box<str>, usize)>) -> FieldTable {
        values.sort_by_key(|(hash, _, _)| *hash);
        FieldTable {
            lengths: values.iter().fold(0, |bits, (_, v, _)| bits | length_bit(v.len())),
            hashes: values.iter().map(|(hash, _, _)| *hash).collect(),
            entries: values.into_iter().map(|(_, v, rule)| (v, rule)).collect(),
        }
    }

    #[inline]
    fn lookup(&self, value: &str, ignore_case: bool) -> Option<usize> {
        if self.lengths & length_bit(value.len()) == 0 {
            return None;
        }
        let hash = folded_hash(value.as_bytes());
        let start = self.hashes.partition_point(|h| *h < hash);
        let same_hash = self.hashes[start..].iter().take_while(|h| **h == hash).count();
        self.entries[start..start + same_hash]
            .iter()
            .find(|(listed, _)| if ignore_case { listed.eq_ignore_ascii_case(value) } else { **listed == *value })
            .map(|(_, rule)| *rule)
    }
}

#[inline]
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// A fast 64-bit hash that ignores bit 5 of every byte, so that strings equal but for
/// ASCII case hash alike (MAC addresses); other strings it folds together are told apart
/// by the exact comparison after the lookup. Only used inside one process: never
/// persisted, never part of bucketing.
#[inline]
fn folded_hash(bytes: &[u8]) -> u64 {
    const FOLD: u64 = !0x2020_2020_2020_2020;
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: u64| {
        let product = u128::from(h ^ (word & FOLD)) * u128::from(K);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        h = mix(h, u64::from_le_bytes(w));
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        h = mix(h, u64::from_le_bytes(w));
    }
    mix(h, K)
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
        assert_eq!(folded_hash(b"aa:bb:cc:dd:ee:ff"), folded_hash(b"AA:BB:CC:DD:EE:FF"));
        assert_ne!(folded_hash(b"aa:bb:cc:dd:ee:ff"), folded_hash(b"aa:bb:cc:dd:ee:fe"));
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
    fn values_that_fold_to_the_same_hash_are_still_told_apart() {
        // '0' (0x30) and 0x10 differ only in the folded bit.
        let index = TargetIndex::new(&[rule(&["X0"], &[]), rule(&["X\u{10}"], &[])]);
        let serial = |s: &str| InputParams { serial_number: s.into(), ..InputParams::default() };
        assert_eq!(index.first_match(&SessionIdentity::new(&serial("X0"))), Some(0));
        assert_eq!(index.first_match(&SessionIdentity::new(&serial("X\u{10}"))), Some(1));
        assert_eq!(index.first_match(&SessionIdentity::new(&serial("x0"))), None);
    }
}
