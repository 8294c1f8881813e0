//! Which legacy C++ serves a board's C++ path: switchyard's own core, or BrainFlow's
//! library (loaded once per path, shared by every session that uses it).
//!
//! A library that cannot be loaded refuses only the boards configured to use it, with
//! the reason; everything else runs. Boards only BrainFlow implements always use it: with
//! no library named they are refused, and with one named it is loaded when the runtime
//! starts, so their descriptors are BrainFlow's from the first call.

use brainflow_legacy::{BrainFlowLibrary, LoadError};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use toggles::{BoardConfig, Config, Legacy};

/// The legacy a board's sessions get when they need C++.
#[derive(Debug, Clone)]
pub enum LegacyBackend {
    CoreCpp,
    BrainFlow(Arc<BrainFlowLibrary>),
    /// The board is configured for BrainFlow's library, which cannot be used; why.
    Unavailable(Arc<str>),
}

impl PartialEq for LegacyBackend {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LegacyBackend::CoreCpp, LegacyBackend::CoreCpp) => true,
            (LegacyBackend::BrainFlow(a), LegacyBackend::BrainFlow(b)) => Arc::ptr_eq(a, b),
            (LegacyBackend::Unavailable(a), LegacyBackend::Unavailable(b)) => a == b,
            _ => false,
        }
    }
}

/// Where BrainFlow's library is: the environment variable, else `brainflow.library`.
pub fn brainflow_library_path(config: &Config) -> Option<PathBuf> {
    brainflow_legacy::library_from_env().or_else(|| config.brainflow_library.clone())
}

/// Loads BrainFlow's library when a board first needs it, and again only if its path
/// changes.
#[derive(Default)]
pub struct BrainFlowLoader {
    loaded: Mutex<Option<Loaded>>,
}

/// A library path and what loading it gave.
type Loaded = (PathBuf, Result<Arc<BrainFlowLibrary>, LoadError>);

impl BrainFlowLoader {
    /// The backend for one board under `config`.
    pub fn backend_for(&self, config: &Config, board: &BoardConfig) -> LegacyBackend {
        if board.legacy == Legacy::CoreCpp {
            return LegacyBackend::CoreCpp;
        }
        let Some(path) = brainflow_library_path(config) else {
            if board.board.is_legacy_only() {
                return LegacyBackend::Unavailable(
                    format!(
                        "no BrainFlow library is named: set brainflow.library in the config or {}",
                        brainflow_legacy::LIBRARY_ENV
                    )
                    .into(),
                );
            }
            return LegacyBackend::Unavailable(
                format!(
                    "{} is configured with legacy: brainflow, but no BrainFlow library is named: set brainflow.library in the config or {}",
                    board.board.kind(),
                    brainflow_legacy::LIBRARY_ENV
                )
                .into(),
            );
        };
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if loaded.as_ref().map(|(p, _)| p) != Some(&path) {
            let result = BrainFlowLibrary::load(&path);
            if let Err(e) = &result {
                tracing::error!(target: "switchyard::config", path = %path.display(), error = %e, "BrainFlow library unusable: boards with legacy: brainflow are refused on the C++ path");
            }
            *loaded = Some((path, result));
        }
        match loaded.as_ref().map(|(_, r)| r) {
            Some(Ok(library)) => LegacyBackend::BrainFlow(Arc::clone(library)),
            Some(Err(e)) => LegacyBackend::Unavailable(e.to_string().into()),
            None => unreachable!("set just above"),
        }
    }
}
