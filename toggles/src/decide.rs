//! The hot path: which path a session runs in, and why. No locks, no allocation, no panics.

use crate::config::{board_index, default_path, BoardConfig, Config, Path, Ramp, RampPosition, Rollout, StickinessKey, TargetingRule};
use crate::hash;
use crate::units::{Percent, Timestamp};
use board_api::{BoardId, InputParams};
use std::cmp::Ordering;
use std::fmt;

/// Who a session is, borrowed from the caller so that deciding allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct SessionIdentity<'a> {
    pub params: &'a InputParams,
    /// An explicit key chosen by the caller (e.g. a user or experiment id).
    pub session_key: Option<&'a str>,
    /// The bucket hash drawn for this session once, used when it has none of the board's
    /// stickiness fields. Without it each decision draws anew, so a live session asked
    /// again (after a reload) could land anywhere.
    pub drawn_bucket: Option<u32>,
}

impl<'a> SessionIdentity<'a> {
    pub fn new(params: &'a InputParams) -> Self {
        SessionIdentity { params, session_key: None, drawn_bucket: None }
    }

    pub fn with_session_key(params: &'a InputParams, key: &'a str) -> Self {
        SessionIdentity { params, session_key: Some(key), drawn_bucket: None }
    }

    /// The same identity with the session's own random bucket, drawn once with
    /// [`crate::random_hash`] when the session starts.
    pub fn with_drawn_bucket(self, hash: u32) -> Self {
        SessionIdentity { drawn_bucket: Some(hash), ..self }
    }

    /// The value of one identity field; `None` when empty.
    pub fn field(&self, key: StickinessKey) -> Option<&'a str> {
        let v: &'a str = match key {
            StickinessKey::SerialNumber => &self.params.serial_number,
            StickinessKey::MacAddress => &self.params.mac_address,
            StickinessKey::SerialPort => &self.params.serial_port,
            StickinessKey::File => &self.params.file,
            StickinessKey::OtherInfo => &self.params.other_info,
            StickinessKey::SessionKey => self.session_key.unwrap_or(""),
        };
        (!v.is_empty()).then_some(v)
    }
}

/// OpenFeature's evaluation reasons, as far as switchyard produces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The board's mode alone decides (mode cpp, or 0% / 100%).
    Static,
    /// A targeting rule matched the session's identity.
    TargetingMatch,
    /// The session's bucket against the percentage in force decided.
    Split,
    /// The kill switch is on.
    Disabled,
    /// The config does not mention this board.
    Default,
    /// No decision could be made; callers that construct one serve C++.
    Error,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::Default => "DEFAULT",
            Reason::Error => "ERROR",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of the config decided: a copyable reference whose `Display` is the field path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    pub board: BoardId,
    pub kind: RuleKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    KillSwitch,
    /// Kill switch on, but the board has no C++ implementation: it stays on Rust.
    KillSwitchRustOnly,
    /// `boards.<kind>.targeting[i]`.
    Targeting(u16),
    /// The board is not in the config.
    NotConfigured,
    /// `boards.<kind>.mode` alone.
    Mode,
    /// `boards.<kind>.percent`.
    Percent,
    /// `boards.<kind>.ramp.steps[i]`.
    RampStep(u16),
    /// The ramp's start is still ahead.
    RampNotStarted,
    /// The caller could not decide (see [`Decision::error`]).
    Error,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.board.kind();
        match self.kind {
            RuleKind::KillSwitch => f.write_str("kill_switch"),
            RuleKind::KillSwitchRustOnly => {
                write!(f, "kill_switch ({kind} has no C++ implementation: it stays on Rust)")
            }
            RuleKind::Targeting(i) => write!(f, "boards.{kind}.targeting[{i}]"),
            RuleKind::NotConfigured => write!(f, "default ({kind} is not in the config)"),
            RuleKind::Mode => write!(f, "boards.{kind}.mode"),
            RuleKind::Percent => write!(f, "boards.{kind}.percent"),
            RuleKind::RampStep(i) => write!(f, "boards.{kind}.ramp.steps[{i}]"),
            RuleKind::RampNotStarted => write!(f, "boards.{kind}.ramp (not started: 0%)"),
            RuleKind::Error => f.write_str("error"),
        }
    }
}

