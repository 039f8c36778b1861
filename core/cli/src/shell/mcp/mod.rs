//! The shell for AI agents: a Model Context Protocol server on stdio
//! (`ww run … --mcp`), with three tools:
//!
//! - `eval` — evaluate Glia source, get what it printed and its value
//!   (each form's, in order, when it holds several: [`forms`]);
//! - `caps` — list every capability with its methods;
//! - `call` — call one method of one capability with arguments given as
//!   a Glia map (`{:message "hi"}`);
//!
//! and one tool per capability method, `cap_method`, whose input schema
//! comes from the method's parameter types ([`typed`]).
//!
//! When the node's epoch advances (`--revoke-on-hup` and SIGHUP, or the
//! stem), the shell grafts again and the client is sent
//! `notifications/tools/list_changed` (see [`follow`]).
//!
//! A failed evaluation is a tool result marked as an error (the agent sees
//! the message); an unknown tool or a malformed argument is an MCP error.
//! Nothing an agent sends can crash the node. `docs/shell.md` documents the
//! tools and their arguments.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Map, Value};

use super::{EpochChanges, Evaluator, Outcome};

mod forms;
mod typed;

/// Serves MCP on ww's stdin and stdout until the client leaves; returns
/// the exit status. With `epochs`, each time the node's epoch advances the
/// shell grafts again and the client is told the tool list changed.
pub async fn run(evaluator: Evaluator, epochs: Option<EpochChanges>) -> i32 {
    let serving = Server {
        evaluator: evaluator.clone(),
    }
    .serve(rmcp::transport::stdio())
    .await;
    let server = match serving {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("MCP: the client did not initialize: {e}");
            return 1;
        }
    };
    if let Some(epochs) = epochs {
        tokio::spawn(follow(epochs, evaluator, server.peer().clone()));
    }
    match server.waiting().await {
        Ok(_) => 0,
        Err(e) => {
            tracing::error!("MCP: the session failed: {e}");
            1
        }
    }
}

/// Follows the node's epoch: when it advances, the capabilities the tools
/// call are revoked, so the shell grafts again (before the client hears of
/// it: a call made after the notification uses the new epoch's
/// capabilities) and the client is sent `notifications/tools/list_changed`
/// to list the tools again. Ends when the client leaves.
async fn follow(mut epochs: EpochChanges, evaluator: Evaluator, peer: Peer<RoleServer>) {
    while epochs.changed().await.is_ok() {
        let seq = epochs.borrow_and_update().seq;
        match evaluator.graft().await {
            Ok(grafted) => tracing::info!("MCP: epoch {seq}: the shell grafted again ({grafted})"),
            Err(e) => tracing::warn!(
                "MCP: epoch {seq}: the shell did not graft again ({e}); its next call that \
                 fails with staleEpoch makes it graft"
            ),
        }
        if let Err(e) = peer.notify_tool_list_changed().await {
            tracing::info!("MCP: the client is gone ({e}); no longer following the epoch");
            return;
        }
    }
}

struct Server {
    evaluator: Evaluator,
}

fn schema(value: Value) -> Arc<Map<String, Value>> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(Map::new()),
    }
}

fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "eval",
            "Evaluate Glia (Clojure-flavoured) source in the node's shell. Capabilities are \
             values: (host id), (executor echo \"hi\"), (routing hash (bytes \"data\")). \
             Arguments must match the method's parameter types (see `caps`): Text a string, \
             Data bytes (#bytes \"0a ff\" or (bytes \"text\")), a struct a map, a list a \
             vector. Returns what it printed and the last value.",
            schema(json!({
                "type": "object",
                "properties": {"source": {"type": "string", "description": "Glia source"}},
                "required": ["source"]
            })),
        ),
        Tool::new(
            "caps",
            "List every capability the node granted: name, interface, and methods with \
             their parameters and results, typed (e.g. echo(message :Text) -> (response :Text)).",
            schema(json!({"type": "object", "properties": {}})),
        ),
        Tool::new(
            "call",
            "Call one method of one capability. `args` is a Glia map of the method's \
             parameters by name, each of its type, e.g. {:message \"hi\"} (omit it for a \
             method without parameters).",
            schema(json!({
                "type": "object",
                "properties": {
                    "cap": {"type": "string", "description": "capability name, e.g. host"},
                    "method": {"type": "string", "description": "method name, e.g. id"},
                    "args": {"type": "string", "description": "a Glia map, e.g. {:n 41}"}
                },
                "required": ["cap", "method"]
            })),
        ),
    ]
}

