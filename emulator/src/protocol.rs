//! The OpenBCI text protocol as the emulated board answers it.

use crate::{EmulatorOptions, Firmware};

/// A change of streaming state caused by a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    StartStreaming,
    StopStreaming,
}

/// Channel setting commands are `x C P G I B S1 S2 X`: nine bytes.
const CHANNEL_SETTING_LEN: usize = 9;

pub struct BoardState {
    daisy: bool,
    firmware: Firmware,
    answers: bool,
    streaming: bool,
    pending_setting: Vec<u8>,
    gains: [u8; 16],
}

impl BoardState {
    pub fn new(options: &EmulatorOptions) -> Self {
        BoardState {
            daisy: options.daisy,
            firmware: options.firmware,
            answers: options.answer_handshake,
            streaming: false,
            pending_setting: Vec::new(),
            gains: [6; 16],
        }
    }

    /// Handles bytes from the host, appending replies to `reply` (only when not
    /// streaming: a real board keeps text out of its packet stream).
    pub fn feed(&mut self, bytes: &[u8], reply: &mut Vec<u8>) -> Vec<Event> {
        if self.firmware == Firmware::BrainFlowCi {
            return self.feed_brainflow_ci(bytes, reply);
        }
        let mut events = Vec::new();
        for &b in bytes {
            if !self.pending_setting.is_empty() {
                self.pending_setting.push(b);
                if self.pending_setting.len() == CHANNEL_SETTING_LEN {
                    let setting = std::mem::take(&mut self.pending_setting);
                    let text = self.apply_channel_setting(&setting);
                    self.say(reply, &text);
                }
                continue;
            }
            match b {
                b'x' => self.pending_setting.push(b),
                b'v' => {
                    // A soft reset: the real board stops streaming first.
                    if self.streaming {
                        self.streaming = false;
                        events.push(Event::StopStreaming);
                    }
                    let greeting = self.greeting();
                    self.say(reply, &greeting);
                }
                b'd' => {
                    self.gains = [6; 16];
                    self.say(reply, "updating channel settings to default$$$");
                }
                b'?' => {
                    let dump = self.register_dump();
                    self.say(reply, &dump);
                }
                other => self.streaming_command(other, &mut events),
            }
        }
        events
    }

    /// BrainFlow's CI emulator: `v` and `?` answered, `b` and `s` obeyed, nothing else
    /// heard (no reply to `d` or to channel settings).
    fn feed_brainflow_ci(&mut self, bytes: &[u8], reply: &mut Vec<u8>) -> Vec<Event> {
        let mut events = Vec::new();
        for &b in bytes {
            match b {
                b'v' => self.say(reply, "OpenBCI Emulator $$$"),
                b'?' => self.say(reply, "Imagine registers here"),
                other => self.streaming_command(other, &mut events),
            }
        }
        events
    }

    /// `b` starts the stream and `s` stops it, on every firmware; other bytes do nothing.
    fn streaming_command(&mut self, byte: u8, events: &mut Vec<Event>) {
        match byte {
            b'b' if !self.streaming => {
                self.streaming = true;
                events.push(Event::StartStreaming);
            }
            b's' if self.streaming => {
                self.streaming = false;
                events.push(Event::StopStreaming);
            }
            _ => {}
        }
    }

    fn say(&self, reply: &mut Vec<u8>, text: &str) {
        if self.answers && !self.streaming {
            reply.extend_from_slice(text.as_bytes());
        }
    }

    fn greeting(&self) -> String {
        let mut g = String::from("OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n");
        if self.daisy {
            g.push_str("On Daisy ADS1299 Device ID: 0x3E\n");
        }
        g.push_str("LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$");
        g
    }

    fn register_dump(&self) -> String {
        let mut d = String::from("Board ADS Registers\nADS_ID, 00, 3E\n");
        for (i, gain_code) in self.gains.iter().take(if self.daisy { 16 } else { 8 }).enumerate() {
            d.push_str(&format!("CH{}SET, {:02X}, {:02X}\n", i + 1, 5 + i % 8, gain_code << 4));
        }
        d.push_str("$$$");
        d
    }

    fn apply_channel_setting(&mut self, s: &[u8]) -> String {
        let channel = match s[1] {
            c @ b'1'..=b'8' => Some((c - b'1') as usize),
            c if self.daisy => b"QWERTYUI".iter().position(|&d| d == c).map(|i| i + 8),
            _ => None,
        };
        let Some(channel) = channel else {
            return "Failure: invalid channel number$$$".into();
        };
        let valid = s[8] == b'X'
            && matches!(s[2], b'0' | b'1')
            && (b'0'..=b'6').contains(&s[3])
            && (b'0'..=b'7').contains(&s[4])
            && s[5..8].iter().all(|b| matches!(b, b'0' | b'1'));
        if !valid {
            return "Failure: malformed channel setting$$$".into();
        }
        self.gains[channel] = s[3] - b'0';
        format!("Success: Channel set for {}$$$", channel + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brainflow_ci_firmware_answers_only_v_and_question_mark() {
        let mut s = BoardState::new(&EmulatorOptions::cyton(0).brainflow_ci());
        assert_eq!(text(&mut s, b"v"), "OpenBCI Emulator $$$");
        assert_eq!(text(&mut s, b"d"), "");
        assert_eq!(text(&mut s, b"x1060110X"), "");
        assert_eq!(text(&mut s, b"?"), "Imagine registers here");
        let mut reply = Vec::new();
        assert_eq!(s.feed(b"b", &mut reply), vec![Event::StartStreaming]);
        assert_eq!(s.feed(b"s", &mut reply), vec![Event::StopStreaming]);
    }

    fn text(state: &mut BoardState, cmd: &[u8]) -> String {
        let mut reply = Vec::new();
        state.feed(cmd, &mut reply);
        String::from_utf8(reply).unwrap()
    }

    #[test]
    fn replies_end_with_dollars() {
        let mut s = BoardState::new(&EmulatorOptions::daisy(0));
        assert!(text(&mut s, b"v").contains("On Daisy"));
        assert!(text(&mut s, b"d").ends_with("$$$"));
        assert!(text(&mut s, b"?").contains("CH16SET"));
        assert_eq!(text(&mut s, b"xQ020000X"), "Success: Channel set for 9$$$");
        assert_eq!(text(&mut s, b"x10900"), "");
        assert!(text(&mut s, b"00X").starts_with("Failure"));
        assert!(text(&mut s, b"x9000000X").starts_with("Failure"));
    }

    #[test]
    fn streaming_keeps_text_off_the_wire() {
        let mut s = BoardState::new(&EmulatorOptions::cyton(0));
        let mut reply = Vec::new();
        assert_eq!(s.feed(b"b", &mut reply), vec![Event::StartStreaming]);
        assert_eq!(text(&mut s, b"x1060110X?"), "");
        assert_eq!(s.feed(b"s", &mut reply), vec![Event::StopStreaming]);
        assert!(reply.is_empty());
    }
}
