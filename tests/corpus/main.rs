//! Sweeps over the large real corpora of the project's shared folder, `../shared/fixtures/`
//! beside the checkout (the 952 real pages): a target of its own, which `scripts/test` runs when
//! that folder is there and reports as skipped, naming what is missing, when it is not. The
//! fixtures the core tests need are in `tests/fixtures/`.

#[allow(dead_code, unused_imports)]
#[path = "../it/helpers/mod.rs"]
mod helpers;
mod real_pages;
mod walls;

use std::path::PathBuf;

/// `../shared/fixtures/NAME`.
pub fn shared(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(name);
    assert!(dir.is_dir(), "{} is missing: the project's shared folder must lie beside the checkout", dir.display());
    dir
}
