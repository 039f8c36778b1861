#![doc = include_str!("README.md")]

use ww_guest::wit;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let caps = wit::graft()?;
    let ipfs = caps.ipfs.ok_or("this node grants no ipfs")?;
    let files = ipfs.unixfs()?;
    // Kubo's defaults: CIDv0, dag-pb leaves.
    let kubo = wit::AddOptions {
        cid_version: 0,
        raw_leaves: false,
    };

    let cid = files.add(b"hello world\n", kubo)?;
    println!("added {cid}");
    let data = files.cat(&format!("/ipfs/{cid}"))?;
    print!("cat: {}", String::from_utf8_lossy(&data));

    let tree = [
        wit::File {
            path: "etc/motd".into(),
            data: b"welcome\n".to_vec(),
        },
        wit::File {
            path: "hello.txt".into(),
            data: b"hello world\n".to_vec(),
        },
    ];
    let root = files.add_directory(&tree, kubo)?;
    println!("directory {root}");
    for entry in files.ls(&format!("/ipfs/{root}"))? {
        let kind = if entry.is_directory { "dir " } else { "file" };
        println!(
            "  {kind} {} {} ({} bytes)",
            entry.name, entry.cid, entry.size
        );
    }
    Ok(())
}
