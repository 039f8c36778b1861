//! The kernel's listing of granted capabilities, kept pure so it is tested
//! on the host.

/// One granted capability, as listed.
pub struct Row {
    /// The capability's name in the graft (`identity`).
    pub name: String,
    /// The interface's short name (`Identity`).
    pub interface: String,
    /// The interface's methods, in ordinal order, each with its types.
    pub methods: Vec<String>,
}

/// A header line with the epoch and the count, then per capability a line
/// with the name and interface columns aligned, and under it one line per
/// method with its typed parameters and results.
pub fn render(epoch: u64, rows: &[Row]) -> String {
    let plural = if rows.len() == 1 {
        "capability"
    } else {
        "capabilities"
    };
    let mut out = format!("ww kernel: epoch {epoch}, {} {plural}\n", rows.len());
    let name_width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for row in rows {
        let line = format!("  {:name_width$}  {}", row.name, row.interface);
        out.push_str(line.trim_end());
        out.push('\n');
        for method in &row.methods {
            out.push_str("    ");
            out.push_str(method);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, interface: &str, methods: &[&str]) -> Row {
        Row {
            name: name.into(),
            interface: interface.into(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn one_capability() {
        let rows = [row(
            "identity",
            "Identity",
            &[
                "publicKey() -> (key :Data)",
                "verify(data :Data) -> (ok :Bool)",
            ],
        )];
        assert_eq!(
            render(1, &rows),
            "ww kernel: epoch 1, 1 capability\n  identity  Identity\n    \
             publicKey() -> (key :Data)\n    verify(data :Data) -> (ok :Bool)\n"
        );
    }

    #[test]
    fn columns_align_and_count_is_plural() {
        let rows = [
            row("host", "Host", &["id() -> (peerId :Text)"]),
            row("identity", "Identity", &[]),
        ];
        assert_eq!(
            render(3, &rows),
            "ww kernel: epoch 3, 2 capabilities\n  \
             host      Host\n    \
             id() -> (peerId :Text)\n  \
             identity  Identity\n"
        );
    }

    #[test]
    fn nothing_granted() {
        assert_eq!(render(1, &[]), "ww kernel: epoch 1, 0 capabilities\n");
    }
}
