//! A private system bus with python-dbusmock's `bluez5` template on it, shared by the
//! tests that run btleplug against a real D-Bus.
//!
//! Setup is self-contained: `scripts/ble/dbusmock-venv.sh` creates a virtual environment
//! and pip-installs python-dbusmock into it (once per target directory); the bus is
//! `dbus-daemon` with a config written here, listening on a socket in a temporary
//! directory; btleplug finds it through `DBUS_SYSTEM_BUS_ADDRESS`. Any failure panics with
//! what went wrong: these tests never skip silently.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The venv's python, created on first use.
pub fn dbusmock_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ble/dbusmock-venv.sh");
            let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dbusmock-venv");
            let output = Command::new("bash")
                .arg(&script)
                .arg(&venv)
                .stderr(Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
            assert!(
                output.status.success(),
                "setting up python-dbusmock failed ({}); see the messages above",
                output.status
            );
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        })
        .clone()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "gave up after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process that ends when its handle is dropped or when the test process exits,
/// whichever comes first (a shell holds it and kills it when our end of its stdin closes),
/// so no bus or mock outlives the tests.
struct Tethered {
    shell: Child,
}

impl Tethered {
    fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)], log: &Path) -> Tethered {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#""$@" & child=$!; read _; kill $child; wait $child"#)
            .arg("sh")
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap());
        for (k, v) in env {
            command.env(k, v);
        }
        let shell = command.spawn().unwrap_or_else(|e| panic!("could not start {}: {e}", program.display()));
        Tethered { shell }
    }
}

impl Drop for Tethered {
    fn drop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}

/// The private system bus of this test binary, and the bluez5 mock on it when asked for.
///
/// libdbus reads `DBUS_SYSTEM_BUS_ADDRESS` once per process, so every test of a binary
/// shares one bus; tests take turns through [`bus`] and restart the mock for a clean state.
pub struct PrivateBus {
    dir: PathBuf,
    pub address: String,
    _daemon: Tethered,
    mock: Option<Tethered>,
}

/// The shared bus, for one test at a time.
pub fn bus() -> MutexGuard<'static, PrivateBus> {
    static BUS: OnceLock<Mutex<PrivateBus>> = OnceLock::new();
    BUS.get_or_init(|| Mutex::new(PrivateBus::start())).lock().unwrap_or_else(|p| p.into_inner())
}

impl PrivateBus {
    /// Starts `dbus-daemon` on a fresh socket and points `DBUS_SYSTEM_BUS_ADDRESS` at it.
    fn start() -> PrivateBus {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("system-bus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("system_bus_socket");
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let config_arg = format!("--config-file={}", config.display());
        let daemon = Tethered::spawn(
            Path::new("dbus-daemon"),
            &[&config_arg, "--nofork", "--nopidfile"],
            &[],
            &dir.join("dbus-daemon.log"),
        );
        wait_until("the private bus socket (see dbus-daemon.log)", Duration::from_secs(10), || socket.exists());
        let address = format!("unix:path={}", socket.display());
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &address);
        PrivateBus { dir, address, _daemon: daemon, mock: None }
    }

    /// Runs python with the `dbus` module against this bus; panics with its stderr on failure.
    pub fn python(&self, code: &str) -> String {
        let output = Command::new(dbusmock_python())
            .arg("-c")
            .arg(code)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.address)
            .output()
            .expect("the dbusmock venv's python runs");
        assert!(
            output.status.success(),
            "python failed: {}\n{code}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn bluez_owned(&self) -> bool {
        self.python("import dbus; print(dbus.SystemBus().name_has_owner('org.bluez'))").trim() == "True"
    }

    /// Stops the bluez5 mock, leaving a bus without org.bluez.
    pub fn stop_bluez_mock(&mut self) {
        if self.mock.take().is_some() {
            wait_until("org.bluez to leave the bus", Duration::from_secs(20), || !self.bluez_owned());
        }
    }

    /// (Re)starts python-dbusmock's `bluez5` template as org.bluez: no adapters, no devices.
    pub fn restart_bluez_mock(&mut self) {
        self.stop_bluez_mock();
        let python = dbusmock_python();
        self.mock = Some(Tethered::spawn(
            &python,
            &["-m", "dbusmock", "--system", "--template", "bluez5"],
            &[("DBUS_SYSTEM_BUS_ADDRESS", &self.address)],
            &self.dir.join("dbusmock.log"),
        ));
        wait_until("org.bluez on the private bus (see dbusmock.log)", Duration::from_secs(20), || self.bluez_owned());
    }

    /// Calls a method of the mock's `org.bluez.Mock` interface, e.g.
    /// `mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:01", "Ganglion-1a2b"])`.
    pub fn mock(&self, method: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        self.python(&format!(
            "import dbus\nm = dbus.Interface(dbus.SystemBus().get_object('org.bluez', '/'), 'org.bluez.Mock')\nprint(m.{method}({}))",
            args.join(", ")
        ))
    }
}
