//! The YAML forms a config refuses, checked on the parser's events before serde reads
//! the file, because serde never sees them: how a scalar was written (quoted `"50"`,
//! `True`, `0x32`), keys given twice (also through merge keys `<<`), a second document,
//! a section left empty. Each refusal names the field, the line and column, and what to
//! write instead.
//!
//! serde-saphyr hands a quoted `"true"` to a boolean and a quoted `"50"` to a number as
//! if they were plain, and lets an explicit key silently win over a merged one; only the
//! event stream still knows the scalar's style and every key's origin, so this pass reads
//! it (granit-parser, the parser serde-saphyr itself runs on). Anything the pass does not
//! understand, including a syntax error, is left to serde, which reports it.

use granit_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// A refusal: where, which field, and what to fix. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StrictError {
    pub line: u64,
    pub column: u64,
    pub field: String,
    pub problem: String,
}

/// What a typed field accepts, as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Bool,
    /// A percentage, 0 to 100.
    Percent,
    /// Any decimal number (thresholds, counts, multipliers, codes).
    Number,
    /// `hang`: a percentage, or `true` / `false`.
    PercentOrBool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index,
}

/// The type a field's value must have, from its path; `None` for text and structure.
fn expected(path: &[Seg]) -> Option<Expect> {
    fn key(s: &Seg) -> Option<&str> {
        match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index => None,
        }
    }
    let keys: Vec<Option<&str>> = path.iter().map(key).collect();
    match keys.as_slice() {
        [Some("kill_switch")] => Some(Expect::Bool),
        [Some("boards"), Some(_), Some("follow_percent_decrease")] => Some(Expect::Bool),
        [Some("boards"), Some(_), Some("percent")] => Some(Expect::Percent),
        [Some("boards"), Some(_), Some("ramp"), Some("steps"), None] => Some(Expect::Percent),
        [Some("boards"), Some(_), Some("shadow"), Some("sample_percent")] => Some(Expect::Percent),
        [Some("boards"), Some(_), Some("migration"), Some("stages"), None, Some("percent" | "sample_percent")] => Some(Expect::Percent),
        [Some("boards"), Some(_), Some("migration"), Some("stages"), None, Some("min_sample"), Some(_)] => Some(Expect::Number),
        [Some("boards"), Some(_), Some("migration"), Some("stages"), None, Some("checks"), None, Some("max")] => Some(Expect::Number),
        [Some("boards"), Some(_), Some("shadow"), Some("float_tolerance")] => Some(Expect::Number),
        [Some("boards"), Some(_), Some("faults"), Some("error_rate" | "panic_rate" | "corrupt_rate")] => {
            Some(Expect::Percent)
        }
        [Some("boards"), Some(_), Some("faults"), Some("hang")] => Some(Expect::PercentOrBool),
        [Some("boards"), Some(_), Some("breaker"), Some("failure_rate_threshold" | "slow_call_rate_threshold")] => {
            Some(Expect::Percent)
        }
        [Some("boards"), Some(_), Some("breaker"), Some("minimum_calls" | "permitted_probes")] => Some(Expect::Number),
        [Some("boards"), Some(_), Some("breaker"), Some("window"), Some("calls" | "seconds" | "buckets")] => {
            Some(Expect::Number)
        }
        [Some("boards"), Some(_), Some("breaker"), Some("open_wait"), Some("multiplier" | "jitter")] => {
            Some(Expect::Number)
        }
        [Some("boards"), Some(_), Some("breaker"), Some("ignored_exit_codes"), None] => Some(Expect::Number),
        _ => None,
    }
}

/// Field paths show list positions like serde's (`steps[2]`), so the pass tracks them.
fn render_indexed(path: &[Seg], indexes: &[usize]) -> String {
    let mut out = String::new();
    let mut next_index = indexes.iter();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index => out.push_str(&format!("[{}]", next_index.next().copied().unwrap_or(0))),
        }
    }
    out
}

