//! The replay of a plan's boundaries: the stage at any moment is a function of the plan
//! and of the answers about each past boundary, asked at that boundary's time.

use crate::judge::{judge, measures_of, Judgement, Readings, Verdict};
use std::time::Duration;
use toggles::{Measure, MigrationPlan, Stage, Timestamp};

/// The question about one boundary: the evidence for `stage` between `since` (when the
/// board entered it) and `at` (the boundary).
#[derive(Debug, Clone)]
pub struct Asked<'a> {
    pub board: &'a str,
    pub at: Timestamp,
    pub since: Timestamp,
    pub stage: &'a Stage,
    pub measures: Vec<Measure>,
}

impl Asked<'_> {
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.at.0.saturating_sub(self.since.0).max(0) as u64)
    }
}

/// The evidence could not be had for a boundary (unreachable, slow, garbage, an error):
/// the boundary stays undecided and is asked again; the plan does not move meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unanswered(pub String);

/// Where evidence comes from: Prometheus, or this host's own metrics.
pub trait EvidenceSource {
    fn ask(&mut self, asked: &Asked<'_>) -> Result<Readings, Unanswered>;
}

/// Where a plan stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// Index into the plan's stages.
    pub stage: usize,
    pub entered_at: Timestamp,
    /// Where the stage's evidence window begins: the entry, or the last boundary at which
    /// a condition failed. A stage advances only on a whole clean window after any
    /// failure, minimum time and sample included.
    pub evidence_since: Timestamp,
    /// Set by a rollback: the plan stays in `stage` until the plan is edited.
    pub halted: Option<String>,
    /// The last boundary judged and its judgement.
    pub last: Option<(Timestamp, Judgement)>,
    /// How many boundaries (counted from the plan's start) are decided.
    pub decided: u64,
    /// The first undecided boundary that was asked and could not be answered, and why.
    pub unanswered: Option<(Timestamp, String)>,
}

/// A stage change at a boundary, for the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub at: Timestamp,
    pub from: usize,
    pub to: usize,
    pub verdict: Verdict,
}

/// A plan being walked boundary by boundary.
#[derive(Debug, Clone)]
pub struct Walk {
    plan: MigrationPlan,
    board: String,
    position: Position,
}

impl Walk {
    /// A walk from the plan's start. `origin` later than the start (a host judging its own
    /// counters, which a restart loses) begins the plan again at stage 1 from there.
    pub fn new(plan: MigrationPlan, board: &str, origin: Timestamp) -> Walk {
        let origin = Timestamp(origin.0.max(plan.start.0));
        let decided = plan.boundaries_before(origin);
        Walk { position: Position { stage: 0, entered_at: origin, evidence_since: origin, halted: None, last: None, decided, unanswered: None }, plan, board: board.to_owned() }
    }

    pub fn plan(&self) -> &MigrationPlan {
        &self.plan
    }

    pub fn board(&self) -> &str {
        &self.board
    }

    pub fn position(&self) -> &Position {
        &self.position
    }

    /// The next boundary to decide.
    pub fn next_boundary(&self) -> Timestamp {
        self.plan.boundary(self.position.decided + 1)
    }

    /// Whether nothing can change any more (the last stage, or halted by a rollback).
    pub fn finished(&self) -> bool {
        self.position.halted.is_some() || self.position.stage + 1 == self.plan.stages.len()
    }

    /// How many boundaries are due at `now` and not decided yet.
    pub fn behind(&self, now: Timestamp, settle: Duration) -> u64 {
        self.due(now, settle).saturating_sub(self.position.decided)
    }

    fn due(&self, now: Timestamp, settle: Duration) -> u64 {
        self.plan.boundaries_before(Timestamp(now.0.saturating_sub(settle.as_millis() as i64)))
    }

