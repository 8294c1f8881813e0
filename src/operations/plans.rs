//! The migration controller: one thread that walks every board's migration plan on its
//! evidence and applies the stage reached through the toggle store (an overlay on the
//! file's mode and percentage, which the runtime applies as it applies a reload). Each
//! stage change is audited and counted; where each plan stands, with the evidence so far
//! and what the next boundary would do, is kept for the status page.
//!
//! With `evidence: prometheus` the stage is a function of the plan and of Prometheus's
//! answers about each past boundary, so every host reaches the same stage at the same
//! boundary and a restarted host replays its way back to it. Nothing local decides.

use super::prometheus::PrometheusEvidence;
use super::Operations;
use board_api::BoardId;
use migration::{judge, measures_of, Asked, EvidenceSource, Unanswered, Verdict, Walk};
use monitoring::{names, MigrationCheck, MigrationView};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use toggles::{Evidence, MigrationPlan, Timestamp};

/// How often plans are looked at: boundaries are at least 1 s apart.
const TICK: Duration = Duration::from_millis(200);
/// Boundaries replayed per tick at most: a restart of a long-running plan catches up
/// over several ticks, showing "replaying" meanwhile, instead of stalling the thread.
const REPLAY_PER_TICK: u64 = 100;
/// How often the evidence so far is asked for the status page's preview.
const PREVIEW_EVERY: Duration = Duration::from_secs(1);

struct Walking {
    walk: Walk,
    source: Box<dyn EvidenceSource + Send>,
    settle: Duration,
    preview: Option<(Instant, String, Vec<MigrationCheck>)>,
}

pub struct PlanController {
    operations: Arc<Operations>,
    walks: BTreeMap<BoardId, Walking>,
}

fn unix(t: Timestamp) -> f64 {
    t.0 as f64 / 1000.0
}

fn source_for(plan: &MigrationPlan, operations: &Arc<Operations>) -> Result<(Box<dyn EvidenceSource + Send>, Duration), String> {
    match &plan.evidence {
        Evidence::Prometheus(p) => {
            let source = PrometheusEvidence::new(p.clone()).map_err(|e| format!("cannot start the Prometheus client: {e}"))?;
            Ok((Box::new(source), p.settle))
        }
        Evidence::Local => {
            let ops = operations.clone();
            let render = Arc::new(move || monitoring::Backend::metrics(&*ops));
            Ok((Box::new(super::local_evidence::LocalEvidence::new(render)), Duration::ZERO))
        }
    }
}

impl PlanController {
    pub fn new(operations: Arc<Operations>) -> PlanController {
        PlanController { operations, walks: BTreeMap::new() }
    }

