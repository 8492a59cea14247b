//! `process` with exits watched through the SIGCHLD fallback (as on kernels without
//! `pidfd_open`), switched on for this whole test binary: the shared cases of
//! `process_cases/`, on both flavors.

#[path = "process_cases/mod.rs"]
mod process_cases;

process_tests!(executor::process::__force_sigchld_fallback(true));

#[test]
fn the_fallback_listens_for_sigchld() {
    executor::process::__force_sigchld_fallback(true);
    let rt = executor::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut child = executor::process::Command::new("true").spawn().unwrap();
        // The handler is installed by the first spawn: SigCgt has SIGCHLD's bit.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let caught = status.lines().find_map(|l| l.strip_prefix("SigCgt:")).unwrap().trim();
        let mask = u64::from_str_radix(caught, 16).unwrap();
        assert_ne!(mask & (1 << (libc::SIGCHLD - 1)), 0, "SIGCHLD is not caught");
        assert!(child.wait().await.unwrap().success());
    });
}
