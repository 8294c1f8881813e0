//! The audit trail behind the status page: what operators, reloads, breakers and failovers
//! did, and which requests were refused.
//!
//! Each kind of event has its own bounded list, and refused requests have theirs,
//! coalesced per source address and reason: a flood of unauthenticated requests (from
//! anyone who can reach the port, or from a web page open on the same machine) grows one
//! counter and can never push an operator action, a breaker transition or a failover out
//! of the trail. Text taken from requests is truncated before it is stored.

use crate::status::{EventRecord, RefusalRecord};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Events kept per kind (`operator`, `breaker`, `failover`, ...).
pub const EVENTS_PER_KIND: usize = 100;
/// Coalesced refusal entries kept (each counts any number of requests).
pub const REFUSAL_ENTRIES: usize = 50;
/// Refusals from one source for one reason within this many seconds share an entry.
pub const COALESCE_SECONDS: f64 = 60.0;
/// The longest detail stored for an event, in characters.
pub const DETAIL_CHARS: usize = 512;

/// Seconds since the Unix epoch, injectable so tests need not wait.
pub type Clock = Arc<dyn Fn() -> f64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0))
}

/// `text` cut to at most `max_chars` characters, control characters replaced, with a
/// note of how long it was when it was cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    let clean = |c: char| if c.is_control() { '?' } else { c };
    let count = text.chars().count();
    if count <= max_chars {
        return text.chars().map(clean).collect();
    }
    let mut out: String = text.chars().take(max_chars).map(clean).collect();
    out.push_str(&format!("… ({} bytes)", text.len()));
    out
}

#[derive(Default)]
struct Lists {
    by_kind: BTreeMap<&'static str, VecDeque<EventRecord>>,
    refusals: VecDeque<RefusalRecord>,
}

/// Bounded, shared, cheap to record into from any thread.
pub struct AuditTrail {
    lists: Mutex<Lists>,
    clock: Clock,
}

impl Default for AuditTrail {
    fn default() -> Self {
        AuditTrail::with_clock(system_clock())
    }
}

impl AuditTrail {
    pub fn with_clock(clock: Clock) -> AuditTrail {
        AuditTrail { lists: Mutex::new(Lists::default()), clock }
    }

    pub fn now(&self) -> f64 {
        (self.clock)()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lists> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an event of `kind`; only older events of the same kind make room for it.
    pub fn record(&self, kind: &'static str, detail: &str) {
        let at = self.now();
        let mut lists = self.lock();
        let list = lists.by_kind.entry(kind).or_default();
        if list.len() == EVENTS_PER_KIND {
            list.pop_front();
        }
        list.push_back(EventRecord { at, kind: kind.to_owned(), detail: truncate(detail, DETAIL_CHARS) });
    }

    /// Counts a refused request from `source`. Returns true when this starts a new entry
    /// (the caller logs those, not every request of a flood).
    pub fn refused(&self, source: IpAddr, reason: &str, request: &str) -> bool {
        let at = self.now();
        let source = source.to_string();
        let last_request = truncate(request, 160);
        let mut lists = self.lock();
        let recent = lists.refusals.iter().position(|r| r.source == source && r.reason == reason && at - r.first_at < COALESCE_SECONDS);
        if let Some(i) = recent {
            let mut entry = lists.refusals.remove(i).unwrap_or_else(|| unreachable!("position is in range"));
            entry.count += 1;
            entry.last_at = at;
            entry.last_request = last_request;
            lists.refusals.push_back(entry);
            return false;
        }
        if lists.refusals.len() == REFUSAL_ENTRIES {
            lists.refusals.pop_front();
        }
        lists.refusals.push_back(RefusalRecord { first_at: at, last_at: at, source, reason: truncate(reason, 160), count: 1, last_request });
        true
    }

    /// Every kind's events, newest first.
    pub fn events(&self) -> Vec<EventRecord> {
        let lists = self.lock();
        let mut out: Vec<EventRecord> = lists.by_kind.values().flatten().cloned().collect();
        out.sort_by(|a, b| b.at.total_cmp(&a.at));
        out
    }

    /// Coalesced refusals, most recently refused first.
    pub fn refusals(&self) -> Vec<RefusalRecord> {
        self.lock().refusals.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn manual_clock() -> (Clock, Arc<AtomicU64>) {
        let seconds = Arc::new(AtomicU64::new(1_000));
        let s = seconds.clone();
        (Arc::new(move || s.load(Ordering::Relaxed) as f64), seconds)
    }

    #[test]
    fn a_flood_of_refusals_never_pushes_an_operator_event_out() {
        let trail = AuditTrail::default();
        trail.record("operator", "cyton breaker set to forced_open (from 127.0.0.1:4000)");
        for i in 0..10_000u32 {
            let source = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
            trail.refused(source, "no bearer token", &format!("POST /control/{}", "x".repeat(20_000)));
        }
        for i in 0..(EVENTS_PER_KIND * 3) {
            trail.record("breaker", &format!("transition {i}"));
        }
        let events = trail.events();
        assert!(events.iter().any(|e| e.kind == "operator"), "the operator event survived");
        assert_eq!(events.iter().filter(|e| e.kind == "breaker").count(), EVENTS_PER_KIND);
        let refusals = trail.refusals();
        assert_eq!(refusals.len(), REFUSAL_ENTRIES);
        assert!(refusals.iter().all(|r| r.last_request.len() < 200), "request text is truncated");
    }

    #[test]
    fn refusals_from_one_source_and_reason_share_an_entry_per_minute() {
        let (clock, seconds) = manual_clock();
        let trail = AuditTrail::with_clock(clock);
        let attacker = IpAddr::from([192, 0, 2, 7]);
        assert!(trail.refused(attacker, "no bearer token", "POST /control/kill-switch/off"));
        for _ in 0..249 {
            assert!(!trail.refused(attacker, "no bearer token", "POST /control/kill-switch/off"));
        }
        assert!(trail.refused(attacker, "wrong token", "POST /control/kill-switch/off"));
        let refusals = trail.refusals();
        assert_eq!(refusals.len(), 2);
        let flood = refusals.iter().find(|r| r.reason == "no bearer token").unwrap();
        assert_eq!(flood.count, 250);
        assert_eq!(flood.source, "192.0.2.7");

        seconds.fetch_add(61, Ordering::Relaxed);
        assert!(trail.refused(attacker, "no bearer token", "POST /control/kill-switch/off"), "a new minute starts a new entry");
        assert_eq!(trail.refusals().len(), 3);
    }

    #[test]
    fn truncation_keeps_a_prefix_and_says_how_long_it_was() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate(&"a".repeat(1000), 10);
        assert!(cut.starts_with("aaaaaaaaaa…") && cut.contains("1000 bytes"), "{cut}");
        assert_eq!(truncate("a\r\nb", 10), "a??b");
    }
}