fn is_decimal(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => (digits(int) || int.is_empty()) && (digits(f) || (f.is_empty() && digits(int))),
        None => digits(int),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// The value of a `0x`, `0o` or `0b` number, for suggesting its decimal spelling.
fn radix_value(lower: &str) -> Option<u64> {
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else {
        (lower.strip_prefix("0b")?, 2)
    };
    u64::from_str_radix(digits, radix).ok()
}

fn shown(text: &str) -> String {
    const LIMIT: usize = 40;
    let mut s: String = text.chars().take(LIMIT).collect();
    if text.chars().count() > LIMIT {
        s.push('…');
    }
    format!("{s:?}")
}

/// Why a scalar written this way is not a value of the expected type; `None` when it is.
fn scalar_problem(expect: Expect, text: &str, style: ScalarStyle) -> Option<String> {
    let what = match expect {
        Expect::Bool => "true or false",
        Expect::Percent => "a number from 0 to 100, like 50",
        Expect::Number => "a plain decimal number",
        Expect::PercentOrBool => "a number from 0 to 100, or true or false",
    };
    if style != ScalarStyle::Plain {
        let what = match expect {
            Expect::Bool => "a boolean",
            Expect::Percent | Expect::Number => "a number",
            Expect::PercentOrBool => "a number or a boolean",
        };
        let bare = text.trim();
        let suggestion = match expect {
            Expect::Bool | Expect::PercentOrBool if bare.eq_ignore_ascii_case("true") || bare.eq_ignore_ascii_case("false") => {
                format!("write {} without quotes", bare.to_ascii_lowercase())
            }
            _ if is_decimal(bare) => format!("write {bare} without quotes"),
            _ => format!("write {what}, without quotes"),
        };
        return Some(format!("{} is quoted, so it is text, not {what}; {suggestion}", shown(text)));
    }
    let is_bool = text == "true" || text == "false";
    match expect {
        Expect::Bool if is_bool => return None,
        Expect::PercentOrBool if is_bool => return None,
        Expect::Percent | Expect::Number | Expect::PercentOrBool if is_decimal(text) => return None,
        _ => {}
    }
    let lower = text.to_ascii_lowercase();
    let problem = if matches!(lower.as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n") {
        match expect {
            Expect::Bool | Expect::PercentOrBool => format!("{text} is not how this config writes a boolean; write {} (lower case)", if matches!(lower.as_str(), "true" | "yes" | "on" | "y") { "true" } else { "false" }),
            _ => format!("{text} is a yes/no word, not a number; write {what}"),
        }
    } else if let Some(number) = text.strip_suffix('%') {
        format!("{text} has a % sign; write the number alone, like {}", number.trim())
    } else if let Some(value) = radix_value(&lower) {
        format!("{text} is not written in decimal; write {value}")
    } else if matches!(lower.trim_start_matches(['-', '+']), "nan" | ".nan" | "inf" | ".inf" | "infinity") {
        format!("{text} is not a finite number; write {what}")
    } else if text.is_empty() || text == "~" || lower == "null" {
        format!("has no value; write {what}")
    } else {
        format!("{} is not {what}", shown(text))
    };
    Some(problem)
}

#[derive(Debug, Clone)]
enum Anchored {
    Scalar { text: String, style: ScalarStyle },
    Mapping { keys: Vec<String> },
    Other,
}

/// One open collection while walking the events.
struct Frame {
    is_map: bool,
    /// For maps: whether the next scalar is a key.
    expecting_key: bool,
    /// For maps: explicit keys so far, with where each was written.
    keys: HashMap<String, (u64, u64)>,
    /// For maps: keys brought in by `<<`, with where the merge key was written.
    merged: HashMap<String, (u64, u64)>,
    /// For sequences: the index of the next element.
    next_index: usize,
    anchor: usize,
    /// Set while the value of a `<<` key is being read.
    merge_at: Option<(u64, u64)>,
}

impl Frame {
    fn map(anchor: usize) -> Frame {
        Frame { is_map: true, expecting_key: true, keys: HashMap::new(), merged: HashMap::new(), next_index: 0, anchor, merge_at: None }
    }
    fn seq(anchor: usize) -> Frame {
        Frame { is_map: false, expecting_key: false, keys: HashMap::new(), merged: HashMap::new(), next_index: 0, anchor, merge_at: None }
    }
}

fn position(span: &Span) -> (u64, u64) {
    (span.start.line() as u64, span.start.col() as u64 + 1)
}

struct Walker {
    frames: Vec<Frame>,
    /// The key path of the node being read, one entry per open collection plus the
    /// current key; `indexes` holds the positions of the `Seg::Index` entries.
    path: Vec<Seg>,
    indexes: Vec<usize>,
    anchors: HashMap<usize, Anchored>,
}

type Step = Result<(), StrictError>;

impl Walker {
    fn error(&self, at: (u64, u64), problem: String) -> StrictError {
        StrictError { line: at.0, column: at.1, field: render_indexed(&self.path, &self.indexes), problem }
    }

    /// The path of a node about to be read (a value in a map, an element in a list).
    fn enter_node(&mut self) {
        if let Some(frame) = self.frames.last_mut() {
            if !frame.is_map {
                self.path.push(Seg::Index);
                self.indexes.push(frame.next_index);
                frame.next_index += 1;
            }
        }
    }

    /// A node has been read completely: pop its list position, and let its map expect a key.
    fn leave_node(&mut self) {
        match self.frames.last_mut() {
            Some(frame) if frame.is_map => {
                frame.expecting_key = true;
                frame.merge_at = None;
                self.path.pop();
            }
            Some(_) => {
                self.path.pop();
                self.indexes.pop();
            }
            None => {}
        }
    }

    fn in_merge_value(&self) -> Option<(u64, u64)> {
        // The `<<` value is the innermost map's pending value, or a list directly in it.
        let n = self.frames.len();
        match self.frames.last() {
            Some(f) if f.is_map && f.merge_at.is_some() && !f.expecting_key => f.merge_at,
            Some(f) if !f.is_map && n >= 2 => self.frames[n - 2].merge_at.filter(|_| !self.frames[n - 2].expecting_key),
            _ => None,
        }
    }

    fn merge_keys(&mut self, keys: Vec<String>, merge_at: (u64, u64)) -> Step {
        let n = self.frames.len();
        let owner = if self.frames.last().is_some_and(|f| f.is_map) { n - 1 } else { n - 2 };
        for key in keys {
            let frame = &mut self.frames[owner];
            if let Some(first) = frame.merged.insert(key.clone(), merge_at) {
                let problem = if first == merge_at {
                    format!("`{key}` is in more than one of the maps this merge key `<<` brings in; YAML would keep one silently: give it once")
                } else {
                    format!(
                        "`{key}` comes in through two merge keys `<<` (the first at line {}, column {}); YAML would keep one silently: give it once",
                        first.0, first.1
                    )
                };
                let mut path = self.path.clone();
                if let Some(i) = path.iter().rposition(|s| *s == Seg::Key("<<".into())) {
                    path.truncate(i);
                }
                path.push(Seg::Key(key.clone()));
                return Err(StrictError {
                    line: merge_at.0,
                    column: merge_at.1,
                    field: render_indexed(&path, &self.indexes),
                    problem,
                });
            }
        }
        Ok(())
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, anchor: usize, at: (u64, u64)) -> Step {
        let is_key = self.frames.last().is_some_and(|f| f.is_map && f.expecting_key);
        if is_key {
            let frame = self.frames.last_mut().expect("checked above");
            frame.expecting_key = false;
            if text == "<<" && style == ScalarStyle::Plain {
                frame.merge_at = Some(at);
                self.path.push(Seg::Key("<<".into()));
                return Ok(());
            }
            if let Some(first) = frame.keys.insert(text.to_owned(), at) {
                self.path.push(Seg::Key(text.to_owned()));
                return Err(self.error(
                    at,
                    format!("`{text}` is given twice (first at line {}, column {}); keep one", first.0, first.1),
                ));
            }
            self.path.push(Seg::Key(text.to_owned()));
            return Ok(());
        }
        self.enter_node();
        if anchor != 0 {
            self.anchors.insert(anchor, Anchored::Scalar { text: text.to_owned(), style });
        }
        let result = self.check_scalar(text, style, at);
        self.leave_node();
        result
    }

    fn check_scalar(&self, text: &str, style: ScalarStyle, at: (u64, u64)) -> Step {
        if let Some(merge_at) = self.in_merge_value() {
            return Err(self.error(merge_at, format!("a merge key `<<` takes an alias to a map (like `<<: *defaults`), not {}", shown(text))));
        }
        let path = &self.path;
        let is_null = style == ScalarStyle::Plain && (text.is_empty() || text == "~" || text == "null");
        match path.as_slice() {
            [Seg::Key(k)] if k == "boards" && is_null => {
                return Err(self.error(at, "has nothing under it; list each board with its mode (like `cyton: rust`), or write `boards: {}` for none".into()))
            }
            [Seg::Key(b), Seg::Key(kind)] if b == "boards" && is_null => {
                return Err(self.error(at, format!("has no value; give a mode (like `{kind}: rust`) or a map of settings with `mode:`")))
            }
            _ => {}
        }
        match expected(path) {
            Some(expect) => match scalar_problem(expect, text, style) {
                Some(problem) => Err(self.error(at, problem)),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }

    fn alias(&mut self, id: usize, at: (u64, u64)) -> Step {
        let is_key = self.frames.last().is_some_and(|f| f.is_map && f.expecting_key);
        if is_key {
            // An aliased key: serde checks it like any key; track it as unknown text.
            let frame = self.frames.last_mut().expect("checked above");
            frame.expecting_key = false;
            self.path.push(Seg::Key("*".into()));
            return Ok(());
        }
        self.enter_node();
        let anchored = self.anchors.get(&id).cloned();
        let result = if let Some(merge_at) = self.in_merge_value() {
            match anchored {
                Some(Anchored::Mapping { keys }) => self.merge_keys(keys, merge_at),
                _ => Err(self.error(merge_at, "a merge key `<<` takes an alias to a map (like `<<: *defaults`)".into())),
            }
        } else {
            match (expected(&self.path), anchored) {
                (Some(expect), Some(Anchored::Scalar { text, style })) => match scalar_problem(expect, &text, style) {
                    Some(problem) => Err(self.error(at, problem)),
                    None => Ok(()),
                },
                _ => Ok(()),
            }
        };
        self.leave_node();
        result
    }

    fn start(&mut self, is_map: bool, anchor: usize, at: (u64, u64)) -> Step {
        if self.frames.last().is_some_and(|f| f.is_map && f.expecting_key) {
            // A complex key; serde refuses it with its own words. Nothing to check here.
            let frame = self.frames.last_mut().expect("checked above");
            frame.expecting_key = false;
            self.path.push(Seg::Key("?".into()));
        } else {
            self.enter_node();
        }
        if let Some(expect) = expected(&self.path) {
            let what = if is_map { "a map" } else { "a list" };
            let want = match expect {
                Expect::Bool => "true or false",
                Expect::Percent => "a number from 0 to 100, like 50",
                Expect::Number => "a number",
                Expect::PercentOrBool => "a number from 0 to 100, or true or false",
            };
            return Err(self.error(at, format!("is {what}; write {want} (one value, no brackets)")));
        }
        self.frames.push(if is_map { Frame::map(anchor) } else { Frame::seq(anchor) });
        Ok(())
    }

    fn end(&mut self) -> Step {
        let frame = self.frames.pop().expect("the parser balances collections");
        if frame.is_map {
            // A key given explicitly and through `<<`: YAML keeps the explicit one without a word.
            let mut both: Vec<(&String, &(u64, u64))> =
                frame.keys.iter().filter(|(k, _)| frame.merged.contains_key(*k)).collect();
            both.sort_by_key(|(_, at)| **at);
            if let Some((key, at)) = both.first() {
                let merge_at = frame.merged[*key];
                let mut path = self.path.clone();
                path.push(Seg::Key((*key).clone()));
                return Err(StrictError {
                    line: at.0,
                    column: at.1,
                    field: render_indexed(&path, &self.indexes),
                    problem: format!(
                        "`{key}` is given here and also through the merge key `<<` at line {}, column {}; YAML would keep this one silently: give it once",
                        merge_at.0, merge_at.1
                    ),
                });
            }
            let mut keys: Vec<String> = frame.keys.into_keys().collect();
            keys.extend(frame.merged.into_keys());
            if frame.anchor != 0 {
                self.anchors.insert(frame.anchor, Anchored::Mapping { keys: keys.clone() });
            }
            if let Some(merge_at) = self.in_merge_value() {
                self.merge_keys(keys, merge_at)?;
            }
        } else if frame.anchor != 0 {
            self.anchors.insert(frame.anchor, Anchored::Other);
        }
        self.leave_node();
        Ok(())
    }
}

/// Checks the forms serde cannot see. `Ok` also when the text does not parse: serde's
/// own pass then reports the syntax error.
pub(crate) fn check(text: &str) -> Result<(), StrictError> {
    let mut walker = Walker { frames: Vec::new(), path: Vec::new(), indexes: Vec::new(), anchors: HashMap::new() };
    let mut documents = 0u32;
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else { return Ok(()) };
        let at = position(&span);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(StrictError {
                        line: at.0,
                        column: at.1,
                        field: String::new(),
                        problem: "a second YAML document starts here (after a `---` line); a config is one document: remove the `---` and keep one set of settings".into(),
                    });
                }
            }
            Event::Scalar(value, style, anchor, _) => walker.scalar(&value, style, anchor, at)?,
            Event::Alias(id) => walker.alias(id, at)?,
            Event::MappingStart(_, anchor, _) => walker.start(true, anchor, at)?,
            Event::SequenceStart(_, anchor, _) => walker.start(false, anchor, at)?,
            Event::MappingEnd | Event::SequenceEnd => walker.end()?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(yaml: &str) -> StrictError {
        check(yaml).expect_err("must be refused")
    }

    #[test]
    fn plain_values_of_the_right_type_pass() {
        let yaml = "kill_switch: false\nboards:\n  cyton:\n    mode: rust\n    percent: 12.5\n    follow_percent_decrease: true\n    faults:\n      hang: true\n    breaker:\n      ignored_exit_codes: [13, -1]\n      open_wait: {initial: 1s, multiplier: 1.5e0, max: 10s}\n";
        assert_eq!(check(yaml), Ok(()));
    }

    #[test]
    fn decimal_numbers() {
        for ok in ["0", "50", "12.5", "-3", "+4", "1e1", "1.5E-3", ".5", "5."] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", "0x32", "50%", "NaN", ".inf", "1e", "1.2.3", "- 1", "e5", "."] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn merge_from_an_anchor_inside_boards_is_followed() {
        let yaml = "boards:\n  cyton: &c\n    mode: rust\n  cyton_daisy:\n    <<: *c\n    percent: 5\n";
        assert_eq!(check(yaml), Ok(()));
        let e = refused("boards:\n  cyton: &c\n    mode: rust\n  cyton_daisy:\n    <<: *c\n    mode: shadow\n");
        assert_eq!((e.line, e.column, e.field.as_str()), (6, 5, "boards.cyton_daisy.mode"), "{e:?}");
    }
}