/// How the bucket was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketedBy {
    /// The hash of this identity field: the same on every process and host.
    Key(StickinessKey),
    /// The session had none of the board's stickiness fields: a random draw.
    Random,
}

/// The answer for one session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub path: Path,
    pub reason: Reason,
    pub rule: Rule,
    /// The session's point in [0, 1) when a percentage decided.
    pub bucket: Option<f64>,
    pub bucketed_by: Option<BucketedBy>,
    /// The percentage that was compared against, when one was.
    pub percent: Option<Percent>,
    /// The config generation that decided.
    pub generation: u64,
}

impl Decision {
    /// The safe answer when deciding was impossible: C++ where it exists.
    pub fn error(board: BoardId, generation: u64) -> Decision {
        Decision {
            path: default_path(board),
            reason: Reason::Error,
            rule: Rule { board, kind: RuleKind::Error },
            bucket: None,
            bucketed_by: None,
            percent: None,
            generation,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} by {}", self.path, self.reason, self.rule)?;
        if let (Some(bucket), Some(percent)) = (self.bucket, self.percent) {
            write!(f, "; bucket {bucket:.6} vs {percent}")?;
            match self.bucketed_by {
                Some(BucketedBy::Key(k)) => write!(f, " by {k}")?,
                Some(BucketedBy::Random) => f.write_str(" drawn at random: the session has no stickiness value")?,
                None => {}
            }
        }
        write!(f, "; generation {})", self.generation)
    }
}

/// Case-insensitive ASCII ordering, for MAC addresses, without allocating.
fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_uppercase()).cmp(b.bytes().map(|c| c.to_ascii_uppercase()))
}

fn listed(list: &[String], value: Option<&str>) -> bool {
    match value {
        Some(v) if !list.is_empty() => list.binary_search_by(|x| x.as_str().cmp(v)).is_ok(),
        _ => false,
    }
}

impl TargetingRule {
    /// Whether any listed value equals the session's field.
    pub fn matches(&self, id: &SessionIdentity<'_>) -> bool {
        listed(&self.serial_number, id.field(StickinessKey::SerialNumber))
            || match id.field(StickinessKey::MacAddress) {
                Some(mac) if !self.mac_address.is_empty() => {
                    self.mac_address.binary_search_by(|x| cmp_ignore_case(x, mac)).is_ok()
                }
                _ => false,
            }
            || listed(&self.serial_port, id.field(StickinessKey::SerialPort))
            || listed(&self.file, id.field(StickinessKey::File))
            || listed(&self.other_info, id.field(StickinessKey::OtherInfo))
            || listed(&self.session_key, id.field(StickinessKey::SessionKey))
    }
}

impl BoardConfig {
    /// The session's bucket hash and how it was drawn.
    ///
    /// The common case (the board's first stickiness key is set and is not a MAC address)
    /// is the whole inline path: one field read and one hash. Everything else (a MAC
    /// address, a later key, no key at all) is out of line, so it costs the common
    /// decision nothing.
    #[inline(always)]
    pub fn bucket_hash(&self, id: &SessionIdentity<'_>) -> (u32, BucketedBy) {
        if let Some(&first) = self.stickiness.first() {
            if first != StickinessKey::MacAddress {
                if let Some(value) = id.field(first) {
                    return (hash::bucket_hash(value, self.seed), BucketedBy::Key(first));
                }
            }
        }
        self.uncommon_bucket_hash(id)
    }

