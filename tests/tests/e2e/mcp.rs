//! `ww run std/kernel --mcp`: a Model Context Protocol server on stdio,
//! driven by the Python MCP SDK (installed by scripts/setup.sh under
//! .tools/mcp) through tests/mcp/client.py.

use std::path::{Path, PathBuf};
use std::process::Command;

use ww_tests::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

#[test]
fn an_mcp_client_initializes_lists_tools_and_evaluates() {
    let sdk = sdk();
    let img = image("kernel");
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/mcp/client.py"))
        .arg(ww())
        .args(["run", "--cache-dir"])
        .arg(cache_dir())
        .args(["--port", "0", "--mcp"])
        .arg(img.path())
        .env("PYTHONPATH", &sdk)
        .env_remove("WW_IDENTITY")
        .env_remove("WW_LISTEN");
    let out = output(&mut cmd);
    let stderr = text(&out.stderr);
    assert_exit(&out, 0);
    assert_no_panic(&stderr);
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", text(&out.stdout)));
    // The three tools, and one per capability method typed from its schema.
    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tool in [
        "call",
        "caps",
        "eval",
        "executor_echo",
        "executor_spawn",
        "host_id",
        "identity_verify",
        "routing_hash",
    ] {
        assert!(tools.contains(&tool), "{tool} in {tools:?}");
    }
    assert_eq!(
        seen["echo_schema"],
        serde_json::json!({
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
            "additionalProperties": false,
        })
    );
    assert_eq!(
        seen["hash_schema"]["properties"]["data"]["pattern"],
        "^([0-9a-fA-F]{2})*$"
    );
    assert_eq!(
        seen["typed_echo"],
        serde_json::json!({"error": false, "text": ["\"typed\""]})
    );
    assert_eq!(seen["typed_mistyped"]["error"], true);
    assert!(
        seen["typed_mistyped"]["text"][0]
            .as_str()
            .unwrap()
            .contains("`message` is Text: give a string, got 42"),
        "{seen}"
    );
    assert_eq!(seen["typed_missing"]["error"], true);
    assert!(
        seen["typed_missing"]["text"][0]
            .as_str()
            .unwrap()
            .contains("missing argument `message` :Text"),
        "{seen}"
    );
    // CIDv1 raw of sha2-256("hello"), the bytes given as hex.
    assert_eq!(
        seen["typed_hash"]["text"],
        serde_json::json!(["\"bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq\""])
    );
    // (host id) is the node's PeerId, as its log says.
    let id = seen["host_id"]["text"][0]
        .as_str()
        .unwrap()
        .trim_matches('"');
    assert!(id.starts_with("12D3KooW"), "{seen}");
    assert!(stderr.contains(&format!("/p2p/{id}")), "{stderr}");
    assert_eq!(seen["host_id"]["error"], false);
    // Several forms: each one's result in order, as a REPL shows a paste ...
    assert_eq!(
        seen["arith"]["text"],
        serde_json::json!(["> (println \"out\")\nout\n=> nil", "> (+ 40 2)\n=> 42"])
    );
    assert_eq!(seen["arith"]["error"], false);
    assert_forms_stop_at_the_error(&seen);
    // A failed evaluation is a tool error the agent can read ...
    assert_eq!(seen["unbound"]["error"], true);
    assert!(seen["unbound"]["text"][0]
        .as_str()
        .unwrap()
        .contains("unable to resolve symbol `nope`"));
    assert_eq!(seen["call"]["text"], serde_json::json!(["\"hi\""]));
    assert!(seen["caps"]["text"][0]
        .as_str()
        .unwrap()
        .contains("executor  Executor\n    echo(message :Text) -> (response :Text)\n"));
    // ... an unknown tool an MCP error, and the session goes on.
    assert!(
        seen["unknown_tool"]
            .as_str()
            .unwrap()
            .contains("no tool `teleport`"),
        "{seen}"
    );
    assert_eq!(seen["after"]["text"], serde_json::json!(["42"]));
}

/// `eval` of `(+ 1 1) (nope) (+ 2 2) (+ 3 3)`: the forms up to the failing
/// one, its error where it happened, and what was not evaluated.
fn assert_forms_stop_at_the_error(seen: &serde_json::Value) {
    let forms = &seen["forms_error"];
    assert_eq!(forms["error"], true, "{seen}");
    let text = forms["text"].as_array().unwrap();
    assert_eq!(text.len(), 3, "{seen}");
    assert_eq!(text[0], "> (+ 1 1)\n=> 2");
    let failed = text[1].as_str().unwrap();
    assert!(failed.starts_with("> (nope)\nerror: "), "{seen}");
    assert!(failed.contains("unable to resolve symbol `nope`"), "{seen}");
    assert_eq!(
        text[2],
        "stopped at form 2 of 4: the 2 forms after it were not evaluated"
    );
}