    pub fn run(mut self, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Acquire) {
            self.tick(Timestamp::from_system_time(SystemTime::now()));
            std::thread::sleep(TICK);
        }
    }

    pub fn tick(&mut self, now: Timestamp) {
        let snapshot = self.operations.runtime.store().load_full();
        for board in BoardId::ALL {
            let Some(plan) = &snapshot.config.board(board).migration else {
                if self.walks.remove(&board).is_some() {
                    self.lock_views().remove(&board);
                }
                continue;
            };
            let replace = self.walks.get(&board).is_none_or(|w| w.walk.plan() != plan);
            if replace {
                let (source, settle) = match source_for(plan, &self.operations) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(board = board.kind(), error = %e, "migration plan not walked");
                        continue;
                    }
                };
                // A plan judged on this host's own counters begins again where this
                // process began: the counters before it are gone.
                let origin = match plan.evidence {
                    Evidence::Local => now,
                    Evidence::Prometheus(_) => plan.start,
                };
                self.walks.insert(board, Walking { walk: Walk::new(plan.clone(), board.kind(), origin), source, settle, preview: None });
                self.operations.record_event("migration", format!("{}: plan of {} stages from {} taken up; replaying its boundaries", board.kind(), plan.stages.len(), plan.start));
            }
            self.walk_board(board, now);
        }
    }

    fn lock_views(&self) -> std::sync::MutexGuard<'_, BTreeMap<BoardId, MigrationView>> {
        self.operations.plans.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn walk_board(&mut self, board: BoardId, now: Timestamp) {
        let Some(w) = self.walks.get_mut(&board) else { return };
        let unanswered_before = w.walk.position().unanswered.clone();
        let moves = w.walk.catch_up(now, w.settle, w.source.as_mut(), REPLAY_PER_TICK);
        let b = board.kind();
        for m in &moves {
            let plan = w.walk.plan();
            let text = format!(
                "{b}: {} at boundary {}: stage {} ({}) -> stage {} ({}){}",
                m.verdict.word(),
                m.at,
                m.from + 1,
                plan.stages[m.from].describe(),
                m.to + 1,
                plan.stages[m.to].describe(),
                m.verdict.reason().map(|r| format!(": {r}")).unwrap_or_default()
            );
            tracing::warn!(target: "switchyard::audit", event = "migration_move", board = b, verdict = m.verdict.word(), from = m.from + 1, to = m.to + 1, boundary = %m.at, "{text}");
            metrics::counter!(names::MIGRATION_MOVES_TOTAL, "board" => b, "verdict" => m.verdict.word()).increment(1);
            self.operations.record_event("migration", text);
        }
        let position = w.walk.position().clone();
        if position.unanswered.is_some() && position.unanswered != unanswered_before {
            metrics::counter!(names::MIGRATION_UNANSWERED_TOTAL, "board" => b).increment(1);
            if let Some((at, why)) = &position.unanswered {
                tracing::warn!(board = b, boundary = %at, reason = %why, "migration plan holds: no evidence for the boundary");
            }
        }
        metrics::gauge!(names::MIGRATION_STAGE, "board" => b).set(position.stage as f64);
        let why = moves.last().map(|m| m.verdict.to_string()).unwrap_or_else(|| "plan position".to_owned());
        self.operations.runtime.store().set_plan_stage(board, position.stage, &why);
        if moves.iter().any(|m| matches!(m.verdict, migration::Verdict::Rollback(_))) {
            // A rollback is for the sessions already on Rust too: they move, losslessly,
            // wherever the stage rolled back to no longer puts them on Rust.
            self.operations.runtime.move_sessions_the_toggles_put_on_cpp(board, "PLAN_ROLLBACK");
        }

        // The preview: the evidence so far, judged as the next boundary would judge it.
        let stale = w.preview.as_ref().is_none_or(|(at, _, _)| at.elapsed() >= PREVIEW_EVERY) || !moves.is_empty();
        if stale {
            let (outcome, checks) = preview(&w.walk, w.source.as_mut(), now);
            w.preview = Some((Instant::now(), outcome, checks));
        }
        let view = view_of(&w.walk, w.preview.as_ref().map(|(_, o, c)| (o.clone(), c.clone())), now, w.walk.behind(now, w.settle));
        self.lock_views().insert(board, view);
    }
}

/// What the evidence so far would do at the next boundary, and each requirement against
/// it: the stage's window asked at `now`, judged with the time in stage the next boundary
/// will have.
pub fn preview(walk: &Walk, source: &mut dyn EvidenceSource, now: Timestamp) -> (String, Vec<MigrationCheck>) {
    let plan = walk.plan();
    let position = walk.position();
    if walk.finished() {
        return ("nothing: the plan is finished".to_owned(), last_checks(position));
    }
    if now.0 < plan.start.0 {
        return (format!("the plan starts at {}", plan.start), Vec::new());
    }
    let stage = &plan.stages[position.stage];
    let board = walk.board();
    let asked = Asked { board, at: now, since: position.evidence_since, stage, measures: measures_of(stage) };
    let in_stage_at_next = Duration::from_millis((walk.next_boundary().0 - position.evidence_since.0).max(0) as u64);
    match source.ask(&asked) {
        Ok(readings) => {
            let j = judge(stage, position.stage + 1 == plan.stages.len(), in_stage_at_next, &readings);
            (j.verdict.to_string(), j.lines.iter().map(check_view).collect())
        }
        Err(Unanswered(why)) => (format!("unknown: no evidence ({why})"), Vec::new()),
    }
}

