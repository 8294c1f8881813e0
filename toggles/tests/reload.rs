//! Hot reload against a real file system: every way a file is replaced applies; nothing
//! that goes wrong changes the config in force.

use board_api::BoardId;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toggles::{EventKind, ReloadOutcome, ToggleStore, WatchOptions};

fn yaml(percent: u32) -> String {
    format!("# generation marker {percent}\nboards:\n  cyton:\n    mode: rust\n    percent: {percent}\n")
}

fn percent_in_force(store: &ToggleStore) -> u32 {
    store.load().config.board(BoardId::Cyton).percent_at(toggles::Timestamp(0)).basis_points() / 100
}

/// Waits until `done` holds, failing after a generous deadline (never a timing assertion:
/// the deadline only bounds a hang).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn rename_into_place(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Watcher only: the periodic check is pushed far away so that it cannot be what applies.
fn events_only() -> WatchOptions {
    WatchOptions { poll_interval: Duration::from_secs(3600), ..WatchOptions::default() }
}

fn fast_poll() -> WatchOptions {
    WatchOptions { poll_interval: Duration::from_millis(50), ..WatchOptions::default() }
}

fn setup(percent: u32) -> (tempfile::TempDir, PathBuf, Arc<ToggleStore>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.yaml");
    std::fs::write(&path, yaml(percent)).unwrap();
    let store = Arc::new(ToggleStore::open(&path).unwrap());
    (dir, path, store)
}

#[test]
fn generation_grows_only_with_a_changed_valid_config() {
    let (_dir, path, store) = setup(10);
    assert_eq!(store.load().generation, 1);
    assert_eq!(store.reload(), ReloadOutcome::Unchanged);
    std::fs::write(&path, yaml(10).replace("marker", "comment only")).unwrap();
    assert_eq!(store.reload(), ReloadOutcome::Unchanged);
    assert_eq!(store.load().generation, 1);
    std::fs::write(&path, yaml(20)).unwrap();
    assert_eq!(store.reload(), ReloadOutcome::Applied { generation: 2 });
    std::fs::write(&path, "boards:\n  cyton:\n    mode: rust\n    percent: 200\n").unwrap();
    let ReloadOutcome::Rejected(e) = store.reload() else { panic!("must reject") };
    assert_eq!((e.line, e.column, e.field.as_str()), (Some(4), Some(14), "boards.cyton.percent"));
    assert_eq!((store.load().generation, percent_in_force(&store)), (2, 20));

    let events = store.recent_events();
    let kinds: Vec<(EventKind, u64)> = events.iter().map(|e| (e.kind, e.generation)).collect();
    assert_eq!(kinds, [(EventKind::Applied, 1), (EventKind::Applied, 2), (EventKind::Rejected, 2)]);
    assert!(events[1].changes.iter().any(|c| c.contains("cyton") && c.contains("10%") && c.contains("20%")), "{:?}", events[1].changes);
    assert_eq!(events[1].content_hash, Some(toggles::content_hash(yaml(20).as_bytes())));
    // The periodic check re-reading the same bad file does not log it again.
    assert!(matches!(store.reload(), ReloadOutcome::Rejected(_)));
    assert_eq!(store.recent_events().len(), 3);
}

#[test]
fn subscribers_hear_applied_and_rejected_changes() {
    let (_dir, path, store) = setup(10);
    let rx = store.subscribe();
    std::fs::write(&path, yaml(30)).unwrap();
    store.reload();
    std::fs::write(&path, "kill_switch: maybe\n").unwrap();
    store.reload();
    let a = rx.try_recv().unwrap();
    let b = rx.try_recv().unwrap();
    assert_eq!((a.kind, a.generation), (EventKind::Applied, 2));
    assert_eq!((b.kind, b.generation), (EventKind::Rejected, 2));
    assert_eq!(b.error.unwrap().field, "kill_switch");
}

#[test]
fn in_place_writes_apply() {
    let (_dir, path, store) = setup(10);
    let _watch = toggles::watch(store.clone(), events_only()).unwrap();
    for p in [11, 12, 13] {
        std::fs::write(&path, yaml(p)).unwrap();
        wait_for("in-place write", || percent_in_force(&store) == p);
    }
    assert_eq!(store.load().generation, 4);
}

#[test]
fn editor_rename_applies() {
    let (_dir, path, store) = setup(10);
    let _watch = toggles::watch(store.clone(), events_only()).unwrap();
    for p in [21, 22, 23] {
        rename_into_place(&path, &yaml(p));
        wait_for("rename", || percent_in_force(&store) == p);
    }
}

