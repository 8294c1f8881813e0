//! A migration plan's evidence from this host alone (`evidence: local`): its own
//! `/metrics`, scraped at each question and kept, so a window's measures come from the
//! scrape at its start and the one at its end, as Prometheus would compute them for one
//! host. The scrapes live in memory only: after a restart the plan begins again.

use migration::exposition::{self, Scrape};
use migration::{Asked, EvidenceSource, Readings, Unanswered};
use std::collections::VecDeque;
use std::sync::Arc;
use toggles::Timestamp;

/// Scrapes kept: one per question (about one a second while a plan runs), an hour's worth.
const KEPT: usize = 3600;

pub struct LocalEvidence {
    render: Arc<dyn Fn() -> String + Send + Sync>,
    scrapes: VecDeque<(Timestamp, Scrape)>,
}

impl LocalEvidence {
    pub fn new(render: Arc<dyn Fn() -> String + Send + Sync>) -> LocalEvidence {
        LocalEvidence { render, scrapes: VecDeque::new() }
    }
}

impl EvidenceSource for LocalEvidence {
    fn ask(&mut self, asked: &Asked<'_>) -> Result<Readings, Unanswered> {
        // Kept under the time it was asked about (a boundary, or now for a preview), so a
        // later window that starts at that boundary starts at this scrape.
        let now = asked.at;
        let text = (self.render)();
        if text.is_empty() {
            return Err(Unanswered("this process exports no metrics (no recorder installed)".into()));
        }
        if self.scrapes.len() == KEPT {
            self.scrapes.pop_front();
        }
        self.scrapes.push_back((now, exposition::parse(&text)));
        // The window's start: the last scrape at or before it, else the first kept.
        let start = self.scrapes.iter().rposition(|(t, _)| t.0 <= asked.since.0).unwrap_or(0);
        let (_, before) = &self.scrapes[start];
        let (_, after) = self.scrapes.back().expect("just pushed");
        let during: Vec<&Scrape> = self.scrapes.iter().skip(start + 1).map(|(_, s)| s).collect();
        let mut readings = Readings::new();
        for m in &asked.measures {
            readings.insert(*m, exposition::measure(*m, asked.board, before, &during, after));
        }
        Ok(readings)
    }
}
