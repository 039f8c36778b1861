//! The HTTP side of the Kubo backend: one method per RPC call ww uses.
//!
//! Kubo's RPC API (and js-ipfs's, which copies it) takes every call as a
//! `POST /api/v0/<call>?arg=…`, answers JSON (newline-delimited for `add`)
//! or raw bytes (`cat`), and reports failures as a non-2xx status with a
//! JSON body `{"Message": …, "Code": …, "Type": "error"}`. Every failure
//! here names the API's URL, so an operator knows which daemon to look at.

use std::future::Future;
use std::time::Duration;

use cid::Cid;
use reqwest::multipart::Form;
use reqwest::{RequestBuilder, Response, Url};
use serde_json::Value;

use crate::error::{IpfsError, Result};
use crate::importer::AddOptions;
use crate::path::{parse_cid, IpfsPath};
use crate::reader::Entry;

/// How long connecting to the API may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The UnixFS type number Kubo's `ls` gives a directory.
const TYPE_DIRECTORY: u64 = 1;

/// A Kubo-compatible RPC API at one URL.
#[derive(Clone, Debug)]
pub struct KuboApi {
    /// As the operator gave it (for messages).
    url: String,
    /// `<url>/api/v0/`.
    base: Url,
    http: reqwest::Client,
    /// How long content may take to start or go on arriving.
    timeout: Duration,
}

/// What a path names, as `files/stat` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file of this many bytes.
    File(u64),
    /// A directory.
    Directory,
}

