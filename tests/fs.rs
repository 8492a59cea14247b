//! `runtime::fs` through the facade, as a tokio user writes it (`runtime::io`'s extension
//! traits on a `File`), on both flavors.

use runtime::fs::{self, File, OpenOptions};
use runtime::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runtime-facade-fs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn round_trip(dir: PathBuf) {
    fs::create_dir_all(&dir).await.unwrap();
    let path = dir.join("f");
    let mut f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).await.unwrap();
    f.write_all(b"hello, file").await.unwrap();
    f.flush().await.unwrap();
    f.seek(SeekFrom::Start(7)).await.unwrap();
    let mut rest = String::new();
    f.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "file");
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello, file");
    let mut whole = Vec::new();
    File::open(&path).await.unwrap().read_to_end(&mut whole).await.unwrap();
    assert_eq!(whole, b"hello, file");
    fs::remove_dir_all(&dir).await.unwrap();
    assert_eq!(fs::metadata(&dir).await.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[runtime::test]
async fn a_file_round_trip_on_current_thread() {
    round_trip(temp_dir("ct")).await;
}

#[runtime::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_round_trip_on_multi_thread() {
    round_trip(temp_dir("mt")).await;
}
