//! With the `tokio-io` feature, the process pipes implement tokio's `AsyncRead` /
//! `AsyncWrite`: tokio's extension traits drive them on this runtime (no tokio runtime).

use executor::process::Command;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn tokios_io_traits_read_and_write_the_pipes() {
    for rt in [
        executor::runtime::Builder::new_current_thread().build().unwrap(),
        executor::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap(),
    ] {
        rt.block_on(async {
            let mut child = Command::new("sh")
                .args(["-c", "cat; echo oops >&2"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"through tokio's traits").await.unwrap();
            stdin.shutdown().await.unwrap();
            drop(stdin);
            let mut out = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
            let mut err = Vec::new();
            child.stderr.take().unwrap().read_to_end(&mut err).await.unwrap();
            assert_eq!((out.as_str(), &err[..]), ("through tokio's traits", &b"oops\n"[..]));
            assert!(child.wait().await.unwrap().success());
        });
    }
}