    #[inline(never)]
    fn uncommon_bucket_hash(&self, id: &SessionIdentity<'_>) -> (u32, BucketedBy) {
        let found = self.stickiness.iter().find_map(|key| id.field(*key).map(|value| (value, *key)));
        match found {
            Some((value, StickinessKey::MacAddress)) => {
                (hash::mac_bucket_hash(value, self.seed), BucketedBy::Key(StickinessKey::MacAddress))
            }
            Some((value, key)) => (hash::bucket_hash(value, self.seed), BucketedBy::Key(key)),
            None => (id.drawn_bucket.unwrap_or_else(hash::random_hash), BucketedBy::Random),
        }
    }
}

impl Config {
    /// Decides one session. `generation` is stamped on the answer.
    pub fn decide(&self, board: BoardId, id: &SessionIdentity<'_>, now: Timestamp, generation: u64) -> Decision {
        self.decide_with_clock(board, id, || now, generation)
    }

    /// [`Config::decide`] that reads the clock only when a ramp needs it: converting a
    /// `SystemTime` costs as much as the rest of a fixed-percentage decision.
    ///
    /// Always inlined (its rare paths are out of line): returned through memory, the
    /// decision is written a field at a time and read back whole by the caller, a read
    /// the processor cannot serve until those writes land.
    #[inline(always)]
    pub(crate) fn decide_with_clock(
        &self,
        board: BoardId,
        id: &SessionIdentity<'_>,
        now: impl FnOnce() -> Timestamp,
        generation: u64,
    ) -> Decision {
        let bc = &self.boards_slice()[board_index(board)];
        // Each outcome is built where it is decided: a template overwritten field by field
        // costs a store per field twice over.
        let decided = |path, reason, kind, percent| Decision {
            path,
            reason,
            rule: Rule { board, kind },
            bucket: None,
            bucketed_by: None,
            percent,
            generation,
        };
        if self.kill_switch {
            return if board.has_cpp_implementation() {
                decided(Path::Cpp, Reason::Disabled, RuleKind::KillSwitch, None)
            } else {
                decided(Path::Rust, Reason::Disabled, RuleKind::KillSwitchRustOnly, None)
            };
        }
        if let Some(i) = bc.target_index.first_match(id) {
            return decided(bc.targeting[i].serve, Reason::TargetingMatch, RuleKind::Targeting(i as u16), None);
        }
        if !bc.listed {
            return decided(bc.mode, Reason::Default, RuleKind::NotConfigured, None);
        }
        if bc.mode == Path::Cpp {
            return decided(bc.mode, Reason::Static, RuleKind::Mode, None);
        }
        let (percent, kind) = match &bc.rollout {
            Rollout::Fixed(p) if *p == Percent::HUNDRED => {
                return decided(bc.mode, Reason::Static, RuleKind::Mode, Some(*p));
            }
            Rollout::Fixed(p) if *p == Percent::ZERO => {
                return decided(Path::Cpp, Reason::Static, RuleKind::Percent, Some(*p));
            }
            Rollout::Fixed(p) => (*p, RuleKind::Percent),
            Rollout::Ramp(r) => ramp_step(r, now),
        };
        let (h, by) = bc.bucket_hash(id);
        // Half the sessions of a 50% split fall on each side at random, so a branch here
        // would be mispredicted half the time; a select is not.
        let inside = hash::inside(h, percent.basis_points());
        Decision {
            path: [Path::Cpp, bc.mode][usize::from(inside)],
            reason: Reason::Split,
            rule: Rule { board, kind },
            bucket: Some(hash::hash_to_point(h)),
            bucketed_by: Some(by),
            percent: Some(percent),
            generation,
        }
    }
}

/// The percentage a ramp holds at the moment the clock gives, and the rule that says so.
/// Out of line: reading and converting the clock is needed by ramps alone.
#[inline(never)]
fn ramp_step(ramp: &Ramp, now: impl FnOnce() -> Timestamp) -> (Percent, RuleKind) {
    match ramp.position(now()) {
        RampPosition::NotStarted { .. } => (Percent::ZERO, RuleKind::RampNotStarted),
        RampPosition::Step { index, percent, .. } => (percent, RuleKind::RampStep(index as u16)),
    }
}
