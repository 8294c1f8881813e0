use crate::error::{BoardError, Result};
use serde_json::{Map, Value};

/// BrainFlow's `BrainFlowInputParams`: how to reach a device, and (with the board id) the
/// identity of a session.
///
/// Parsed from the JSON that BrainFlow's bindings send. Missing keys take BrainFlow's
/// defaults (empty strings, zero ports and timeout, `master_board = -100`); unknown keys
/// are ignored as BrainFlow ignores them; a key with the wrong type is an
/// INVALID_ARGUMENTS_ERROR that names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputParams {
    pub serial_port: String,
    pub mac_address: String,
    pub ip_address: String,
    pub ip_address_aux: String,
    pub ip_address_anc: String,
    pub ip_port: i32,
    pub ip_port_aux: i32,
    pub ip_port_anc: i32,
    pub ip_protocol: i32,
    pub other_info: String,
    pub timeout: i32,
    pub serial_number: String,
    pub file: String,
    pub file_aux: String,
    pub file_anc: String,
    pub master_board: i32,
}

impl Default for InputParams {
    fn default() -> Self {
        InputParams {
            serial_port: String::new(),
            mac_address: String::new(),
            ip_address: String::new(),
            ip_address_aux: String::new(),
            ip_address_anc: String::new(),
            ip_port: 0,
            ip_port_aux: 0,
            ip_port_anc: 0,
            ip_protocol: 0,
            other_info: String::new(),
            timeout: 0,
            serial_number: String::new(),
            file: String::new(),
            file_aux: String::new(),
            file_anc: String::new(),
            master_board: InputParams::NO_MASTER_BOARD,
        }
    }
}

impl InputParams {
    /// BrainFlow's `NO_BOARD` value for `master_board`.
    pub const NO_MASTER_BOARD: i32 = -100;

    /// Parses BrainFlow's params JSON. An empty string means "all defaults".
    pub fn from_json(text: &str) -> Result<InputParams> {
        if text.trim().is_empty() {
            return Ok(InputParams::default());
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            BoardError::invalid_arguments(format!(
                "input params are not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(BoardError::invalid_arguments(
                "input params must be a JSON object such as {\"serial_port\": \"/dev/ttyUSB0\"}",
            ));
        };
        let mut p = InputParams::default();
        read_string(&map, "serial_port", &mut p.serial_port)?;
        read_string(&map, "mac_address", &mut p.mac_address)?;
        read_string(&map, "ip_address", &mut p.ip_address)?;
        read_string(&map, "ip_address_aux", &mut p.ip_address_aux)?;
        read_string(&map, "ip_address_anc", &mut p.ip_address_anc)?;
        read_int(&map, "ip_port", &mut p.ip_port)?;
        read_int(&map, "ip_port_aux", &mut p.ip_port_aux)?;
        read_int(&map, "ip_port_anc", &mut p.ip_port_anc)?;
        read_int(&map, "ip_protocol", &mut p.ip_protocol)?;
        read_string(&map, "other_info", &mut p.other_info)?;
        read_int(&map, "timeout", &mut p.timeout)?;
        read_string(&map, "serial_number", &mut p.serial_number)?;
        read_string(&map, "file", &mut p.file)?;
        read_string(&map, "file_aux", &mut p.file_aux)?;
        read_string(&map, "file_anc", &mut p.file_anc)?;
        read_int(&map, "master_board", &mut p.master_board)?;
        Ok(p)
    }

    /// The params as BrainFlow's Python binding sends them (all keys, sorted). Two params
    /// that are equal give the same text, so it serves as a session key.
    pub fn to_json(&self) -> String {
        // serde_json's Map is a BTreeMap here (no preserve_order feature): keys come out sorted.
        let mut m = Map::new();
        let s = |v: &str| Value::String(v.to_owned());
        m.insert("file".into(), s(&self.file));
        m.insert("file_anc".into(), s(&self.file_anc));
        m.insert("file_aux".into(), s(&self.file_aux));
        m.insert("ip_address".into(), s(&self.ip_address));
        m.insert("ip_address_anc".into(), s(&self.ip_address_anc));
        m.insert("ip_address_aux".into(), s(&self.ip_address_aux));
        m.insert("ip_port".into(), self.ip_port.into());
        m.insert("ip_port_anc".into(), self.ip_port_anc.into());
        m.insert("ip_port_aux".into(), self.ip_port_aux.into());
        m.insert("ip_protocol".into(), self.ip_protocol.into());
        m.insert("mac_address".into(), s(&self.mac_address));
        m.insert("master_board".into(), self.master_board.into());
        m.insert("other_info".into(), s(&self.other_info));
        m.insert("serial_number".into(), s(&self.serial_number));
        m.insert("serial_port".into(), s(&self.serial_port));
        m.insert("timeout".into(), self.timeout.into());
        Value::Object(m).to_string()
    }

