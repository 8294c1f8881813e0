//! The breaker itself: admission, recording, judging, transitions and events.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::backoff::{open_wait, Jitter};
use crate::clock::Clock;
use crate::config::{Backoff, BreakerConfig, ConfigError, OperatorMode, WindowConfig};
use crate::window::{percent, Entry, Totals, Window};

/// What a subscriber's queue holds before further events for it are dropped.
pub const SUBSCRIBER_CAPACITY: usize = 256;

/// The breaker's state as the dispatcher and operators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Rust path in use; calls are measured.
    Closed,
    /// Rust path refused until the open wait elapses.
    Open,
    /// A limited number of probe calls decide whether to close or reopen.
    HalfOpen,
    /// Rust path refused until an operator releases it.
    ForcedOpen,
    /// Never trips; still measures.
    Disabled,
    /// Never refuses; computes the state it would be in (see [`Breaker::automatic_state`]).
    MetricsOnly,
}

impl State {
    /// The upper-case name used in logs and on the status page.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
            State::ForcedOpen => "FORCED_OPEN",
            State::Disabled => "DISABLED",
            State::MetricsOnly => "METRICS_ONLY",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one call through the Rust path ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Returned normally; slow if it took at least `slow_call_duration`.
    Success,
    /// Returned a BrainFlow error; ignored entirely if it is the caller's own error
    /// (`board_api::ExitCode::is_caller_error`) or its code is in `ignored_exit_codes`.
    Failure { exit_code: i32 },
    /// The Rust code panicked.
    Panic,
    /// The dispatcher gave up waiting.
    Timeout,
}

/// A state change, with its cause in words and the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: State,
    pub to: State,
    /// E.g. "failure rate 37.5% ≥ 20% over the last 40 calls".
    pub cause: String,
    /// Clock reading, nanoseconds.
    pub at_nanos: u64,
    /// Percent, over the window (or over the probes for HALF_OPEN decisions).
    pub failure_rate: f64,
    /// Percent, over the window (or over the probes for HALF_OPEN decisions).
    pub slow_rate: f64,
    /// Calls (or probes) the rates are computed over.
    pub calls: u32,
    /// False when the breaker is METRICS_ONLY: `from`/`to` are what it would have done.
    pub enforced: bool,
}

/// Everything the status page shows about one breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerSnapshot {
    pub state: State,
    /// CLOSED, OPEN or HALF_OPEN: what the automatic machine says (for METRICS_ONLY, what
    /// it would enforce).
    pub automatic_state: State,
    pub mode: OperatorMode,
    pub last_cause: String,
    pub last_transition_at_nanos: Option<u64>,
    pub calls_in_window: u32,
    pub failed_in_window: u32,
    pub slow_in_window: u32,
    pub failure_rate: f64,
    pub slow_rate: f64,
    /// The wait chosen when the breaker last opened.
    pub open_wait: Option<Duration>,
    /// Time left before probing, while OPEN.
    pub open_remaining: Option<Duration>,
    /// Failed probe rounds since the breaker last closed.
    pub reopens: u32,
    pub probes_permitted: u32,
    pub probes_in_flight: u32,
    pub probes_succeeded: u32,
    pub probes_failed: u32,
    pub probes_slow: u32,
    /// Events not delivered because a subscriber's queue was full.
    pub events_dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Call,
    Probe,
    Refused,
    /// Let through by METRICS_ONLY although the breaker would have refused it.
    Unjudged,
}

/// The answer to [`Breaker::try_acquire`]; hand it back to [`Breaker::record`].
#[derive(Debug)]
pub struct Permission {
    start_nanos: u64,
    generation: u64,
    kind: Kind,
    slow_marked: AtomicBool,
}

impl Permission {
    /// Whether the call may use the Rust path.
    pub fn is_permitted(&self) -> bool {
        self.kind != Kind::Refused
    }

    /// Whether this call is one of HALF_OPEN's probes.
    pub fn is_probe(&self) -> bool {
        self.kind == Kind::Probe
    }

    /// Clock reading when the permission was granted, nanoseconds.
    pub fn started_at_nanos(&self) -> u64 {
        self.start_nanos
    }
}

