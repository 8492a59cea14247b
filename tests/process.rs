//! `runtime::process` through the facade, as a tokio user writes it (`runtime::io`'s
//! extension traits on the pipes), on both flavors.

use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::process::Command;
use std::process::Stdio;

async fn through_cat() {
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"hello, child").await.unwrap();
    drop(stdin);
    let mut out = String::new();
    child.stdout.as_mut().unwrap().read_to_string(&mut out).await.unwrap();
    assert_eq!(out, "hello, child");
    assert!(child.wait().await.unwrap().success());
    let out = Command::new("sh").args(["-c", "echo hi; exit 2"]).output().await.unwrap();
    assert_eq!((out.status.code(), &out.stdout[..]), (Some(2), &b"hi\n"[..]));
}

#[runtime::test]
async fn a_child_through_the_facade_on_current_thread() {
    through_cat().await;
}

#[runtime::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_through_the_facade_on_multi_thread() {
    through_cat().await;
}