    /// Decides, in order, every boundary `settle` or more before `now` (at most `budget`
    /// of them, so a long replay is spread over several calls), stopping at the first one
    /// `source` cannot answer. Returns the stage changes made.
    pub fn catch_up(&mut self, now: Timestamp, settle: Duration, source: &mut dyn EvidenceSource, budget: u64) -> Vec<Move> {
        let due = self.due(now, settle);
        let due = if self.finished() { due } else { due.min(self.position.decided.saturating_add(budget)) };
        let mut moves = Vec::new();
        while self.position.decided < due {
            let k = self.position.decided + 1;
            let at = self.plan.boundary(k);
            if self.finished() {
                self.position.decided = due;
                break;
            }
            let p = &self.position;
            let stage = &self.plan.stages[p.stage];
            let asked = Asked { board: &self.board, at, since: p.evidence_since, stage, measures: measures_of(stage) };
            let readings = match source.ask(&asked) {
                Ok(r) => r,
                Err(Unanswered(why)) => {
                    self.position.unanswered = Some((at, why));
                    break;
                }
            };
            let in_stage = asked.window();
            let is_last = p.stage + 1 == self.plan.stages.len();
            let judgement = judge(stage, is_last, in_stage, &readings);
            let from = p.stage;
            let to = match &judgement.verdict {
                Verdict::Advance => from + 1,
                Verdict::Rollback(_) => self.plan.rollback_target(from),
                Verdict::Hold(_) | Verdict::Complete => from,
            };
            if let Verdict::Rollback(why) = &judgement.verdict {
                self.position.halted = Some(format!("rolled back at {at}: {why}"));
            }
            if to != from || matches!(judgement.verdict, Verdict::Rollback(_)) {
                moves.push(Move { at, from, to, verdict: judgement.verdict.clone() });
                self.position.entered_at = at;
                self.position.evidence_since = at;
            } else if judgement.lines.iter().any(|l| l.state == crate::judge::CheckState::Fail) {
                self.position.evidence_since = at;
            }
            self.position.stage = to;
            self.position.last = Some((at, judgement));
            self.position.decided = k;
            self.position.unanswered = None;
        }
        moves
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::Reading;
    use std::path::Path;
    use toggles::Config;

    const PLAN: &str = "boards:
  synthetic:
    migration:
      start: 2026-01-01T00:00:00Z
      check_every: 10s
      evidence: local
      stages:
        - mode: cpp
          min_sample: { shadow_comparisons: 10 }
        - mode: shadow
          min_duration: 20s
          min_sample: { shadow_comparisons: 10 }
          checks:
            - { measure: shadow_mismatches, max: 0 }
            - { measure: breaker_openings, max: 0, on_fail: rollback }
        - mode: rust
          percent: 100
";

    fn plan() -> MigrationPlan {
        Config::parse(PLAN, Path::new("p.yaml")).unwrap().board(board_api::BoardId::Synthetic).migration.clone().unwrap()
    }

    type Answers = Box<dyn FnMut(&Asked<'_>) -> Option<Readings>>;

    /// Answers from a script keyed by boundary time; `None` = unreachable. Counts questions.
    struct Script(Answers, u32);

    impl EvidenceSource for Script {
        fn ask(&mut self, asked: &Asked<'_>) -> Result<Readings, Unanswered> {
            self.1 += 1;
            (self.0)(asked).ok_or_else(|| Unanswered("connection refused".into()))
        }
    }

    fn clean() -> Readings {
        [(Measure::ShadowComparisons, Reading::of(100.0)), (Measure::ShadowMismatches, Reading::of(0.0)), (Measure::BreakerOpenings, Reading::of(0.0))].into_iter().collect()
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp(plan().start.0 + secs * 1000)
    }

    #[test]
    fn clean_evidence_walks_the_plan_at_its_boundaries_and_a_replay_agrees() {
        let mut walk = Walk::new(plan(), "synthetic", plan().start);
        let mut source = Script(Box::new(|_| Some(clean())), 0);
        assert!(walk.catch_up(at(9), Duration::ZERO, &mut source, u64::MAX).is_empty());
        let moves = walk.catch_up(at(10), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!(moves.iter().map(|m| (m.at, m.to)).collect::<Vec<_>>(), vec![(at(10), 1)]);
        // Shadow needs 20 s: held at 20, advanced at 30.
        walk.catch_up(at(25), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!(walk.position().stage, 1);
        assert!(matches!(&walk.position().last, Some((_, j)) if j.verdict.word() == "hold"));
        walk.catch_up(at(31), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!((walk.position().stage, walk.position().entered_at), (2, at(30)));
        assert!(walk.finished());
        let asked = source.1;
        // A host that starts later replays the same boundaries and lands in the same place.
        let mut late = Walk::new(plan(), "synthetic", plan().start);
        late.catch_up(at(31), Duration::ZERO, &mut Script(Box::new(|_| Some(clean())), 0), u64::MAX);
        assert_eq!(late.position().stage, walk.position().stage);
        assert_eq!(late.position().entered_at, walk.position().entered_at);
        // Finished: no further questions.
        walk.catch_up(at(500), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!(source.1, asked);
    }

    #[test]
    fn an_unanswered_boundary_holds_the_plan_until_it_is_answered() {
        let mut walk = Walk::new(plan(), "synthetic", plan().start);
        let mut down = Script(Box::new(|_| None), 0);
        assert!(walk.catch_up(at(45), Duration::ZERO, &mut down, u64::MAX).is_empty());
        assert_eq!(walk.position().stage, 0);
        assert_eq!(walk.position().unanswered, Some((at(10), "connection refused".to_owned())));
        let mut up = Script(Box::new(|_| Some(clean())), 0);
        // A budget of two boundaries per call: 10 (advance) and 20 (minimum time) now.
        let moves = walk.catch_up(at(45), Duration::ZERO, &mut up, 2);
        assert_eq!((moves.len(), walk.behind(at(45), Duration::ZERO)), (1, 2));
        assert_eq!(walk.position().unanswered, None);
        let moves = walk.catch_up(at(45), Duration::ZERO, &mut up, 2);
        assert_eq!((moves.len(), walk.behind(at(45), Duration::ZERO), walk.position().stage), (1, 0, 2));
    }

    #[test]
    fn the_settle_time_keeps_a_boundary_undecided_until_its_scrapes_landed() {
        let mut walk = Walk::new(plan(), "synthetic", plan().start);
        let mut source = Script(Box::new(|_| Some(clean())), 0);
        walk.catch_up(at(11), Duration::from_secs(2), &mut source, u64::MAX);
        assert_eq!((walk.position().decided, source.1), (0, 0));
        walk.catch_up(at(12), Duration::from_secs(2), &mut source, u64::MAX);
        assert_eq!(walk.position().decided, 1);
    }

    #[test]
    fn a_regression_rolls_back_and_halts_the_plan() {
        let mut walk = Walk::new(plan(), "synthetic", plan().start);
        let mut source = Script(Box::new(|a: &Asked<'_>| {
            let mut r = clean();
            if a.at.0 >= a.since.0 && a.stage.mode == toggles::Path::Shadow {
                r.insert(Measure::BreakerOpenings, Reading::of(1.0));
            }
            Some(r)
        }), 0);
        let moves = walk.catch_up(at(60), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!(moves.iter().map(|m| (m.at, m.from, m.to, m.verdict.word())).collect::<Vec<_>>(), vec![(at(10), 0, 1, "advance"), (at(20), 1, 0, "rollback")]);
        assert!(walk.position().halted.as_ref().unwrap().contains("breaker_openings is 1"));
        assert_eq!(walk.position().stage, 0);
    }

    #[test]
    fn after_a_failed_condition_the_stage_needs_a_whole_clean_window_again() {
        let mut walk = Walk::new(plan(), "synthetic", plan().start);
        let mut source = Script(Box::new(|a: &Asked<'_>| {
            let mut r = clean();
            // Mismatches seen in any window that covers 12 s to 14 s.
            if a.stage.mode == toggles::Path::Shadow && a.since.0 <= at(12).0 && a.at.0 >= at(14).0 {
                r.insert(Measure::ShadowMismatches, Reading::of(4.0));
            }
            Some(r)
        }), 0);
        walk.catch_up(at(30), Duration::ZERO, &mut source, u64::MAX);
        let p = walk.position();
        // The boundary at 20 saw the mismatches: the window starts again there.
        assert_eq!((p.stage, p.entered_at, p.evidence_since), (1, at(10), at(20)));
        // 20 + 20 s of minimum time, clean: advances at 40, not before.
        walk.catch_up(at(39), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!(walk.position().stage, 1);
        walk.catch_up(at(40), Duration::ZERO, &mut source, u64::MAX);
        assert_eq!((walk.position().stage, walk.position().entered_at), (2, at(40)));
    }

    #[test]
    fn a_local_walk_begins_again_from_its_origin() {
        let walk = Walk::new(plan(), "synthetic", at(35));
        assert_eq!((walk.position().stage, walk.position().decided, walk.next_boundary()), (0, 3, at(40)));
    }
}