// Control word: bits 0-1 automatic state, bits 2-3 operator mode, the rest a generation
// that changes with every transition, so late results of an earlier state are dropped.
const AUTO_CLOSED: u64 = 0;
const AUTO_OPEN: u64 = 1;
const AUTO_HALF_OPEN: u64 = 2;
const GENERATION_SHIFT: u32 = 4;

fn mode_bits(mode: OperatorMode) -> u64 {
    match mode {
        OperatorMode::Automatic => 0,
        OperatorMode::ForcedOpen => 1,
        OperatorMode::Disabled => 2,
        OperatorMode::MetricsOnly => 3,
    }
}

fn control_mode(control: u64) -> OperatorMode {
    match (control >> 2) & 3 {
        0 => OperatorMode::Automatic,
        1 => OperatorMode::ForcedOpen,
        2 => OperatorMode::Disabled,
        _ => OperatorMode::MetricsOnly,
    }
}

fn control_auto(control: u64) -> u64 {
    control & 3
}

fn generation(control: u64) -> u64 {
    control >> GENERATION_SHIFT
}

fn auto_state(auto: u64) -> State {
    match auto {
        AUTO_OPEN => State::Open,
        AUTO_HALF_OPEN => State::HalfOpen,
        _ => State::Closed,
    }
}

fn visible_state(control: u64) -> State {
    match control_mode(control) {
        OperatorMode::Automatic => auto_state(control_auto(control)),
        OperatorMode::ForcedOpen => State::ForcedOpen,
        OperatorMode::Disabled => State::Disabled,
        OperatorMode::MetricsOnly => State::MetricsOnly,
    }
}

// Probe words carry the low 16 bits of the round's generation so that a claim or a
// result from an earlier round can never count in the current one.
const TAG_SHIFT: u32 = 48;
const TAG_MASK: u64 = 0xFFFF;

fn tag(generation: u64) -> u64 {
    generation & TAG_MASK
}

/// Thresholds and knobs as the call path uses them.
#[derive(Debug, Clone)]
struct Settings {
    config: BreakerConfig,
    slow_nanos: u64,
    ignored_mask: u64,
    max_half_open_nanos: Option<u64>,
}

impl Settings {
    fn new(config: BreakerConfig) -> Self {
        // The caller's own errors are never the Rust path's fault, configured or not.
        let ignored_mask = config
            .ignored_exit_codes
            .iter()
            .copied()
            .chain(board_api::caller_error_codes())
            .filter(|code| (0..64).contains(code))
            .fold(0u64, |mask, code| mask | 1 << code);
        Self {
            slow_nanos: config
                .slow_call_duration
                .as_nanos()
                .min(u128::from(u64::MAX)) as u64,
            max_half_open_nanos: config.max_half_open.map(|d| d.as_nanos() as u64),
            ignored_mask,
            config,
        }
    }

    /// `None` when the outcome is the caller's fault and must not count.
    #[inline]
    fn classify(&self, outcome: Outcome, elapsed_nanos: u64) -> Option<Entry> {
        let slow = elapsed_nanos >= self.slow_nanos;
        let failed = match outcome {
            Outcome::Success => false,
            Outcome::Failure { exit_code } => {
                if (0..64).contains(&exit_code) && self.ignored_mask & (1 << exit_code) != 0 {
                    return None;
                }
                true
            }
            Outcome::Panic | Outcome::Timeout => true,
        };
        Some(Entry { failed, slow })
    }

    #[inline]
    fn over_threshold(&self, totals: Totals) -> bool {
        totals.calls > 0
            && totals.calls >= self.config.minimum_calls
            && (totals.failure_rate() >= self.config.failure_rate_threshold
                || totals.slow_rate() >= self.config.slow_call_rate_threshold)
    }

    fn window_words(&self, totals: Totals) -> String {
        match self.config.window {
            WindowConfig::Count { .. } => format!("over the last {} calls", totals.calls),
            WindowConfig::Time { seconds, .. } => {
                format!("over {} calls in the last {seconds} s", totals.calls)
            }
        }
    }

