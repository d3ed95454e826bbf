//! A child dropped unreaped is reaped by the reactor it was spawned on,
//! during the turn that sees it exit, with nothing else happening: no
//! zombie is left.
//!
//! One test, alone in its binary: in a binary with other process tests,
//! their spawns and waits would sweep the orphan list too and hide a
//! reactor that never reports the exit.

mod process_util;
mod util;

use ember_io::process::Stdio;
use process_util::{child_state, command, until_reaped, yield_now, REAPERS};
use util::run;

#[test]
fn orphans_are_reaped_by_their_reactor_alone() {
    for reaper in REAPERS {
        run(async move {
            // Dropped while running, exits afterwards.
            let mut cat = command("cat", reaper).stdin(Stdio::piped()).spawn()?;
            let pid = cat.id().expect("running");
            let stdin = cat.stdin.take();
            drop(cat);
            assert!(child_state(pid).is_some(), "{reaper:?}: still running");
            drop(stdin);
            until_reaped(pid, yield_now).await;

            // kill_on_drop: dropped with its input open (the field), so
            // only the kill ends it.
            let cat = command("cat", reaper)
                .stdin(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let pid = cat.id().expect("running");
            drop(cat);
            until_reaped(pid, yield_now).await;
            Ok(())
        });
    }
}
