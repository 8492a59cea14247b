//! [`DirBuilder`]: how a directory is created (`std::fs::DirBuilder`, on the blocking pool).

use super::asyncify;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Creates directories: `std::fs::DirBuilder` whose [`create`](DirBuilder::create) is
/// asynchronous.
///
/// ```
/// use executor::fs::DirBuilder;
///
/// # let dir = std::env::temp_dir().join(format!("fs-dir-builder-doc-{}", std::process::id()));
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     DirBuilder::new().recursive(true).mode(0o700).create(dir.join("x/y")).await?;
///     assert!(executor::fs::metadata(dir.join("x/y")).await?.is_dir());
///     executor::fs::remove_dir_all(&dir).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
    mode: Option<u32>,
}

impl DirBuilder {
    /// A builder that creates one directory with mode `0o777` (before the umask).
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Also create every missing parent (and succeed if the directory exists).
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of created directories.
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }

    /// Creates the directory `path` (`std::fs::DirBuilder::create`, with its errors).
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        if let Some(mode) = self.mode {
            builder.mode(mode);
        }
        let path = path.as_ref().to_owned();
        asyncify(move || builder.create(path)).await
    }
}
