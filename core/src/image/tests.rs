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
