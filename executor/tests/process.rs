//! `process` with exits watched through pidfds on the `EventPoll`: the shared cases of
//! `process_cases/`, on both flavors, and a check that a pidfd is what watches a child.

#[path = "process_cases/mod.rs"]
mod process_cases;

process_tests!(executor::process::__force_sigchld_fallback(false));

#[test]
fn a_running_child_is_watched_through_a_pidfd() {
    let rt = executor::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let pidfds = || {
            std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().contains("pidfd"))
                .count()
        };
        let before = pidfds();
        let mut child = executor::process::Command::new("sleep").arg("30").spawn().unwrap();
        assert!(pidfds() > before, "no pidfd was opened for the child");
        child.kill().await.unwrap();
    });
}