#[test]
fn delete_then_recreate_applies_and_the_gap_changes_nothing() {
    let (_dir, path, store) = setup(10);
    let _watch = toggles::watch(store.clone(), events_only()).unwrap();
    std::fs::remove_file(&path).unwrap();
    wait_for("the deletion to be noticed", || store.recent_events().iter().any(|e| e.kind == EventKind::Rejected));
    assert_eq!((store.load().generation, percent_in_force(&store)), (1, 10));
    let rejected = store.recent_events().into_iter().find(|e| e.kind == EventKind::Rejected).unwrap();
    assert!(rejected.error.unwrap().problem.contains("does not exist"));
    std::fs::write(&path, yaml(40)).unwrap();
    wait_for("recreate", || percent_in_force(&store) == 40);
}

#[test]
fn kubernetes_configmap_symlink_swap_applies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let version = |n: u32, percent: u32| {
        let d = root.join(format!("..2026_11_23_10_00_0{n}.000000{n}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("switchyard.yaml"), yaml(percent)).unwrap();
        d
    };
    let first = version(1, 10);
    std::os::unix::fs::symlink(first.file_name().unwrap(), root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/switchyard.yaml", root.join("switchyard.yaml")).unwrap();
    let store = Arc::new(ToggleStore::open(root.join("switchyard.yaml")).unwrap());
    let _watch = toggles::watch(store.clone(), events_only()).unwrap();
    let mut previous = first;
    for (n, percent) in [(2, 50), (3, 60)] {
        let next = version(n, percent);
        std::os::unix::fs::symlink(next.file_name().unwrap(), root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
        std::fs::remove_dir_all(&previous).unwrap();
        previous = next;
        wait_for("ConfigMap swap", || percent_in_force(&store) == percent);
    }
}

#[test]
fn a_directory_that_disappears_and_returns_is_watched_again() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("conf");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("switchyard.yaml");
    std::fs::write(&path, yaml(10)).unwrap();
    let store = Arc::new(ToggleStore::open(&path).unwrap());
    let _watch = toggles::watch(store.clone(), fast_poll()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    wait_for("the missing directory to be noticed", || store.recent_events().iter().any(|e| e.kind == EventKind::Rejected));
    assert_eq!(percent_in_force(&store), 10);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(&path, yaml(70)).unwrap();
    wait_for("the returned directory", || percent_in_force(&store) == 70);
    // Later edits in the returned directory apply too.
    std::fs::write(&path, yaml(71)).unwrap();
    wait_for("an edit in the returned directory", || percent_in_force(&store) == 71);
}

#[test]
fn symlink_loops_are_rejected_at_startup_and_at_reload() {
    let (dir, path, store) = setup(10);
    let a = dir.path().join("loop-a.yaml");
    let b = dir.path().join("loop-b.yaml");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let e = ToggleStore::open(&a).err().expect("a loop cannot load");
    assert!(e.problem.contains("symlink loop") || e.problem.contains("many levels"), "{e}");
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&a, &path).unwrap();
    assert!(matches!(store.reload(), ReloadOutcome::Rejected(_)));
    assert_eq!((store.load().generation, percent_in_force(&store)), (1, 10));
}

#[test]
fn unreadable_files_are_rejected() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path, store) = setup(10);
    std::fs::write(&path, yaml(90)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        // Root reads anything; permissions cannot make the file unreadable here.
        eprintln!("skipped: this user can read a mode-000 file");
        return;
    }
    let ReloadOutcome::Rejected(e) = store.reload() else { panic!("must reject") };
    assert!(e.problem.contains("permission"), "{e}");
    assert_eq!(percent_in_force(&store), 10);
    assert!(ToggleStore::open(&path).is_err());
}

#[test]
fn a_directory_or_missing_file_at_startup_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(ToggleStore::open(dir.path()).err().unwrap().problem.contains("regular file"));
    let e = ToggleStore::open(dir.path().join("nope.yaml")).err().unwrap();
    assert!(e.problem.contains("does not exist"), "{e}");
}

#[test]
fn a_thousand_rapid_mixed_writes_end_in_the_last_valid_content() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The file is reached through a ConfigMap-style link so that all three ways apply.
    let mut version_dir = root.join("..v0");
    std::fs::create_dir(&version_dir).unwrap();
    std::fs::write(version_dir.join("switchyard.yaml"), yaml(0)).unwrap();
    std::os::unix::fs::symlink("..v0", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/switchyard.yaml", root.join("switchyard.yaml")).unwrap();
    let path = root.join("switchyard.yaml");
    let store = Arc::new(ToggleStore::open(&path).unwrap());
    let _watch = toggles::watch(store.clone(), WatchOptions { poll_interval: Duration::from_millis(200), ..WatchOptions::default() }).unwrap();
    let mut last_valid = yaml(0);
    for i in 1..=1000u32 {
        let valid = i % 7 != 0 || i == 1000;
        let content = if valid {
            format!("# write {i}\nboards:\n  cyton:\n    mode: rust\n    percent: {}\n", i % 101)
        } else {
            format!("# write {i}\nboards:\n  cyton:\n    mode: rust\n    percent: {}\n", 101 + i)
        };
        match i % 3 {
            0 => std::fs::write(version_dir.join("switchyard.yaml"), &content).unwrap(),
            1 => rename_into_place(&version_dir.join("switchyard.yaml"), &content),
            _ => {
                let next = root.join(format!("..v{i}"));
                std::fs::create_dir(&next).unwrap();
                std::fs::write(next.join("switchyard.yaml"), &content).unwrap();
                std::os::unix::fs::symlink(next.file_name().unwrap(), root.join("..data_tmp")).unwrap();
                std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
                std::fs::remove_dir_all(&version_dir).unwrap();
                version_dir = next;
            }
        }
        if valid {
            last_valid = content;
        }
    }
    let want = toggles::content_hash(last_valid.as_bytes());
    wait_for("the last valid content", || store.load().content_hash == want);
    let generation = store.load().generation;
    eprintln!("1000 mixed writes: last valid content in force at generation {generation}");
    assert_eq!(percent_in_force(&store), 1000 % 101);
}