impl KuboApi {
    /// The API at `url` (`http://127.0.0.1:5001`, with or without a
    /// trailing `/api/v0`); reads of content wait at most `timeout` for
    /// each piece (a daemon looks for content it lacks without end).
    /// Nothing is contacted yet.
    ///
    /// # Errors
    ///
    /// [`IpfsError::BadUrl`] for a URL that does not parse or is not
    /// `http://` (Kubo's RPC API has no TLS of its own).
    pub fn new(url: &str, timeout: Duration) -> Result<KuboApi> {
        let bad = |reason: String| IpfsError::BadUrl {
            url: url.to_string(),
            reason,
        };
        let parsed = Url::parse(url.trim()).map_err(|e| bad(e.to_string()))?;
        if parsed.scheme() != "http" {
            return Err(bad(format!(
                "the scheme is `{}`; Kubo's RPC API is plain http://HOST:PORT (put a TLS proxy \
                 in front of it on another host, and tunnel it to loopback)",
                parsed.scheme()
            )));
        }
        if parsed.host_str().is_none() {
            return Err(bad("it names no host".into()));
        }
        let path = parsed.path().trim_end_matches('/');
        let path = path.strip_suffix("/api/v0").unwrap_or(path);
        let mut base = parsed.clone();
        base.set_path(&format!("{path}/api/v0/"));
        base.set_query(None);
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| bad(format!("cannot build an HTTP client: {e}")))?;
        Ok(KuboApi {
            url: url.to_string(),
            base,
            http,
            timeout,
        })
    }

    /// `work` (a read of content at `path` by `call`), bounded by the
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`IpfsError::ApiTimeout`] when it takes longer.
    pub async fn bounded<T>(
        &self,
        call: &'static str,
        path: &IpfsPath,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| IpfsError::ApiTimeout {
                url: self.url.clone(),
                call,
                path: path.to_string(),
                timeout: self.timeout,
            })?
    }

    /// The URL as the operator gave it.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn endpoint(&self, call: &str, args: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{call}", self.base.path()));
        if !args.is_empty() {
            let mut query = url.query_pairs_mut();
            for (k, v) in args {
                query.append_pair(k, v);
            }
        }
        url
    }

    /// POSTs `call` (with no body) and returns the response when its
    /// status is a success.
    async fn post(&self, call: &'static str, args: &[(&str, &str)]) -> Result<Response> {
        self.send(call, self.http.post(self.endpoint(call, args)))
            .await
    }

    /// Sends `request` (a `call`) and returns the response when its status
    /// is a success.
    async fn send(&self, call: &'static str, request: RequestBuilder) -> Result<Response> {
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("Message")?.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {status}: {}", text.trim()));
        Err(IpfsError::Api {
            url: self.url.clone(),
            call,
            message,
        })
    }

    fn unreachable(&self, e: &reqwest::Error) -> IpfsError {
        // reqwest's own text is "error sending request"; its source says why.
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason = format!("{reason}: {s}");
            source = s.source();
        }
        IpfsError::Unreachable {
            url: self.url.clone(),
            reason,
        }
    }

    fn malformed(&self, call: &'static str, detail: impl std::fmt::Display) -> IpfsError {
        IpfsError::Api {
            url: self.url.clone(),
            call,
            message: format!("unexpected answer ({detail}); is this a Kubo RPC API?"),
        }
    }

    async fn json(&self, call: &'static str, args: &[(&str, &str)]) -> Result<Value> {
        let text = self
            .post(call, args)
            .await?
            .text()
            .await
            .map_err(|e| self.unreachable(&e))?;
        serde_json::from_str(&text).map_err(|e| self.malformed(call, e))
    }

    /// The daemon's version (`version`): checks the API answers at all.
    ///
    /// # Errors
    ///
    /// [`IpfsError::Unreachable`] or [`IpfsError::Api`].
    pub async fn version(&self) -> Result<String> {
        let v = self.json("version", &[]).await?;
        Ok(v.get("Version")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string())
    }

    /// `add`s `form` (see [`super::multipart`]) and returns the CID of the
    /// entry named `root`, pinned like `ipfs add` pins.
    ///
    /// # Errors
    ///
    /// The API's refusal, or an answer without `root`.
    pub async fn add_form(&self, form: Form, options: AddOptions, root: &str) -> Result<Cid> {
        self.added(self.add_request(options).multipart(form), root)
            .await
    }

    /// An `add` call with `options`, pinning, without progress lines.
    fn add_request(&self, options: AddOptions) -> RequestBuilder {
        let version = if options.cid_version == cid::Version::V0 {
            "0"
        } else {
            "1"
        };
        let raw_leaves = if options.raw_leaves { "true" } else { "false" };
        let args = [
            ("cid-version", version),
            ("raw-leaves", raw_leaves),
            ("pin", "true"),
            ("progress", "false"),
        ];
        self.http.post(self.endpoint("add", &args))
    }

    /// Sends the `add` `request` and returns the CID of `root` in its answer.
    async fn added(&self, request: RequestBuilder, root: &str) -> Result<Cid> {
        let text = self
            .send("add", request)
            .await?
            .text()
            .await
            .map_err(|e| self.unreachable(&e))?;
        // One line per file and directory, the top one last (Kubo and
        // js-ipfs alike); the top is looked up by name, the last line
        // taken when no name matches (a daemon may name a lone file by
        // its CID).
        let mut top = None;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let entry: Value = serde_json::from_str(line).map_err(|e| self.malformed("add", e))?;
            if let Some(message) = entry.get("Message").and_then(Value::as_str) {
                return Err(IpfsError::Api {
                    url: self.url.clone(),
                    call: "add",
                    message: message.to_string(),
                });
            }
            let named = entry.get("Name").and_then(Value::as_str) == Some(root);
            let hash = entry
                .get("Hash")
                .and_then(Value::as_str)
                .ok_or_else(|| self.malformed("add", "an entry without Hash"))?
                .to_string();
            top = Some(hash);
            if named {
                break;
            }
        }
        let hash = top.ok_or_else(|| self.malformed("add", "no entries"))?;
        parse_cid(&hash).map_err(|e| self.malformed("add", e))
    }

    /// The file at `path`, as a response whose body is its bytes (`cat`).
    ///
    /// # Errors
    ///
    /// The API's refusal (no such file, a directory, …).
    pub async fn cat(&self, path: &IpfsPath) -> Result<Response> {
        let arg = path.to_string();
        self.bounded("cat", path, self.post("cat", &[("arg", &arg)]))
            .await
    }

    /// Whether `path` is a file or a directory (`files/stat`).
    ///
    /// # Errors
    ///
    /// The API's refusal, or an answer without a type.
    pub async fn kind(&self, path: &IpfsPath) -> Result<Kind> {
        let arg = path.to_string();
        let stat = self
            .bounded(
                "files/stat",
                path,
                self.json("files/stat", &[("arg", &arg)]),
            )
            .await?;
        match stat.get("Type").and_then(Value::as_str) {
            Some("directory") => Ok(Kind::Directory),
            Some("file") => Ok(Kind::File(
                stat.get("Size").and_then(Value::as_u64).unwrap_or(0),
            )),
            Some(other) => Err(IpfsError::WrongKind {
                path: path.to_string(),
                expected: "file or directory",
                actual: if other == "symlink" {
                    "symlink"
                } else {
                    "node of another kind"
                },
            }),
            None => Err(self.malformed("files/stat", "no Type")),
        }
    }

    /// The entries of the directory at `path`, in name order (`ls`).
    ///
    /// # Errors
    ///
    /// [`IpfsError::WrongKind`] when `path` is a file, or the API's refusal.
    pub async fn ls(&self, path: &IpfsPath) -> Result<Vec<Entry>> {
        // A file's `ls` lists its chunks (nameless links): ask what it is first.
        if let Kind::File(_) = self.kind(path).await? {
            return Err(IpfsError::WrongKind {
                path: path.to_string(),
                expected: "directory",
                actual: "file",
            });
        }
        let arg = path.to_string();
        let listing = self
            .bounded("ls", path, self.json("ls", &[("arg", &arg)]))
            .await?;
        let links = listing
            .get("Objects")
            .and_then(|o| o.get(0))
            .and_then(|o| o.get("Links"))
            .and_then(Value::as_array)
            .ok_or_else(|| self.malformed("ls", "no Objects[0].Links"))?;
        let mut entries = Vec::with_capacity(links.len());
        for link in links {
            let field = |name: &str| link.get(name).ok_or_else(|| self.malformed("ls", name));
            let name = field("Name")?.as_str().unwrap_or_default().to_string();
            let hash = field("Hash")?.as_str().unwrap_or_default();
            let cid = parse_cid(hash).map_err(|e| self.malformed("ls", e))?;
            entries.push(Entry {
                name,
                cid,
                size: link.get("Size").and_then(Value::as_u64).unwrap_or(0),
                is_directory: link.get("Type").and_then(Value::as_u64) == Some(TYPE_DIRECTORY),
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Pins `cid` recursively (`pin/add`).
    ///
    /// # Errors
    ///
    /// The API's refusal.
    pub async fn pin(&self, cid: &Cid) -> Result<()> {
        self.json("pin/add", &[("arg", &cid.to_string())])
            .await
            .map(drop)
    }

    /// Removes the recursive pin of `cid` (`pin/rm`).
    ///
    /// # Errors
    ///
    /// The API's refusal (e.g. it is not pinned).
    pub async fn unpin(&self, cid: &Cid) -> Result<()> {
        self.json("pin/rm", &[("arg", &cid.to_string())])
            .await
            .map(drop)
    }
}