    fn trip_cause(&self, totals: Totals) -> String {
        let mut reasons = Vec::new();
        if totals.failure_rate() >= self.config.failure_rate_threshold {
            reasons.push(format!(
                "failure rate {}% ≥ {}%",
                round1(totals.failure_rate()),
                self.config.failure_rate_threshold
            ));
        }
        if totals.slow_rate() >= self.config.slow_call_rate_threshold {
            reasons.push(format!(
                "slow-call rate {}% ≥ {}% (slow = {:?} or longer)",
                round1(totals.slow_rate()),
                self.config.slow_call_rate_threshold,
                self.config.slow_call_duration
            ));
        }
        format!("{} {}", reasons.join(" and "), self.window_words(totals))
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

struct Engine {
    settings: Settings,
    window: Arc<Window>,
}

/// State that changes only on transitions; guarded by a mutex the call path never takes
/// unless it is the call that causes a transition.
struct Rare {
    reopens: u32,
    jitter: Jitter,
    current_wait: Option<Duration>,
    last_cause: String,
    last_at: Option<u64>,
    subscribers: Vec<SyncSender<Transition>>,
}

/// One board kind's circuit breaker; share it as `Arc<Breaker>`.
pub struct Breaker {
    clock: Arc<dyn Clock>,
    control: AtomicU64,
    engine: ArcSwap<Engine>,
    open_until: AtomicU64,
    half_open_since: AtomicU64,
    /// Tag | probes claimed in this round.
    probe_claims: AtomicU64,
    /// Tag | done (bits 32..48) | failed (16..32) | slow (0..16) for this round.
    probe_results: AtomicU64,
    round_size: AtomicU32,
    events_dropped: AtomicU64,
    rare: Mutex<Rare>,
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

fn seed_from(clock: &dyn Clock) -> u64 {
    static BREAKERS: AtomicU64 = AtomicU64::new(0);
    clock.now_nanos()
        ^ BREAKERS
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Breaker {
    /// A CLOSED breaker (or in the config's operator mode).
    ///
    /// # Panics
    /// If `config` does not pass [`BreakerConfig::validate`]; `toggles` validates before
    /// building one. Use [`Breaker::try_new`] to get the error instead.
    pub fn new(config: BreakerConfig, clock: Arc<dyn Clock>) -> Breaker {
        match Self::try_new(config, clock) {
            Ok(breaker) => breaker,
            Err(error) => panic!("invalid breaker config: {error}"),
        }
    }

    /// Like [`Breaker::new`], returning the validation error.
    pub fn try_new(config: BreakerConfig, clock: Arc<dyn Clock>) -> Result<Breaker, ConfigError> {
        let seed = seed_from(clock.as_ref());
        Self::with_jitter_seed(config, clock, seed)
    }

    /// Like [`Breaker::try_new`] with a chosen seed for the backoff jitter (tests, replays).
    pub fn with_jitter_seed(
        config: BreakerConfig,
        clock: Arc<dyn Clock>,
        seed: u64,
    ) -> Result<Breaker, ConfigError> {
        config.validate()?;
        let mode = config.mode;
        let window = Arc::new(Window::new(config.window));
        let settings = Settings::new(config);
        Ok(Breaker {
            clock,
            control: AtomicU64::new(AUTO_CLOSED | mode_bits(mode) << 2),
            engine: ArcSwap::from_pointee(Engine { settings, window }),
            open_until: AtomicU64::new(0),
            half_open_since: AtomicU64::new(0),
            probe_claims: AtomicU64::new(0),
            probe_results: AtomicU64::new(0),
            round_size: AtomicU32::new(0),
            events_dropped: AtomicU64::new(0),
            rare: Mutex::new(Rare {
                reopens: 0,
                jitter: Jitter::new(seed),
                current_wait: None,
                last_cause: "created".to_owned(),
                last_at: None,
                subscribers: Vec::new(),
            }),
        })
    }

    // Admission -------------------------------------------------------------------------

    /// May this call (or new session) use the Rust path now? CLOSED, DISABLED and
    /// METRICS_ONLY: yes; OPEN and FORCED_OPEN: no; HALF_OPEN: only within the probe
    /// permits. Also moves OPEN to HALF_OPEN when the wait has elapsed.
    #[inline]
    pub fn try_acquire(&self) -> Permission {
        loop {
            let control = self.control.load(Ordering::Acquire);
            let now = self.clock.now_nanos();
            let mode = control_mode(control);
            let grant = |kind| Permission {
                start_nanos: now,
                generation: generation(control),
                kind,
                slow_marked: AtomicBool::new(false),
            };
            let refused_kind = if mode == OperatorMode::MetricsOnly {
                Kind::Unjudged
            } else {
                Kind::Refused
            };
            match mode {
                OperatorMode::ForcedOpen => return grant(Kind::Refused),
                OperatorMode::Disabled => return grant(Kind::Call),
                OperatorMode::Automatic | OperatorMode::MetricsOnly => {}
            }
            match control_auto(control) {
                AUTO_CLOSED => return grant(Kind::Call),
                AUTO_OPEN => {
                    if now < self.open_until.load(Ordering::Acquire) {
                        return grant(refused_kind);
                    }
                    self.enter_half_open(control, now);
                }
                _ => {
                    if self.half_open_expired(now) {
                        self.expire_half_open(control, now);
                        continue;
                    }
                    match self.claim_probe(control) {
                        ProbeClaim::Granted => return grant(Kind::Probe),
                        ProbeClaim::Exhausted => return grant(refused_kind),
                        ProbeClaim::StaleRound => {}
                    }
                }
            }
        }
    }

    fn half_open_expired(&self, now: u64) -> bool {
        let engine = self.engine.load();
        match engine.settings.max_half_open_nanos {
            Some(limit) => {
                now.saturating_sub(self.half_open_since.load(Ordering::Acquire)) >= limit
            }
            None => false,
        }
    }

    fn claim_probe(&self, control: u64) -> ProbeClaim {
        let round = tag(generation(control));
        let size = u64::from(self.round_size.load(Ordering::Acquire));
        let mut current = self.probe_claims.load(Ordering::Acquire);
        loop {
            if current >> TAG_SHIFT != round {
                return ProbeClaim::StaleRound;
            }
            let claimed = current & 0xFFFF_FFFF;
            if claimed >= size {
                return ProbeClaim::Exhausted;
            }
            match self.probe_claims.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return ProbeClaim::Granted,
                Err(seen) => current = seen,
            }
        }
    }

    fn return_probe(&self, generation: u64) {
        let round = tag(generation);
        let _ = self
            .probe_claims
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current >> TAG_SHIFT == round && current & 0xFFFF_FFFF > 0).then(|| current - 1)
            });
    }