fn sdk() -> PathBuf {
    let sdk = repo().join(".tools/mcp");
    assert!(
        sdk.join("mcp/__init__.py").exists(),
        "the Python MCP SDK is missing from {}: run scripts/setup.sh",
        sdk.display()
    );
    sdk
}

/// `tests/mcp/SCRIPT` driving `ww shell NODE --identity KEY --mcp`.
fn remote_mcp(script: &str, node: &crate::remote_shell::Node, key: &Path) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/mcp").join(script))
        .arg(ww())
        .arg("shell")
        .arg(&node.addr)
        .arg("--identity")
        .arg(key)
        .arg("--mcp")
        .env("PYTHONPATH", sdk())
        .env_remove("WW_IDENTITY");
    cmd
}

#[test]
fn after_an_epoch_advance_the_tools_change_and_typed_calls_use_the_new_epoch() {
    let img = image("kernel");
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/mcp/epoch.py"))
        .arg(ww())
        .args(["run", "--cache-dir"])
        .arg(cache_dir())
        .args(["--port", "0", "--revoke-on-hup", "--mcp"])
        .arg(img.path())
        .env("PYTHONPATH", sdk())
        .env_remove("WW_IDENTITY")
        .env_remove("WW_LISTEN");
    assert_follows_the_epoch(&output(&mut cmd));
}

#[test]
fn ww_shell_mcp_follows_the_remote_nodes_epoch() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = crate::remote_shell::keygen(keys.path(), "node.key");
    let node =
        crate::remote_shell::Node::start(&["--identity", key.to_str().unwrap(), "--revoke-on-hup"]);
    let mut cmd = remote_mcp("epoch.py", &node, &key);
    cmd.env("WW_NODE_PID", node.pid().to_string());
    assert_follows_the_epoch(&output(&mut cmd));
}

/// What tests/mcp/epoch.py saw: the notification after SIGHUP, the tools
/// listed again, and a typed call that works at once in epoch 2.
fn assert_follows_the_epoch(out: &std::process::Output) {
    let stderr = text(&out.stderr);
    assert_exit(out, 0);
    assert_no_panic(&stderr);
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", text(&out.stdout)));
    assert_eq!(seen["list_changed"], true, "tools.listChanged: {seen}");
    assert_eq!(
        seen["before"],
        serde_json::json!({"error": false, "text": ["\"before\""]})
    );
    assert_eq!(seen["servers"], 1, "{seen}");
    assert_eq!(seen["notified"], true, "{seen}\n{stderr}");
    assert!(
        seen["tools"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("executor_echo")),
        "{seen}"
    );
    // The shell grafted before the client heard: no call fails stale.
    assert_eq!(
        seen["after"],
        serde_json::json!({"error": false, "text": ["\"after\""]}),
        "{stderr}"
    );
    assert!(
        seen["caps"]["text"][0]
            .as_str()
            .unwrap()
            .starts_with("ww kernel: epoch 2,"),
        "{seen}"
    );
    assert!(!stderr.contains("staleEpoch"), "{stderr}");
}

#[test]
fn ww_shell_mcp_serves_a_remote_nodes_shell() {
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = crate::remote_shell::keygen(keys.path(), "node.key");
    let node = crate::remote_shell::Node::start(&["--identity", key.to_str().unwrap()]);
    let mut cmd = remote_mcp("client.py", &node, &key);
    let out = output(&mut cmd);
    let stderr = text(&out.stderr);
    assert_exit(&out, 0);
    assert_no_panic(&stderr);
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", text(&out.stdout)));
    let tools = seen["tools"].as_array().unwrap();
    assert!(tools.contains(&serde_json::json!("host_id")), "{seen}");
    // The remote node's PeerId, not this side's.
    let id = seen["host_id"]["text"][0]
        .as_str()
        .unwrap()
        .trim_matches('"');
    assert!(node.addr.ends_with(&format!("/p2p/{id}")), "{seen}");
    assert_eq!(
        seen["arith"]["text"],
        serde_json::json!(["> (println \"out\")\nout\n=> nil", "> (+ 40 2)\n=> 42"])
    );
    assert_forms_stop_at_the_error(&seen);
    assert_eq!(seen["unbound"]["error"], true);
    assert_eq!(seen["after"]["text"], serde_json::json!(["42"]));
}

/// Regression: a pid0 that never serves its vat (a plain WASI program, here
/// one blocked reading its stdin) left `--mcp` waiting for ever.
#[test]
fn mcp_on_a_pid0_that_serves_no_vat_fails_within_the_bound() {
    let img = image("upcase");
    let out = output(ww_run(&ww()).arg("--mcp").arg(img.path()));
    let stderr = text(&out.stderr);
    assert_exit(&out, 2);
    assert_no_panic(&stderr);
    assert!(stderr.contains("did not serve its vat"), "{stderr}");
    assert!(
        stderr.contains("--mcp needs a pid0 that exports a Shell"),
        "{stderr}"
    );
}
