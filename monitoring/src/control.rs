//! Operator controls: the actions `POST /control/...` names, and the bearer token that
//! guards them.
//!
//! The token is never read from the YAML config (which is shared and checked in): it comes
//! from a file only its owner can read, or from an environment variable.

use std::path::Path;

/// An operator action requested over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlAction {
    /// Force the board's breaker open: its sessions serve C++ until released.
    ForceOpen { board: String },
    /// Give the board's breaker back to the automatic state machine.
    Release { board: String },
    /// The breaker measures and reports but never refuses a call.
    MetricsOnly { board: String },
    KillSwitch { on: bool },
    /// Alertmanager's webhook (`POST /control/alertmanager`): each alert that names a
    /// board and an action applies it while firing and releases it once resolved.
    Alerts(Vec<AlertInstruction>),
}

/// The path Alertmanager's webhook receiver posts to.
pub const ALERTMANAGER_PATH: &str = "/control/alertmanager";
/// Largest Alertmanager payload read (a group of a few hundred alerts).
pub const MAX_ALERTMANAGER_BODY: usize = 256 * 1024;

/// What an alert asks for, from its `switchyard_action` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    /// `force_open`: the board's breaker forced open (its sessions to C++).
    ForceOpen,
    /// `kill_switch`: every board with C++ to C++.
    KillSwitch,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::ForceOpen => "force_open",
            AlertAction::KillSwitch => "kill_switch",
        }
    }
}

/// One alert of an Alertmanager notification, read for what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertInstruction {
    pub alertname: String,
    /// The `board` label (required for `force_open`).
    pub board: Option<String>,
    pub action: AlertAction,
    /// `firing` applies the action; `resolved` releases it.
    pub firing: bool,
}

#[derive(serde::Deserialize)]
struct Notification {
    version: Option<String>,
    alerts: Vec<NotifiedAlert>,
}

#[derive(serde::Deserialize)]
struct NotifiedAlert {
    status: String,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

impl AlertInstruction {
    /// Reads Alertmanager's webhook JSON (version 4). Every alert must carry
    /// `switchyard_action` (`force_open` or `kill_switch`) and, for `force_open`, `board`;
    /// one that does not refuses the whole notification (nothing of it is applied).
    pub fn from_webhook(body: &[u8]) -> Result<Vec<AlertInstruction>, String> {
        let n: Notification = serde_json::from_slice(body)
            .map_err(|e| format!("not Alertmanager's webhook JSON: {}", crate::audit::truncate(&e.to_string(), 200)))?;
        if let Some(v) = &n.version {
            if v != "4" {
                return Err(format!("Alertmanager webhook version {} is not supported; version 4 is", crate::audit::truncate(v, 16)));
            }
        }
        let mut out = Vec::with_capacity(n.alerts.len());
        for alert in n.alerts {
            let alertname = crate::audit::truncate(alert.labels.get("alertname").map(String::as_str).unwrap_or("(no alertname)"), 64);
            let firing = match alert.status.as_str() {
                "firing" => true,
                "resolved" => false,
                other => return Err(format!("alert {alertname}: status `{}` is neither firing nor resolved", crate::audit::truncate(other, 32))),
            };
            let action = match alert.labels.get("switchyard_action").map(String::as_str) {
                Some("force_open") => AlertAction::ForceOpen,
                Some("kill_switch") => AlertAction::KillSwitch,
                Some(other) => return Err(format!("alert {alertname}: label switchyard_action=`{}` is not an action; use force_open or kill_switch", crate::audit::truncate(other, 32))),
                None => return Err(format!("alert {alertname} has no switchyard_action label (force_open or kill_switch); route only switchyard's action alerts to this receiver")),
            };
            let board = alert.labels.get("board").map(|b| crate::audit::truncate(b, 64));
            if action == AlertAction::ForceOpen && board.is_none() {
                return Err(format!("alert {alertname}: switchyard_action=force_open needs a board label"));
            }
            out.push(AlertInstruction { alertname, board, action, firing });
        }
        if out.is_empty() {
            return Err("the notification holds no alerts".to_owned());
        }
        Ok(out)
    }
}

impl ControlAction {
    /// Parses `/control/breaker/<board>/{force-open,release,metrics-only}` and
    /// `/control/kill-switch/{on,off}`.
    pub fn parse(path: &str) -> Result<ControlAction, String> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["control", "breaker", board, action] => {
                let board = crate::audit::truncate(board, 64);
                match *action {
                    "force-open" => Ok(ControlAction::ForceOpen { board }),
                    "release" => Ok(ControlAction::Release { board }),
                    "metrics-only" => Ok(ControlAction::MetricsOnly { board }),
                    other => Err(format!("unknown breaker action `{}`: use force-open, release or metrics-only", crate::audit::truncate(other, 64))),
                }
            }
            ["control", "kill-switch", "on"] => Ok(ControlAction::KillSwitch { on: true }),
            ["control", "kill-switch", "off"] => Ok(ControlAction::KillSwitch { on: false }),
            ["control", "kill-switch", other] => Err(format!("kill switch takes `on` or `off`, not `{}`", crate::audit::truncate(other, 64))),
            _ => Err(format!(
                "unknown control `{}`: use /control/breaker/<board>/force-open|release|metrics-only or /control/kill-switch/on|off",
                crate::audit::truncate(path, 128)
            )),
        }
    }

    /// The metric label of the action a path names (`unknown` when it names none), so
    /// that every control request is counted, refused ones included.
    pub fn label_of(path: &str) -> &'static str {
        if path == ALERTMANAGER_PATH {
            return "alertmanager";
        }
        ControlAction::parse(path).map(|a| a.name()).unwrap_or("unknown")
    }

    pub fn name(&self) -> &'static str {
        match self {
            ControlAction::ForceOpen { .. } => "force_open",
            ControlAction::Release { .. } => "release",
            ControlAction::MetricsOnly { .. } => "metrics_only",
            ControlAction::KillSwitch { on: true } => "kill_switch_on",
            ControlAction::KillSwitch { on: false } => "kill_switch_off",
            ControlAction::Alerts(_) => "alertmanager",
        }
    }
}