    // Recording -------------------------------------------------------------------------

    /// Reports how a permitted call ended. The duration is measured from the permission.
    /// Lock-free and allocation-free unless this call causes a transition.
    #[inline]
    pub fn record(&self, permission: Permission, outcome: Outcome) {
        if matches!(permission.kind, Kind::Refused | Kind::Unjudged) {
            return;
        }
        if permission.slow_marked.load(Ordering::Acquire) {
            // Already counted, as slow, by `mark_in_flight_slow`.
            return;
        }
        let now = self.clock.now_nanos();
        let engine = self.engine.load();
        let elapsed = now.saturating_sub(permission.start_nanos);
        let Some(entry) = engine.settings.classify(outcome, elapsed) else {
            if permission.kind == Kind::Probe {
                // The caller's fault says nothing about the Rust path: give the permit back.
                self.return_probe(permission.generation);
            }
            return;
        };
        self.count(&engine, &permission, entry, now);
    }

    /// Counts a call that is still running past `slow_call_duration` as slow, now, so a
    /// hung Rust call trips the breaker without ever returning. Call it from a watchdog
    /// at (or after) `started_at + slow_call_duration`; returns whether the call was
    /// counted (false if it is not yet slow, was already marked, or was not permitted).
    /// The call's later [`Breaker::record`] then changes nothing.
    pub fn mark_in_flight_slow(&self, permission: &Permission) -> bool {
        if matches!(permission.kind, Kind::Refused | Kind::Unjudged) {
            return false;
        }
        let now = self.clock.now_nanos();
        let engine = self.engine.load();
        if now.saturating_sub(permission.start_nanos) < engine.settings.slow_nanos {
            return false;
        }
        if permission.slow_marked.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.count(
            &engine,
            permission,
            Entry {
                failed: false,
                slow: true,
            },
            now,
        );
        true
    }

    /// When a watchdog should call [`Breaker::mark_in_flight_slow`] for this permission.
    pub fn slow_deadline_nanos(&self, permission: &Permission) -> u64 {
        permission
            .start_nanos
            .saturating_add(self.engine.load().settings.slow_nanos)
    }

