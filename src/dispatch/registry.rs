//! Which sessions are live, per board: what the runtime moves all at once, the pump
//! turns, and monitoring counts. Sessions are held weakly: a session dropped by its caller
//! leaves the registry by itself.
//!
//! It sits above both [`super::kind`] and [`super::session`] (a session knows its kind;
//! the kind knows nothing of sessions), so the dispatcher's modules import one another in
//! one direction only.

use super::kind::BoardKind;
use super::session::SessionCell;
use board_api::BoardId;
use monitoring::LinkSummary;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};

#[derive(Default)]
pub struct Registry {
    boards: BTreeMap<BoardId, Mutex<Vec<Weak<SessionCell>>>>,
}

impl Registry {
    pub fn new(boards: impl IntoIterator<Item = BoardId>) -> Registry {
        Registry { boards: boards.into_iter().map(|b| (b, Mutex::new(Vec::new()))).collect() }
    }

    fn list(&self, board: BoardId) -> std::sync::MutexGuard<'_, Vec<Weak<SessionCell>>> {
        self.boards[&board].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn register(&self, kind: &BoardKind, session: &Arc<SessionCell>) {
        let mut sessions = self.list(kind.board);
        sessions.retain(|s| s.strong_count() > 0);
        sessions.push(Arc::downgrade(session));
        kind.counters.sessions_opened.fetch_add(1, Ordering::Relaxed);
    }

    /// The live sessions of `board` (a snapshot; sessions may end meanwhile).
    pub fn live_sessions(&self, board: BoardId) -> Vec<Arc<SessionCell>> {
        let mut sessions = self.list(board);
        sessions.retain(|s| s.strong_count() > 0);
        sessions.iter().filter_map(Weak::upgrade).collect()
    }

    /// Every live session, board by board (the pump's round).
    pub fn all_live(&self) -> impl Iterator<Item = Arc<SessionCell>> + '_ {
        self.boards.keys().flat_map(|b| self.live_sessions(*b))
    }

    /// Where the links of `kind`'s live sessions stand (`None` unless it is a BLE board).
    pub fn link_summary(&self, kind: &BoardKind) -> Option<LinkSummary> {
        if !ble_boards::BLE_BOARDS.contains(&kind.board) {
            return None;
        }
        let mut summary = LinkSummary {
            failures_total: kind.counters.link_failures.load(Ordering::Relaxed),
            reconnects_total: kind.counters.link_reconnects.load(Ordering::Relaxed),
            restarts_total: kind.counters.restarts.load(Ordering::Relaxed),
            ..LinkSummary::default()
        };
        let mut newest_failure = f64::NEG_INFINITY;
        for link in self.live_sessions(kind.board).iter().filter_map(|s| s.link_status()) {
            match link.state {
                ble_boards::LinkState::Connected => summary.connected += 1,
                ble_boards::LinkState::Reconnecting => summary.reconnecting += 1,
                ble_boards::LinkState::ReconnectHeld => summary.reconnect_held += 1,
                ble_boards::LinkState::NotConnected => summary.not_connected += 1,
            }
            if let (Some(at), Some(reason)) = (link.last_failure_at, link.last_failure) {
                if at > newest_failure {
                    newest_failure = at;
                    summary.last_failure = Some(reason);
                }
            }
        }
        Some(summary)
    }
}