    /// A `key=value` setting from `other_info`, where settings are separated by `,` or `;`
    /// (e.g. `other_info = "seed=42"`). BrainFlow gives `other_info` no structure; this is
    /// switchyard's convention for the few settings a board needs beyond BrainFlow's fields.
    pub fn other_info_setting(&self, key: &str) -> Option<&str> {
        self.other_info
            .split([',', ';'])
            .filter_map(|part| part.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim())
    }

    /// The synthetic board's seed from `other_info` (`seed=<u64>`). `Ok(None)` when absent:
    /// the board then seeds from the clock as BrainFlow does.
    pub fn seed(&self) -> Result<Option<u64>> {
        match self.other_info_setting("seed") {
            None => Ok(None),
            Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
                BoardError::invalid_arguments(format!(
                    "other_info: seed={v:?} is not a whole number from 0 to {}",
                    u64::MAX
                ))
            }),
        }
    }

    /// The read timeout in seconds, or `default` when BrainFlow's `timeout` is 0.
    pub fn timeout_or(&self, default: std::time::Duration) -> std::time::Duration {
        if self.timeout > 0 {
            std::time::Duration::from_secs(self.timeout as u64)
        } else {
            default
        }
    }
}

fn read_string(map: &Map<String, Value>, key: &str, out: &mut String) -> Result<()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => {
            out.clone_from(s);
            Ok(())
        }
        Some(other) => Err(BoardError::invalid_arguments(format!(
            "input params: {key} must be a string, got {}",
            json_type(other)
        ))),
    }
}

fn read_int(map: &Map<String, Value>, key: &str, out: &mut i32) -> Result<()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) => {
            let v = n.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(|| {
                BoardError::invalid_arguments(format!(
                    "input params: {key} must be a whole number that fits in 32 bits, got {n}"
                ))
            })?;
            *out = v;
            Ok(())
        }
        Some(other) => Err(BoardError::invalid_arguments(format!(
            "input params: {key} must be a whole number, got {}",
            json_type(other)
        ))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExitCode;

    #[test]
    fn missing_keys_take_brainflow_defaults() {
        let p = InputParams::from_json(r#"{"serial_port": "/dev/ttyUSB0"}"#).unwrap();
        assert_eq!(p.serial_port, "/dev/ttyUSB0");
        assert_eq!(p.master_board, -100);
        assert_eq!(p.timeout, 0);
        assert_eq!(InputParams::from_json("").unwrap(), InputParams::default());
    }

    #[test]
    fn python_binding_json_round_trips() {
        let python = r#"{
    "file": "",
    "file_anc": "",
    "file_aux": "",
    "ip_address": "",
    "ip_address_anc": "",
    "ip_address_aux": "",
    "ip_port": 0,
    "ip_port_anc": 0,
    "ip_port_aux": 0,
    "ip_protocol": 0,
    "mac_address": "",
    "master_board": -100,
    "other_info": "seed=42",
    "serial_number": "",
    "serial_port": "",
    "timeout": 0
}"#;
        let p = InputParams::from_json(python).unwrap();
        assert_eq!(p.seed().unwrap(), Some(42));
        assert_eq!(InputParams::from_json(&p.to_json()).unwrap(), p);
        let compact: Value = serde_json::from_str(python).unwrap();
        assert_eq!(p.to_json(), compact.to_string());
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = InputParams::from_json(r#"{"ip_port": "80"}"#).unwrap_err();
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert!(e.message.contains("ip_port must be a whole number, got a string"), "{e}");
        let e = InputParams::from_json(r#"{"serial_port": 3}"#).unwrap_err();
        assert!(e.message.contains("serial_port must be a string"), "{e}");
        let e = InputParams::from_json(r#"{"timeout": 1e12}"#).unwrap_err();
        assert!(e.message.contains("timeout"), "{e}");
        let e = InputParams::from_json("{\"serial_port\": ").unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
        let e = InputParams::from_json("[1]").unwrap_err();
        assert!(e.message.contains("JSON object"), "{e}");
    }

    #[test]
    fn seed_setting() {
        let mut p = InputParams::default();
        assert_eq!(p.seed().unwrap(), None);
        p.other_info = "foo=1; seed = 7".into();
        assert_eq!(p.seed().unwrap(), Some(7));
        p.other_info = "seed=-1".into();
        assert!(p.seed().unwrap_err().message.contains("seed=\"-1\""));
    }
}
