//! The `multipart/form-data` bodies Kubo's `add` takes, as reqwest forms:
//! one part per file (its tree path as the filename) and one per directory
//! (content type `application/x-directory`), parents before children.
//!
//! A part's body may be a stream ([`stream`]), so `addStream` sends the
//! cell's writes as they arrive, with no encoder of our own.
//!
//! reqwest's percent-encoding choices (`Form::percent_encode_*`) apply to a
//! part's field *name* only; it writes the `filename` as given (RFC 7578
//! has no `filename*=`). Kubo and js-ipfs percent-decode the filename, so
//! [`file_name`] encodes each path segment and joins them with `/`.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::multipart::{Form, Part};
use reqwest::Body;

/// The name every added tree is rooted at; `add` answers its CID under it.
pub const ROOT: &str = "root";

/// The file name a single added file is sent under.
pub const FILE: &str = "file";

/// The form field of every part (Kubo reads the parts, whatever their
/// field; `ipfs add` sends `file`).
const FIELD: &str = "file";

/// The content type of a file's part.
const OCTETS: &str = "application/octet-stream";

/// The content type that makes a part a directory.
const DIRECTORY: &str = "application/x-directory";

/// What a path segment keeps as is: RFC 3986's unreserved characters. The
/// rest is encoded, `+` too (a query-style decoder reads it as a space).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `path`'s segments, each percent-encoded, joined by `/`: the filename
/// Kubo and js-ipfs decode back to `path`.
pub fn file_name(path: &str) -> String {
    path.split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// `part` as the entry at `path`, of content type `mime`.
fn entry(part: Part, path: &str, mime: &'static str) -> Part {
    part.file_name(file_name(path))
        .mime_str(mime)
        .expect("a valid MIME type")
}

/// A form of one file, named [`FILE`], whose bytes are `data`.
pub fn bytes(data: Vec<u8>) -> Form {
    Form::new().part(FIELD, entry(Part::bytes(data), FILE, OCTETS))
}

/// A form of one file, named [`FILE`], whose bytes are what `body` yields
/// as they come (a failing body aborts the upload).
pub fn stream(body: Body) -> Form {
    Form::new().part(FIELD, entry(Part::stream(body), FILE, OCTETS))
}

/// A form of a directory tree under [`ROOT`]: `files` are
/// `(relative path, Some(bytes))` for files and `(path, None)` for empty
/// directories.
pub fn directory(files: &[(String, Option<&[u8]>)]) -> Form {
    entries(files)
        .into_iter()
        .fold(Form::new(), |form, (path, data)| {
            let part = match data {
                Some(data) => entry(Part::bytes(data.to_vec()), &path, OCTETS),
                None => entry(Part::bytes(Vec::new()), &path, DIRECTORY),
            };
            form.part(FIELD, part)
        })
}

/// The entries of the tree of `files` under [`ROOT`], as `(path, Some(bytes))`
/// for files and `(path, None)` for directories, implied ones too. They
/// come depth first, each directory just before its contents, as Kubo's
/// multipart reader wants.
fn entries<'a>(files: &[(String, Option<&'a [u8]>)]) -> Vec<(String, Option<&'a [u8]>)> {
    // Sorting by path components gives that order: a parent's components
    // are a prefix of its children's.
    let mut tree: BTreeMap<Vec<&str>, Option<&'a [u8]>> = BTreeMap::new();
    tree.insert(Vec::new(), None);
    for (path, data) in files {
        let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let parents = if data.is_some() {
            components.len().saturating_sub(1)
        } else {
            components.len()
        };
        for end in 1..=parents {
            tree.entry(components[..end].to_vec()).or_insert(None);
        }
        if data.is_some() {
            tree.insert(components, *data);
        }
    }
    tree.into_iter()
        .map(|(components, data)| {
            let path = std::iter::once(ROOT)
                .chain(components)
                .collect::<Vec<_>>()
                .join("/");
            (path, data)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    /// What reqwest sends for `form`.
    fn wire(form: Form) -> (String, String) {
        let boundary = form.boundary().to_string();
        let chunks: Vec<bytes::Bytes> =
            futures::executor::block_on(form.into_stream().try_collect()).unwrap();
        (boundary, String::from_utf8(chunks.concat()).unwrap())
    }

    /// Each part's filename and content type, in order.
    fn parts(body: &str) -> Vec<(&str, &str)> {
        body.split("filename=\"")
            .skip(1)
            .map(|s| {
                let name = s.split('"').next().unwrap();
                let mime = s.split("Content-Type: ").nth(1).unwrap();
                (name, mime.split("\r\n").next().unwrap())
            })
            .collect()
    }

    #[test]
    fn names_are_percent_encoded_segments_joined_by_slashes() {
        assert_eq!(
            file_name("root/a b/ü+x/c%d.txt"),
            "root/a%20b/%C3%BC%2Bx/c%25d.txt"
        );
        assert_eq!(file_name("root/a-b_c~d.e"), "root/a-b_c~d.e");
    }

    #[test]
    fn parts_come_depth_first_with_implied_parents() {
        let files = [
            ("b".to_string(), Some(&b"1"[..])),
            ("a/x y/z".to_string(), Some(&b"2"[..])),
            ("a-b/".to_string(), None),
        ];
        let (boundary, body) = wire(directory(&files));
        let dir = "application/x-directory";
        let file = "application/octet-stream";
        assert_eq!(
            parts(&body),
            [
                ("root", dir),
                ("root/a", dir),
                ("root/a/x%20y", dir),
                ("root/a/x%20y/z", file),
                ("root/a-b", dir),
                ("root/b", file),
            ]
        );
        assert!(body.contains("Content-Disposition: form-data; name=\"file\"; filename=\"root/b\""));
        assert!(
            body.contains("\r\n\r\n2\r\n--"),
            "file bytes, then the part's end"
        );
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
    }

    #[test]
    fn a_streamed_file_is_one_part_with_the_streams_bytes() {
        let chunks = futures::stream::iter(["ab", "cd"].map(Ok::<_, std::io::Error>));
        let (_, body) = wire(stream(Body::wrap_stream(chunks)));
        assert_eq!(parts(&body), [("file", "application/octet-stream")]);
        assert!(body.contains("\r\n\r\nabcd\r\n--"), "{body}");
    }
}