    #[inline]
    fn count(&self, engine: &Engine, permission: &Permission, entry: Entry, now: u64) {
        let control = self.control.load(Ordering::Acquire);
        if generation(control) != permission.generation {
            // Admitted under an earlier state; its result says nothing about this one.
            return;
        }
        if permission.kind == Kind::Probe {
            self.count_probe(engine, permission.generation, entry, now);
            return;
        }
        if let Some(totals) = engine.window.record(entry, now) {
            if control_auto(control) == AUTO_CLOSED
                && control_mode(control) != OperatorMode::Disabled
                && engine.settings.over_threshold(totals)
            {
                self.trip(control, now);
            }
        }
    }

    fn count_probe(&self, engine: &Engine, generation: u64, entry: Entry, now: u64) {
        let round = tag(generation);
        let mut current = self.probe_results.load(Ordering::Acquire);
        let (done, failed, slow) = loop {
            if current >> TAG_SHIFT != round {
                return;
            }
            let done = ((current >> 32) & 0xFFFF) + 1;
            let failed = ((current >> 16) & 0xFFFF) + u64::from(entry.failed);
            let slow = (current & 0xFFFF) + u64::from(entry.slow);
            let next = round << TAG_SHIFT | done << 32 | failed << 16 | slow;
            match self.probe_results.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break (done as u32, failed as u32, slow as u32),
                Err(seen) => current = seen,
            }
        };
        let size = self.round_size.load(Ordering::Acquire);
        let config = &engine.settings.config;
        let failure_rate = percent(failed, size);
        let slow_rate = percent(slow, size);
        // Rates are over the whole round, so once one reaches its threshold no later
        // probe can bring it back under: reopen without waiting for the rest.
        if failure_rate >= config.failure_rate_threshold
            || slow_rate >= config.slow_call_rate_threshold
        {
            let mut reasons = Vec::new();
            if failure_rate >= config.failure_rate_threshold {
                reasons.push(format!(
                    "{failed}/{size} probes failed (failure rate {}% ≥ {}%)",
                    round1(failure_rate),
                    config.failure_rate_threshold
                ));
            }
            if slow_rate >= config.slow_call_rate_threshold {
                reasons.push(format!(
                    "{slow}/{size} probes slow (slow-call rate {}% ≥ {}%)",
                    round1(slow_rate),
                    config.slow_call_rate_threshold
                ));
            }
            let numbers = Numbers {
                failure_rate,
                slow_rate,
                calls: done,
            };
            self.reopen(generation, now, reasons.join(" and "), numbers);
        } else if done >= size {
            let succeeded = done - failed;
            let cause = format!(
                "{succeeded}/{size} probes succeeded (failure rate {}% < {}%, slow-call rate {}% < {}%)",
                round1(failure_rate),
                config.failure_rate_threshold,
                round1(slow_rate),
                config.slow_call_rate_threshold
            );
            self.close(
                generation,
                now,
                cause,
                Numbers {
                    failure_rate,
                    slow_rate,
                    calls: done,
                },
            );
        }
    }

    // Transitions -----------------------------------------------------------------------

    fn lock_rare(&self) -> MutexGuard<'_, Rare> {
        // A panic while holding this lock leaves only bookkeeping behind; keep going.
        self.rare
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn trip(&self, seen: u64, now: u64) {
        let mut rare = self.lock_rare();
        if self.control.load(Ordering::Acquire) != seen {
            return;
        }
        let engine = self.engine.load();
        let totals = engine.window.totals(now);
        if !engine.settings.over_threshold(totals) {
            return;
        }
        let cause = engine.settings.trip_cause(totals);
        rare.reopens = 0;
        self.open(
            &mut rare,
            &engine.settings,
            seen,
            now,
            cause,
            Numbers::of(totals),
        );
    }

    /// Sets OPEN with the wait for the current reopen count.
    fn open(
        &self,
        rare: &mut Rare,
        settings: &Settings,
        seen: u64,
        now: u64,
        cause: String,
        numbers: Numbers,
    ) {
        let draw = rare.jitter.draw();
        let wait = open_wait(&settings.config.open_wait, rare.reopens, draw);
        rare.current_wait = Some(wait);
        self.open_until.store(
            now.saturating_add(wait.as_nanos() as u64),
            Ordering::Release,
        );
        let cause = format!("{cause}; open for {wait:.1?}");
        self.publish(
            rare,
            seen,
            AUTO_OPEN,
            control_mode(seen),
            now,
            cause,
            numbers,
        );
    }

    fn enter_half_open(&self, seen: u64, now: u64) {
        let mut rare = self.lock_rare();
        if self.control.load(Ordering::Acquire) != seen {
            return;
        }
        let engine = self.engine.load();
        let size = engine.settings.config.permitted_probes;
        let next_generation = generation(seen) + 1;
        let round = tag(next_generation);
        self.round_size.store(size, Ordering::Release);
        self.probe_claims
            .store(round << TAG_SHIFT, Ordering::Release);
        self.probe_results
            .store(round << TAG_SHIFT, Ordering::Release);
        self.half_open_since.store(now, Ordering::Release);
        let waited = rare.current_wait.unwrap_or_default();
        let cause = format!("open wait of {waited:.1?} elapsed; permitting {size} probes");
        self.publish(
            &mut rare,
            seen,
            AUTO_HALF_OPEN,
            control_mode(seen),
            now,
            cause,
            Numbers::default(),
        );
    }

    fn expire_half_open(&self, seen: u64, now: u64) {
        let mut rare = self.lock_rare();
        if self.control.load(Ordering::Acquire) != seen {
            return;
        }
        let engine = self.engine.load();
        let results = self.probe_results.load(Ordering::Acquire);
        let done = ((results >> 32) & 0xFFFF) as u32;
        let size = self.round_size.load(Ordering::Acquire);
        let lasted =
            Duration::from_nanos(now.saturating_sub(self.half_open_since.load(Ordering::Acquire)));
        let cause = format!("half-open lasted {lasted:.1?} with only {done}/{size} probe results");
        rare.reopens = rare.reopens.saturating_add(1);
        let numbers = Numbers {
            calls: done,
            ..Numbers::default()
        };
        self.open(&mut rare, &engine.settings, seen, now, cause, numbers);
    }

    fn reopen(&self, round_generation: u64, now: u64, cause: String, numbers: Numbers) {
        let mut rare = self.lock_rare();
        let seen = self.control.load(Ordering::Acquire);
        if generation(seen) != round_generation || control_auto(seen) != AUTO_HALF_OPEN {
            return;
        }
        let engine = self.engine.load();
        rare.reopens = rare.reopens.saturating_add(1);
        self.open(&mut rare, &engine.settings, seen, now, cause, numbers);
    }

    fn close(&self, round_generation: u64, now: u64, cause: String, numbers: Numbers) {
        let mut rare = self.lock_rare();
        let seen = self.control.load(Ordering::Acquire);
        if generation(seen) != round_generation || control_auto(seen) != AUTO_HALF_OPEN {
            return;
        }
        self.engine.load().window.reset();
        rare.reopens = 0;
        rare.current_wait = None;
        self.publish(
            &mut rare,
            seen,
            AUTO_CLOSED,
            control_mode(seen),
            now,
            cause,
            numbers,
        );
    }

    /// Stores the new control word (next generation) and tells everyone. Caller holds
    /// the rare lock and has checked `seen` is current.
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &self,
        rare: &mut Rare,
        seen: u64,
        auto: u64,
        mode: OperatorMode,
        now: u64,
        cause: String,
        numbers: Numbers,
    ) {
        let next = (generation(seen) + 1) << GENERATION_SHIFT | mode_bits(mode) << 2 | auto;
        self.control.store(next, Ordering::Release);
        let enforced =
            control_mode(seen) != OperatorMode::MetricsOnly || mode != OperatorMode::MetricsOnly;
        let (from, to) = if enforced {
            (visible_state(seen), visible_state(next))
        } else {
            (auto_state(control_auto(seen)), auto_state(auto))
        };
        let cause = if enforced {
            cause
        } else {
            format!("metrics only, would act: {cause}")
        };
        tracing::info!(
            from = from.as_str(),
            to = to.as_str(),
            enforced,
            failure_rate = numbers.failure_rate,
            slow_rate = numbers.slow_rate,
            calls = numbers.calls,
            cause = cause.as_str(),
            "circuit breaker transition"
        );
        let event = Transition {
            from,
            to,
            cause: cause.clone(),
            at_nanos: now,
            failure_rate: numbers.failure_rate,
            slow_rate: numbers.slow_rate,
            calls: numbers.calls,
            enforced,
        };
        rare.subscribers
            .retain(|subscriber| match subscriber.try_send(event.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    self.events_dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            });
        rare.last_cause = cause;
        rare.last_at = Some(now);
    }

    // Operators -------------------------------------------------------------------------

    /// FORCED_OPEN: the Rust path is off until [`Breaker::release`].
    pub fn force_open(&self) {
        self.set_mode(OperatorMode::ForcedOpen);
    }

    /// Back to automatic (see [`Breaker::set_mode`] for what that keeps).
    pub fn release(&self) {
        self.set_mode(OperatorMode::Automatic);
    }

    /// Switches the operator mode.
    ///
    /// - to FORCED_OPEN: refuses everything from now on.
    /// - to DISABLED: CLOSED underneath; the window keeps its calls and keeps measuring.
    /// - to METRICS_ONLY: the automatic state carries on as what it *would* be.
    /// - to AUTOMATIC from FORCED_OPEN: CLOSED with an empty window and the backoff reset.
    /// - to AUTOMATIC from DISABLED: CLOSED, window kept and judged at once.
    /// - to AUTOMATIC from METRICS_ONLY: the would-be state becomes the real one.
    pub fn set_mode(&self, mode: OperatorMode) {
        let mut rare = self.lock_rare();
        let seen = self.control.load(Ordering::Acquire);
        let previous = control_mode(seen);
        if previous == mode {
            return;
        }
        let now = self.clock.now_nanos();
        let engine = self.engine.load();
        let (auto, cause) = match mode {
            OperatorMode::ForcedOpen => (control_auto(seen), "forced open by operator"),
            OperatorMode::Disabled => (AUTO_CLOSED, "disabled by operator: measures, never trips"),
            OperatorMode::MetricsOnly => (
                control_auto(seen),
                "metrics only by operator: reports, never refuses",
            ),
            OperatorMode::Automatic => match previous {
                OperatorMode::ForcedOpen => {
                    engine.window.reset();
                    rare.reopens = 0;
                    rare.current_wait = None;
                    (AUTO_CLOSED, "released by operator")
                }
                OperatorMode::Disabled => (AUTO_CLOSED, "armed by operator after disabled"),
                _ => (control_auto(seen), "armed by operator after metrics only"),
            },
        };
        let numbers = Numbers::of(engine.window.totals(now));
        self.publish(&mut rare, seen, auto, mode, now, cause.to_owned(), numbers);
        drop(rare);
        self.judge_now();
    }

    /// Applies a new configuration (hot reload).
    ///
    /// Kept: the state, the open wait already chosen, the reopen count, a HALF_OPEN
    /// round already under way (with the probe count it started with) and the window's
    /// calls when the window shape (kind, size, buckets) is unchanged. Reset: the
    /// window, when its shape changes. Thresholds, minimum calls, slow-call duration and
    /// ignored codes apply to the next call recorded; the window is judged at once, so
    /// lowering a threshold below the current rate opens the breaker now. A changed
    /// `mode` is applied as by [`Breaker::set_mode`].
    pub fn reconfigure(&self, config: BreakerConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let mode = config.mode;
        {
            let _rare = self.lock_rare();
            let current = self.engine.load();
            let window = if current.settings.config.window == config.window {
                Arc::clone(&current.window)
            } else {
                Arc::new(Window::new(config.window))
            };
            self.engine.store(Arc::new(Engine {
                settings: Settings::new(config),
                window,
            }));
        }
        self.set_mode(mode);
        self.judge_now();
        Ok(())
    }

    fn judge_now(&self) {
        let control = self.control.load(Ordering::Acquire);
        if control_auto(control) != AUTO_CLOSED
            || matches!(
                control_mode(control),
                OperatorMode::Disabled | OperatorMode::ForcedOpen
            )
        {
            return;
        }
        let now = self.clock.now_nanos();
        let engine = self.engine.load();
        if engine.settings.over_threshold(engine.window.totals(now)) {
            self.trip(control, now);
        }
    }

    // Reading ---------------------------------------------------------------------------

    /// The state as the dispatcher sees it (applies an elapsed open wait or half-open
    /// limit first).
    pub fn state(&self) -> State {
        self.catch_up();
        visible_state(self.control.load(Ordering::Acquire))
    }

    /// CLOSED, OPEN or HALF_OPEN: the automatic machine's state, which for METRICS_ONLY
    /// is the state it would be enforcing.
    pub fn automatic_state(&self) -> State {
        self.catch_up();
        auto_state(control_auto(self.control.load(Ordering::Acquire)))
    }

    /// The operator mode in force.
    pub fn mode(&self) -> OperatorMode {
        control_mode(self.control.load(Ordering::Acquire))
    }

    fn catch_up(&self) {
        let control = self.control.load(Ordering::Acquire);
        if control_mode(control) == OperatorMode::ForcedOpen {
            return;
        }
        let now = self.clock.now_nanos();
        match control_auto(control) {
            AUTO_OPEN if now >= self.open_until.load(Ordering::Acquire) => {
                self.enter_half_open(control, now)
            }
            AUTO_HALF_OPEN if self.half_open_expired(now) => self.expire_half_open(control, now),
            _ => {}
        }
    }

    /// Everything the status page shows.
    pub fn snapshot(&self) -> BreakerSnapshot {
        self.catch_up();
        let rare = self.lock_rare();
        let control = self.control.load(Ordering::Acquire);
        let now = self.clock.now_nanos();
        let engine = self.engine.load();
        let totals = engine.window.totals(now);
        let auto = control_auto(control);
        let half_open = auto == AUTO_HALF_OPEN;
        let claims = self.probe_claims.load(Ordering::Acquire);
        let results = self.probe_results.load(Ordering::Acquire);
        let claimed = if half_open {
            (claims & 0xFFFF_FFFF) as u32
        } else {
            0
        };
        let done = if half_open {
            ((results >> 32) & 0xFFFF) as u32
        } else {
            0
        };
        let failed = if half_open {
            ((results >> 16) & 0xFFFF) as u32
        } else {
            0
        };
        let slow = if half_open {
            (results & 0xFFFF) as u32
        } else {
            0
        };
        BreakerSnapshot {
            state: visible_state(control),
            automatic_state: auto_state(auto),
            mode: control_mode(control),
            last_cause: rare.last_cause.clone(),
            last_transition_at_nanos: rare.last_at,
            calls_in_window: totals.calls,
            failed_in_window: totals.failed,
            slow_in_window: totals.slow,
            failure_rate: totals.failure_rate(),
            slow_rate: totals.slow_rate(),
            open_wait: rare.current_wait,
            open_remaining: (auto == AUTO_OPEN).then(|| {
                Duration::from_nanos(self.open_until.load(Ordering::Acquire).saturating_sub(now))
            }),
            reopens: rare.reopens,
            probes_permitted: if half_open {
                self.round_size.load(Ordering::Acquire)
            } else {
                0
            },
            probes_in_flight: claimed.saturating_sub(done),
            probes_succeeded: done - failed,
            probes_failed: failed,
            probes_slow: slow,
            events_dropped: self.events_dropped.load(Ordering::Relaxed),
        }
    }

    /// A queue of every transition from now on. Events are sent when they happen (never
    /// blocking the call that caused them); if this queue is full
    /// ([`SUBSCRIBER_CAPACITY`]) further events for it are dropped and counted in
    /// [`BreakerSnapshot::events_dropped`]. Dropping the receiver unsubscribes.
    pub fn subscribe(&self) -> Receiver<Transition> {
        let (sender, receiver) = sync_channel(SUBSCRIBER_CAPACITY);
        self.lock_rare().subscribers.push(sender);
        receiver
    }

    /// The configuration in force.
    pub fn config(&self) -> BreakerConfig {
        self.engine.load().settings.config.clone()
    }

    /// The open-wait policy in force.
    pub fn open_wait_policy(&self) -> Backoff {
        self.engine.load().settings.config.open_wait.clone()
    }
}

enum ProbeClaim {
    Granted,
    Exhausted,
    StaleRound,
}

#[derive(Debug, Clone, Copy, Default)]
struct Numbers {
    failure_rate: f64,
    slow_rate: f64,
    calls: u32,
}

impl Numbers {
    fn of(totals: Totals) -> Self {
        Self {
            failure_rate: totals.failure_rate(),
            slow_rate: totals.slow_rate(),
            calls: totals.calls,
        }
    }
}
