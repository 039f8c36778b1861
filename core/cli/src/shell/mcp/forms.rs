//! An `eval` of several top-level forms, shown to an agent as a REPL
//! transcript: one text block per form evaluated, in order, with the form,
//! what it printed and its value (`=> 42`) or error. The kernel stops at
//! the first form that fails, as a REPL reading a pasted block would; a
//! last block then says how many forms were not evaluated.

use rmcp::model::{CallToolResult, ContentBlock};

use crate::shell::{Form, Outcome};

/// The tool result for `forms`, the evaluated forms of a source that held
/// `total` forms.
pub fn result(forms: &[Form], total: usize) -> CallToolResult {
    let mut content: Vec<ContentBlock> =
        forms.iter().map(|f| ContentBlock::text(block(f))).collect();
    let failed = forms
        .iter()
        .any(|f| matches!(f.outcome, Outcome::Error(_) | Outcome::Incomplete));
    let left = total.saturating_sub(forms.len());
    if left > 0 {
        let rest = match left {
            1 => "the form after it was".to_string(),
            n => format!("the {n} forms after it were"),
        };
        content.push(ContentBlock::text(format!(
            "stopped at form {} of {total}: {rest} not evaluated",
            forms.len(),
        )));
    }
    if failed {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    }
}

/// "> (+ 40 2)\n=> 42": the form, what it printed, its outcome.
fn block(form: &Form) -> String {
    let mut text = format!("> {}\n{}", form.source.trim(), form.output);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match &form.outcome {
        Outcome::Value(v) => text.push_str(&format!("=> {v}")),
        Outcome::Error(e) => text.push_str(&format!("error: {e}")),
        Outcome::Incomplete => text.push_str("error: the form is incomplete"),
        Outcome::Exit(code) => text.push_str(&format!(
            "(exit {code}) ends a terminal session; the MCP session goes on"
        )),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(source: &str, output: &str, outcome: Outcome) -> Form {
        Form {
            source: source.into(),
            output: output.into(),
            outcome,
        }
    }

    fn texts(result: &CallToolResult) -> Vec<String> {
        result
            .content
            .iter()
            .map(|c| c.as_text().map(|t| t.text.clone()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn each_form_is_a_block_in_order() {
        let r = result(
            &[
                form("(println \"out\")", "out\n", Outcome::Value("nil".into())),
                form("(+ 40 2)", "", Outcome::Value("42".into())),
            ],
            2,
        );
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            texts(&r),
            ["> (println \"out\")\nout\n=> nil", "> (+ 40 2)\n=> 42"]
        );
    }

    #[test]
    fn an_error_stops_and_says_what_was_left() {
        let r = result(
            &[
                form("1", "", Outcome::Value("1".into())),
                form("(nope)", "", Outcome::Error("no `nope`".into())),
            ],
            4,
        );
        assert_eq!(r.is_error, Some(true));
        assert_eq!(
            texts(&r),
            [
                "> 1\n=> 1",
                "> (nope)\nerror: no `nope`",
                "stopped at form 2 of 4: the 2 forms after it were not evaluated"
            ]
        );
    }
}