/// Why a control action was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request names something that does not exist (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// The action could not be applied (HTTP 500).
    #[error("{0}")]
    Failed(String),
}

/// The operator token. Never read from the YAML config: a file or an environment
/// variable, so the config can be shared and checked in.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the control token file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the control token from {0} is empty or shorter than 16 characters; write a longer random token")]
    TooShort(String),
    #[error("the control token file {path} can be read by other users (mode {mode:03o}); run `chmod 600 {path}` (and keep it owned by the user that runs switchyard)")]
    Exposed { path: String, mode: u32 },
}

impl Token {
    pub fn new(text: &str, origin: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        if text.len() < 16 {
            return Err(TokenError::TooShort(origin.to_owned()));
        }
        Ok(Token(text.as_bytes().to_vec()))
    }

    /// Reads the token from `path`, refusing a file that group or others can read: a
    /// token anyone on the host can read guards nothing.
    pub fn from_file(path: &Path) -> Result<Token, TokenError> {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).map_err(|source| TokenError::Read { path: path.display().to_string(), source })?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(TokenError::Exposed { path: path.display().to_string(), mode });
        }
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read { path: path.display().to_string(), source })?;
        Token::new(&text, &path.display().to_string())
    }

    /// Compares in time that depends only on the lengths, never on where bytes differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let mut diff = (self.0.len() ^ presented.len()) as u64;
        for (i, expected) in self.0.iter().enumerate() {
            let got = presented.get(i).copied().unwrap_or(0);
            diff |= u64::from(expected ^ got);
        }
        diff == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_matches_only_the_exact_bytes() {
        let token = Token::new("0123456789abcdef", "test").unwrap();
        assert!(token.matches(b"0123456789abcdef"));
        assert!(!token.matches(b"0123456789abcdeF"));
        assert!(!token.matches(b"0123456789abcde"));
        assert!(!token.matches(b"0123456789abcdef0"));
        assert!(!token.matches(b""));
    }

    #[test]
    fn short_tokens_are_refused() {
        assert!(matches!(Token::new("  short \n", "env"), Err(TokenError::TooShort(_))));
    }

    #[test]
    fn a_token_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Token::from_file(&path).unwrap_err();
        assert!(matches!(err, TokenError::Exposed { mode: 0o644, .. }), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(Token::from_file(&path), Err(TokenError::Exposed { .. })));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Token::from_file(&path).unwrap().matches(b"0123456789abcdef0123"));
    }

    #[test]
    fn error_messages_quote_at_most_a_bounded_part_of_the_path() {
        let long = format!("/control/{}", "x".repeat(20_000));
        assert!(ControlAction::parse(&long).unwrap_err().len() < 400);
        assert_eq!(ControlAction::label_of(&long), "unknown");
        assert_eq!(ControlAction::label_of("/control/kill-switch/on"), "kill_switch_on");
    }

    #[test]
    fn alertmanager_notifications_read_or_say_what_is_wrong() {
        let body = br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Fallback","board":"cyton","switchyard_action":"force_open","severity":"page"}},{"status":"resolved","labels":{"alertname":"Stop","switchyard_action":"kill_switch"}}]}"#;
        let got = AlertInstruction::from_webhook(body).unwrap();
        assert_eq!(got[0], AlertInstruction { alertname: "Fallback".into(), board: Some("cyton".into()), action: AlertAction::ForceOpen, firing: true });
        assert_eq!((got[1].action, got[1].firing), (AlertAction::KillSwitch, false));
        for (bad, says) in [
            (&br#"{"alerts":[{"status":"firing","labels":{"alertname":"A","board":"cyton"}}]}"#[..], "no switchyard_action"),
            (br#"{"alerts":[{"status":"firing","labels":{"alertname":"A","switchyard_action":"reboot"}}]}"#, "not an action"),
            (br#"{"alerts":[{"status":"firing","labels":{"alertname":"A","switchyard_action":"force_open"}}]}"#, "needs a board"),
            (br#"{"alerts":[{"status":"pending","labels":{"switchyard_action":"kill_switch"}}]}"#, "neither firing"),
            (br#"{"version":"3","alerts":[]}"#, "version 3"),
            (br#"{"alerts":[]}"#, "no alerts"),
            (b"garbage", "not Alertmanager"),
        ] {
            let e = AlertInstruction::from_webhook(bad).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn control_paths_parse_or_say_what_is_wrong() {
        assert_eq!(ControlAction::parse("/control/breaker/cyton/force-open"), Ok(ControlAction::ForceOpen { board: "cyton".into() }));
        assert_eq!(ControlAction::parse("/control/kill-switch/off"), Ok(ControlAction::KillSwitch { on: false }));
        assert!(ControlAction::parse("/control/breaker/cyton/explode").unwrap_err().contains("explode"));
        assert!(ControlAction::parse("/control/kill-switch/maybe").unwrap_err().contains("maybe"));
        assert!(ControlAction::parse("/control/other").is_err());
    }
}
