use super::*;

#[test]
fn content_range_is_parsed() {
    assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
    assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
    assert_eq!(parse_content_range(" bytes  0-0/1 "), Some((0, Some(1))));
    assert_eq!(parse_content_range("items 1-2/3"), None);
    assert_eq!(parse_content_range("bytes x-2/3"), None);
    assert_eq!(parse_content_range(""), None);
}

#[test]
fn pinned_sources_are_well_formed() {
    assert!(source(DatasetName::Folder).is_none());
    for &name in DatasetName::ALL.iter().filter(|&&n| n != DatasetName::Folder) {
        let src = source(name).expect("a source");
        assert_eq!(src.name, name);
        assert!(src.base_url.starts_with("https://"), "{}", src.base_url);
        assert!(!src.files.is_empty());
        for f in src.files {
            assert_eq!(f.sha256.len(), 64, "{f:?}");
            assert!(f.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert!(f.size.is_some_and(|s| s > 0), "{f:?}");
        }
    }
    assert_eq!(source(DatasetName::Cifar10).expect("cifar10").unpack, Unpack::Cifar10TarGz);
    let mnist = source(DatasetName::Mnist).expect("mnist");
    assert_eq!(mnist.files[0].name, "train-images-idx3-ubyte.gz");
}

#[test]
fn offline_names_the_cache_and_the_ways_out() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = FetchOptions { offline: true, ..FetchOptions::new(tmp.path()) };
    let msg = fetch(DatasetName::Mnist, &options, &mut |_| {}).expect_err("offline").to_string();
    for needle in [
        "`mnist` is not in the cache",
        "cnnvar data fetch mnist",
        "`data_dir`",
        "$CNNVAR_DATA_DIR",
        "`offline`",
        "$CNNVAR_OFFLINE",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
    assert!(!msg.contains("--"), "names no command-line flag: {msg}");
    assert!(msg.contains(&tmp.path().join("mnist").display().to_string()), "{msg}");
    assert!(!msg.contains('\n'));
    // Nothing was created.
    assert!(!tmp.path().join("mnist").exists());
}
