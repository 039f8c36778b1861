use super::*;

fn write(root: &Path, rel: &str, body: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn parses_dirs_and_mounts() {
    assert_eq!(Layer::parse("base").unwrap(), Layer::Dir("base".into()));
    assert_eq!(
        Layer::parse("keys/id:/etc/id").unwrap(),
        Layer::Mount {
            source: "keys/id".into(),
            target: "etc/id".into()
        }
    );
    // A colon not followed by an absolute path is part of the file name.
    assert_eq!(Layer::parse("a:b").unwrap(), Layer::Dir("a:b".into()));
    assert!(matches!(
        Layer::parse("k:/etc/../x"),
        Err(ImageError::BadTarget { .. })
    ));
    assert!(matches!(
        Layer::parse("k:/"),
        Err(ImageError::BadTarget { .. })
    ));
}

#[test]
fn single_layer_is_used_in_place() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), BOOT, "wasm");
    let image = Image::assemble(&[arg(dir.path())]).unwrap();
    assert_eq!(image.root(), dir.path());
}

#[test]
fn later_layers_win_and_directories_merge() {
    let (a, b, key) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    write(a.path(), BOOT, "old");
    write(a.path(), "etc/a", "from a");
    write(a.path(), "etc/shared", "a");
    write(b.path(), "etc/b", "from b");
    write(b.path(), "etc/shared", "b");
    write(key.path(), "id", "secret");
    let mount = format!("{}:/etc/keys/id", key.path().join("id").display());
    let image = Image::assemble(&[arg(a.path()), arg(b.path()), mount]).unwrap();
    let read = |rel: &str| fs::read_to_string(image.root().join(rel)).unwrap();
    assert_eq!(read(BOOT), "old");
    assert_eq!(read("etc/a"), "from a");
    assert_eq!(read("etc/b"), "from b");
    assert_eq!(read("etc/shared"), "b");
    assert_eq!(read("etc/keys/id"), "secret");
    // Sources are untouched.
    assert_eq!(
        fs::read_to_string(a.path().join("etc/shared")).unwrap(),
        "a"
    );
}

#[test]
fn missing_boot_names_every_layer() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(a.path(), "etc/x", "x");
    let err = Image::assemble(&[arg(a.path()), arg(b.path())]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("boot/main.wasm"), "{text}");
    assert!(
        text.contains(&arg(a.path())) && text.contains(&arg(b.path())),
        "{text}"
    );
}

#[test]
fn missing_layer_is_named() {
    let err = Image::assemble(&["/no/such/layer".to_string()]).unwrap_err();
    assert!(matches!(err, ImageError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("/no/such/layer"));
}

#[test]
fn a_file_is_not_a_plain_layer() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "x");
    let err = Image::assemble(&[arg(&dir.path().join("f"))]).unwrap_err();
    assert!(matches!(err, ImageError::NotADirectory { .. }), "{err}");
}

/// A base tree `name` in `dir` with `files` (path, body).
fn base(dir: &Path, name: &str, files: &[(&str, &str)]) -> Base {
    let tree = dir.join(name);
    for (rel, body) in files {
        write(&tree, rel, body);
    }
    Base::new(tree, None)
}

fn read(root: &Path, rel: &str) -> Option<String> {
    fs::read_to_string(root.join(rel)).ok()
}

#[test]
fn a_new_base_is_swapped_in_place_under_the_overlays() {
    let scratch = tempfile::tempdir().unwrap();
    let a = base(
        scratch.path(),
        "a",
        &[
            ("etc/motd", "A"),
            ("etc/shadowed", "A"),
            ("bin/only-a", "a"),
        ],
    );
    let overlay = scratch.path().join("overlay");
    write(&overlay, BOOT, "wasm");
    write(&overlay, "etc/shadowed", "overlay");
    let layers = [arg(a.tree()), arg(&overlay)];
    let root = tempfile::tempdir_in(scratch.path()).unwrap();
    let image = Image::assemble_into(&layers, root).unwrap();
    let mut live = Rebasable::new(image, Some(a), vec![arg(&overlay)], None).unwrap();
    let root = live.root().to_path_buf();
    // A handle opened before the swap (as a cell's preopened `/` is) sees
    // the new files through the same directory.
    let dir = fs::File::open(&root).unwrap();
    assert_eq!(read(&root, "etc/motd").as_deref(), Some("A"));
    assert_eq!(read(&root, "etc/shadowed").as_deref(), Some("overlay"));

    let b = base(
        scratch.path(),
        "b",
        &[
            ("etc/motd", "B"),
            ("etc/shadowed", "B"),
            ("bin/only-b", "b"),
        ],
    );
    let replaced = live.rebase(b).unwrap();
    assert!(scratch.path().join("a").exists(), "kept until dropped");
    drop(replaced);
    assert_eq!(live.root(), root);
    assert_eq!(read(&root, "etc/motd").as_deref(), Some("B"));
    assert_eq!(read(&root, "etc/shadowed").as_deref(), Some("overlay"));
    assert_eq!(read(&root, "bin/only-b").as_deref(), Some("b"));
    assert!(!root.join("bin/only-a").exists(), "the old base's files go");
    assert!(root.join(BOOT).is_file());
    assert!(
        !scratch.path().join("a").exists(),
        "the old copy is removed"
    );
    let via_handle = format!("/proc/self/fd/{}/etc/motd", {
        use std::os::fd::AsRawFd;
        dir.as_raw_fd()
    });
    assert_eq!(fs::read_to_string(via_handle).unwrap(), "B");
    // Nothing is left beside the live root but what was there.
    let leftovers: Vec<_> = fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ww-rebase-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_base_that_leaves_no_kernel_is_refused_and_the_image_is_untouched() {
    let scratch = tempfile::tempdir().unwrap();
    let a = base(scratch.path(), "a", &[(BOOT, "wasm"), ("etc/motd", "A")]);
    let overlay = scratch.path().join("overlay");
    write(&overlay, "etc/extra", "x");
    let root = tempfile::tempdir_in(scratch.path()).unwrap();
    let image = Image::assemble_into(&[arg(a.tree()), arg(&overlay)], root).unwrap();
    let mut live = Rebasable::new(image, Some(a), vec![arg(&overlay)], None).unwrap();
    let b = base(scratch.path(), "b", &[("etc/motd", "B")]);
    let err = live.rebase(b).unwrap_err();
    assert!(matches!(err, ImageError::NoBoot { .. }), "{err}");
    assert_eq!(read(live.root(), "etc/motd").as_deref(), Some("A"));
    assert!(live.root().join(BOOT).is_file());
    assert_eq!(live.base(), Some(scratch.path().join("a").as_path()));
}

#[test]
fn an_image_used_in_place_cannot_be_rebased() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), BOOT, "wasm");
    let image = Image::assemble(&[arg(dir.path())]).unwrap();
    let err = Rebasable::new(image, None, vec![arg(dir.path())], None).unwrap_err();
    assert!(matches!(err, ImageError::InPlace { .. }), "{err}");
}
