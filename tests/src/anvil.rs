//! A real EVM chain for the stem's tests: `anvil` on a free 127.0.0.1
//! port, started and killed by pid, spoken to with plain JSON-RPC over HTTP
//! (std only, so the harness needs no HTTP client).
//!
//! `scripts/setup.sh` installs anvil (npm `@foundry-rs/anvil`) and solc
//! (npm `solc`) under `.tools/chain`; `WW_ANVIL` / `WW_SOLCJS` override
//! where they are.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The first of anvil's well-known development accounts (funded, unlocked).
pub const ACCOUNT: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// Its private key (public knowledge: anvil's default mnemonic).
pub const ACCOUNT_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// The second development account: not an Atom's owner in these tests.
pub const OTHER_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// `setHead(bytes)`'s selector (checked against the ABI by ww-stem's tests).
pub const SET_HEAD_SELECTOR: &str = "43eae823";

/// The repository root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn tool(env: &str, relative: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".tools/chain/node_modules").join(relative));
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh (it installs anvil and solc under .tools/chain), or set {env}",
        path.display()
    );
    path
}

/// The anvil binary.
pub fn anvil_binary() -> PathBuf {
    tool("WW_ANVIL", "@foundry-rs/anvil-linux-amd64/bin/anvil")
}

/// solcjs (run with node).
pub fn solcjs() -> PathBuf {
    tool("WW_SOLCJS", "solc/solc.js")
}

/// The Atom's creation bytecode as committed (hex).
pub fn atom_bytecode() -> String {
    std::fs::read_to_string(workspace().join("core/stem/contracts/Atom.bin"))
        .expect("read core/stem/contracts/Atom.bin")
        .trim()
        .to_string()
}

/// A running anvil; killed when dropped.
pub struct Anvil {
    child: Child,
    port: u16,
}

impl Anvil {
    /// Starts anvil on a free loopback port, mining only on transactions
    /// and when asked (no interval), and waits until it answers.
    pub fn start() -> Anvil {
        let mut child = Command::new(anvil_binary())
            .args(["--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn anvil");
        // Port 0: the kernel picks a free port; anvil prints it on its
        // banner's last line. The reader drains stdout for anvil's life.
        let stdout = child.stdout.take().expect("anvil stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("Listening on ").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let pid = child.id();
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("anvil's listening address has a port"),
            Err(_) => {
                let _ = child.kill();
                panic!("anvil (pid {pid}) did not report its listening address within 30 s");
            }
        };
        let anvil = Anvil { child, port };
        wait_until("anvil answers eth_blockNumber", || {
            anvil.try_rpc("eth_blockNumber", "[]").is_ok()
        });
        anvil
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Calls `method` with JSON `params`; returns the JSON `result`, or the
    /// error object as text.
    pub fn try_rpc(&self, method: &str, params: &str) -> Result<serde_json::Value, String> {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(crate::STEP))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
        let json = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .ok_or("no HTTP body")?;
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        match value.get("error") {
            Some(error) => Err(error.to_string()),
            None => Ok(value["result"].clone()),
        }
    }

    /// [`Anvil::try_rpc`], failing the test on an error.
    pub fn rpc(&self, method: &str, params: &str) -> serde_json::Value {
        self.try_rpc(method, params)
            .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
    }

    /// The latest block number.
    pub fn block_number(&self) -> u64 {
        hex_u64(&self.rpc("eth_blockNumber", "[]"))
    }

    /// Mines `n` empty blocks.
    pub fn mine(&self, n: u64) {
        self.rpc("anvil_mine", &format!(r#"["0x{n:x}"]"#));
    }

    /// Takes a snapshot of the chain; [`Anvil::revert`] returns to it.
    pub fn snapshot(&self) -> String {
        self.rpc("evm_snapshot", "[]")
            .as_str()
            .expect("snapshot id")
            .to_string()
    }

    /// Reverts to a snapshot: the blocks mined since are gone.
    pub fn revert(&self, id: &str) {
        assert_eq!(
            self.rpc("evm_revert", &format!(r#"["{id}"]"#)),
            serde_json::Value::Bool(true)
        );
    }

    /// Sends a transaction from [`ACCOUNT`] and returns its receipt (anvil
    /// mines it at once).
    pub fn transact(&self, to: Option<&str>, data: &str) -> serde_json::Value {
        let to = to.map(|t| format!(r#","to":"{t}""#)).unwrap_or_default();
        let hash = self.rpc(
            "eth_sendTransaction",
            &format!(r#"[{{"from":"{ACCOUNT}"{to},"data":"0x{data}","gas":"0x200000"}}]"#),
        );
        let hash = hash.as_str().expect("tx hash").to_string();
        let mut receipt = serde_json::Value::Null;
        wait_until("the transaction is mined", || {
            receipt = self.rpc("eth_getTransactionReceipt", &format!(r#"["{hash}"]"#));
            !receipt.is_null()
        });
        receipt
    }

    /// Deploys the committed Atom from [`ACCOUNT`]; returns its address.
    pub fn deploy_atom(&self) -> String {
        let receipt = self.transact(None, &atom_bytecode());
        receipt["contractAddress"]
            .as_str()
            .expect("deployment receipt has a contract address")
            .to_string()
    }

    /// Calls `setHead(cid)` from [`ACCOUNT`]; returns the block it was
    /// mined in.
    pub fn set_head(&self, atom: &str, cid: &[u8]) -> u64 {
        let receipt = self.transact(Some(atom), &set_head_calldata(cid));
        assert_eq!(receipt["status"], "0x1", "setHead reverted: {receipt}");
        hex_u64(&receipt["blockNumber"])
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ABI-encodes `setHead(bytes)`.
pub fn set_head_calldata(cid: &[u8]) -> String {
    let mut out = String::from(SET_HEAD_SELECTOR);
    out.push_str(&format!("{:064x}", 32));
    out.push_str(&format!("{:064x}", cid.len()));
    let mut data = hex::encode(cid);
    while !data.len().is_multiple_of(64) {
        data.push('0');
    }
    out.push_str(&data);
    out
}

/// A `0x…` quantity as a number.
pub fn hex_u64(value: &serde_json::Value) -> u64 {
    let text = value.as_str().expect("a hex quantity");
    u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex quantity")
}

/// Polls `condition` until it holds; fails the test after
/// [`STEP`](crate::STEP).
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + crate::STEP;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {:?}",
            crate::STEP
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
