//! `cyton-emulator`: plays a Cyton (or Cyton with Daisy) on a pseudo-terminal until it is
//! interrupted, printing the port to pass as `serial_port`.
#![forbid(unsafe_code)]

use clap::Parser;
use emulator::{Emulator, EmulatorOptions, Faults};

#[derive(Parser, Debug)]
#[command(about = "Emulates an OpenBCI Cyton (or Cyton + Daisy) on a pseudo-terminal")]
struct Args {
    /// Emulate the Daisy module too (16 channels at 125 Hz).
    #[arg(long)]
    daisy: bool,
    /// Seed of the emulated signal.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Insert garbage bytes after every Nth packet.
    #[arg(long, value_name = "N")]
    garbage_every: Option<u32>,
    /// Give every Nth packet an invalid footer.
    #[arg(long, value_name = "N")]
    bad_footer_every: Option<u32>,
    /// Drop one byte from every Nth packet.
    #[arg(long, value_name = "N")]
    drop_byte_every: Option<u32>,
    /// Stop sending after this many packets, keeping the port open.
    #[arg(long, value_name = "PACKETS")]
    stall_after: Option<u64>,
    /// Never answer commands (a board that fails the handshake).
    #[arg(long)]
    silent: bool,
    /// Answer like BrainFlow's CI emulator: only `v` and `?`, random packets.
    #[arg(long)]
    brainflow_ci: bool,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let options = EmulatorOptions {
        daisy: args.daisy,
        seed: args.seed,
        faults: Faults {
            garbage_every: args.garbage_every,
            bad_footer_every: args.bad_footer_every,
            drop_byte_every: args.drop_byte_every,
            stall_after: args.stall_after,
        },
        answer_handshake: !args.silent,
        firmware: if args.brainflow_ci { emulator::Firmware::BrainFlowCi } else { emulator::Firmware::OpenBci },
    };
    let emulator = Emulator::start(options)?;
    println!("{}", emulator.port_path().display());
    // The emulator runs on its own thread; this one only waits for Ctrl-C, which ends
    // the process and with it the pty.
    loop {
        std::thread::park();
    }
}