/// The last event is what the status page shows as "last reload".
fn last_summary(store: &ToggleStore) -> String {
    store.recent_events().last().unwrap().summary()
}

#[test]
fn returning_to_the_settings_in_force_clears_a_rejection() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path, store) = setup(10);
    // A bad edit, then the same bytes as before.
    std::fs::write(&path, "boards: [\n").unwrap();
    assert!(matches!(store.reload(), ReloadOutcome::Rejected(_)));
    assert!(last_summary(&store).starts_with("rejected: "), "{}", last_summary(&store));
    std::fs::write(&path, yaml(10)).unwrap();
    assert_eq!(store.reload(), ReloadOutcome::Unchanged);
    let last = store.recent_events().last().unwrap().clone();
    assert_eq!((last.kind, last.generation), (EventKind::Restored, 1));
    assert!(last_summary(&store).starts_with("restored: "), "{}", last_summary(&store));
    // Once restored, further unchanged checks record nothing more.
    let count = store.recent_events().len();
    assert_eq!(store.reload(), ReloadOutcome::Unchanged);
    assert_eq!(store.recent_events().len(), count);

    // A bad edit undone with different formatting but the same settings.
    std::fs::write(&path, "boards: [\n").unwrap();
    store.reload();
    std::fs::write(&path, yaml(10).replace("marker", "other comment")).unwrap();
    assert_eq!(store.reload(), ReloadOutcome::Unchanged);
    assert_eq!(store.recent_events().last().unwrap().kind, EventKind::Restored);

    // Deleted, then recreated with the same content.
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(store.reload(), ReloadOutcome::Rejected(_)));
    std::fs::write(&path, yaml(10).replace("marker", "other comment")).unwrap();
    store.reload();
    assert_eq!(store.recent_events().last().unwrap().kind, EventKind::Restored);

    // Unreadable, then readable again (root reads any file, so only check when refused).
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_err() {
        assert!(matches!(store.reload(), ReloadOutcome::Rejected(_)));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.reload();
        assert_eq!(store.recent_events().last().unwrap().kind, EventKind::Restored);
    }
    assert_eq!(store.load().generation, 1);
}

#[test]
fn a_file_written_in_two_parts_is_applied_only_once_complete() {
    use std::io::Write;
    let (_dir, path, store) = setup(10);
    // The periodic check runs every 50 ms, so it too must wait for the writer.
    let _watch = toggles::watch(store.clone(), fast_poll()).unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
    // The first part alone is a valid config that leaves cyton out (so, cpp).
    writer.write_all(b"kill_switch: false\nboards:\n  synthetic: rust\n").unwrap();
    writer.flush().unwrap();
    // The writer pauses far longer than the debounce and several periodic checks.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(store.load().generation, 1, "the first part must not be applied");
    assert_eq!(store.recent_events().len(), 1, "nor rejected: {:?}", store.recent_events());
    writer.write_all(b"  cyton:\n    mode: rust\n    percent: 30\n").unwrap();
    drop(writer);
    wait_for("the complete file", || store.load().generation == 2);
    assert_eq!(percent_in_force(&store), 30);
    assert_eq!(store.load().config.board(BoardId::Synthetic).mode, toggles::Path::Rust);
}

#[test]
fn a_writer_that_never_closes_is_read_after_its_grace() {
    use std::io::Write;
    let (_dir, path, store) = setup(10);
    let options = WatchOptions { writer_grace: Duration::from_millis(300), ..fast_poll() };
    let _watch = toggles::watch(store.clone(), options).unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
    writer.write_all(yaml(40).as_bytes()).unwrap();
    writer.flush().unwrap();
    wait_for("the file read once the grace ran out", || store.load().generation == 2);
    assert_eq!(percent_in_force(&store), 40);
    drop(writer);
}