fn text_arg(params: &CallToolRequestParams, name: &str) -> Result<Option<String>, McpError> {
    match params.arguments.as_ref().and_then(|a| a.get(name)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(McpError::invalid_params(
            format!("`{name}` must be a string, got {other}"),
            None,
        )),
    }
}

fn required(params: &CallToolRequestParams, name: &str) -> Result<String, McpError> {
    text_arg(params, name)?.ok_or_else(|| {
        McpError::invalid_params(format!("tool `{}` needs `{name}`", params.name), None)
    })
}

/// A name safe to splice into Glia source.
fn symbol(params: &CallToolRequestParams, name: &str) -> Result<String, McpError> {
    let s = required(params, name)?;
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '?' | '!'));
    if ok {
        Ok(s)
    } else {
        Err(McpError::invalid_params(
            format!("`{name}` must be a plain name, got {s:?}"),
            None,
        ))
    }
}

impl Server {
    /// Every capability method, from the kernel's `(methods)`; none from a
    /// kernel that lacks it (the three tools still work).
    async fn methods(&self) -> Vec<typed::Method> {
        let Ok(evaluated) = self.evaluator.eval("(methods)").await else {
            return Vec::new();
        };
        match evaluated.outcome {
            Outcome::Value(printed) => typed::parse(&printed).unwrap_or_else(|e| {
                tracing::warn!("MCP: no typed tools: {e}");
                Vec::new()
            }),
            _ => Vec::new(),
        }
    }

    /// Calls the method behind the typed tool `name`.
    async fn call_typed(
        &self,
        name: &str,
        params: &CallToolRequestParams,
    ) -> Result<CallToolResponse, McpError> {
        let methods = self.methods().await;
        let Some(method) = methods.iter().find(|m| m.tool_name() == name) else {
            return Err(McpError::invalid_params(
                format!(
                    "no tool `{name}`; the tools are eval, caps, call and one per capability \
                     method (`cap_method`, see tools/list)"
                ),
                None,
            ));
        };
        match typed::source(method, params.arguments.as_ref()) {
            Ok(source) => self.eval(&source).await,
            Err(why) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "error: {name}: {why}"
            ))])
            .into()),
        }
    }

    async fn eval(&self, source: &str) -> Result<CallToolResponse, McpError> {
        let evaluated = self.evaluator.eval(source).await.map_err(|e| {
            McpError::internal_error(format!("the shell is unreachable: {e}"), None)
        })?;
        if evaluated.forms.len() > 1 {
            let total = ww_glia::reader::forms(source).map_or(0, |f| f.len());
            return Ok(forms::result(&evaluated.forms, total).into());
        }
        let mut content = Vec::new();
        if !evaluated.output.is_empty() {
            content.push(ContentBlock::text(evaluated.output));
        }
        Ok(match evaluated.outcome {
            Outcome::Value(v) => {
                // `nil` after printed output is noise to an agent.
                if v != "nil" || content.is_empty() {
                    content.push(ContentBlock::text(v));
                }
                CallToolResult::success(content)
            }
            Outcome::Error(e) => {
                content.push(ContentBlock::text(format!("error: {e}")));
                CallToolResult::error(content)
            }
            Outcome::Incomplete => CallToolResult::error(vec![ContentBlock::text(
                "error: the source ends inside a form (unbalanced parentheses or string)",
            )]),
            Outcome::Exit(code) => CallToolResult::success(vec![ContentBlock::text(format!(
                "(exit {code}) ends a terminal session; the MCP session goes on"
            ))]),
        }
        .into())
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            // The tools follow the node's epoch: `notifications/tools/list_changed`.
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_instructions(
            "A ww node's shell. Use `caps` to see what the node can do, `eval` to run Glia, \
             `call` or a `cap_method` tool (typed from the capability's schema) to call one \
             capability method.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut all = tools();
        for method in self.methods().await {
            // The first of two methods whose tool names clash keeps it.
            if !all.iter().any(|t| t.name == method.tool_name()) {
                all.push(typed::tool(&method));
            }
        }
        Ok(ListToolsResult::with_all_items(all))
    }

    async fn call_tool(
        &self,
        params: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        match params.name.as_ref() {
            "eval" => self.eval(&required(&params, "source")?).await,
            "caps" => self.eval("(caps)").await,
            "call" => {
                let cap = symbol(&params, "cap")?;
                let method = symbol(&params, "method")?;
                let args = text_arg(&params, "args")?.unwrap_or_default();
                self.eval(&format!("(call {cap} :{method} {args})")).await
            }
            other => self.call_typed(other, &params).await,
        }
    }
}