/// Where a walked plan stands, for `/status`, the page and `explain`.
pub fn view_of(walk: &Walk, preview: Option<(String, Vec<MigrationCheck>)>, now: Timestamp, behind: u64) -> MigrationView {
    let plan = walk.plan();
    let position = walk.position();
    let (state, reason) = if now.0 < plan.start.0 {
        ("not started", None)
    } else if let Some(h) = &position.halted {
        ("halted", Some(h.clone()))
    } else if position.stage + 1 == plan.stages.len() {
        ("complete", None)
    } else if behind > 1 && position.unanswered.is_none() {
        ("replaying", Some(format!("{behind} past boundaries still to replay from Prometheus's history")))
    } else if let Some((at, why)) = &position.unanswered {
        ("holding", Some(format!("no evidence for the boundary at {at}, asked again: {why}")))
    } else {
        match position.last.as_ref().map(|(_, j)| &j.verdict) {
            Some(Verdict::Hold(r)) => ("holding", Some(r.clone())),
            _ => ("advancing", None),
        }
    };
    let (next_outcome, checks) = preview.unwrap_or_else(|| ("not judged yet".to_owned(), Vec::new()));
    MigrationView {
        stages: plan.stages.iter().map(|s| s.describe()).collect(),
        stage: position.stage,
        entered_at: unix(position.entered_at),
        evidence: match &plan.evidence {
            Evidence::Prometheus(p) => format!("prometheus {}", p.url),
            Evidence::Local => "local".to_owned(),
        },
        state: state.to_owned(),
        reason,
        last_boundary: position.last.as_ref().map(|(at, _)| unix(*at)),
        next_boundary: (!walk.finished()).then(|| unix(walk.next_boundary())),
        next_outcome,
        checks,
    }
}

/// Replays `plan` from its start to `now` against Prometheus, as every host does
/// (`explain`); `None` for a plan judged on a host's own counters, which only that host
/// knows.
pub fn replay(plan: &MigrationPlan, board: BoardId, now: Timestamp) -> Option<MigrationView> {
    let Evidence::Prometheus(p) = &plan.evidence else { return None };
    let mut walk = Walk::new(plan.clone(), board.kind(), plan.start);
    let view = match PrometheusEvidence::new(p.clone()) {
        Ok(mut source) => {
            walk.catch_up(now, p.settle, &mut source, u64::MAX);
            let preview = preview(&walk, &mut source, now);
            view_of(&walk, Some(preview), now, 0)
        }
        Err(e) => view_of(&walk, Some((format!("unknown: cannot start the Prometheus client: {e}"), Vec::new())), now, 0),
    };
    Some(view)
}

/// A plan's view as text: `explain` prints it.
pub fn render(view: &MigrationView) -> String {
    use std::fmt::Write;
    let time = |t: f64| Timestamp((t * 1000.0) as i64).to_string();
    let mut out = String::new();
    let _ = writeln!(out, "plan:     stage {} of {}: {} since {} ({})", view.stage + 1, view.stages.len(), view.stages[view.stage], time(view.entered_at), view.evidence);
    let _ = writeln!(out, "          stages: {}", view.stages.join(" -> "));
    match &view.reason {
        Some(r) => { let _ = writeln!(out, "          {}: {r}", view.state); }
        None => { let _ = writeln!(out, "          {}", view.state); }
    }
    if let Some(next) = view.next_boundary {
        let _ = writeln!(out, "          next boundary {}: {}", time(next), view.next_outcome);
    }
    for c in &view.checks {
        let value = c.value.map(|v| format!("{v:.3}")).unwrap_or_else(|| "no data".to_owned());
        let _ = writeln!(out, "          {} {}: {value} -> {} ({})", c.measure, c.requirement, c.state, c.on_fail);
    }
    out
}

fn check_view(l: &migration::CheckLine) -> MigrationCheck {
    MigrationCheck {
        measure: l.measure.as_str().to_owned(),
        requirement: l.requirement.clone(),
        value: l.value,
        state: l.state.as_str().to_owned(),
        on_fail: l.on_fail.to_owned(),
        note: l.note.clone(),
    }
}

fn last_checks(position: &migration::Position) -> Vec<MigrationCheck> {
    position.last.as_ref().map(|(_, j)| j.lines.iter().map(check_view).collect()).unwrap_or_default()
}
