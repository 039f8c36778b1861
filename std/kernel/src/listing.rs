//! The kernel's listing of granted capabilities, kept pure so it is tested
//! on the host.

/// One granted capability, as listed.
pub struct Row {
    /// The capability's name in the graft (`identity`).
    pub name: String,
    /// The interface's short name (`Identity`).
    pub interface: String,
    /// The interface's methods, in ordinal order.
    pub methods: Vec<String>,
}

/// A header line with the epoch and the count, then one line per capability
/// with the name and interface columns aligned.
pub fn render(epoch: u64, rows: &[Row]) -> String {
    let plural = if rows.len() == 1 {
        "capability"
    } else {
        "capabilities"
    };
    let mut out = format!("ww kernel: epoch {epoch}, {} {plural}\n", rows.len());
    let name_width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let iface_width = rows.iter().map(|r| r.interface.len()).max().unwrap_or(0);
    for row in rows {
        let line = format!(
            "  {:name_width$}  {:iface_width$}  {}",
            row.name,
            row.interface,
            row.methods.join(" ")
        );
        out.push_str(line.trim_end());
        out.push('\n');
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
            &["publicKey", "signer", "verify"],
        )];
        assert_eq!(
            render(1, &rows),
            "ww kernel: epoch 1, 1 capability\n  identity  Identity  publicKey signer verify\n"
        );
    }

    #[test]
    fn columns_align_and_count_is_plural() {
        let rows = [
            row("host", "Host", &["id"]),
            row("identity", "Identity", &["publicKey"]),
        ];
        assert_eq!(
            render(3, &rows),
            "ww kernel: epoch 3, 2 capabilities\n  \
             host      Host      id\n  \
             identity  Identity  publicKey\n"
        );
    }

    #[test]
    fn nothing_granted() {
        assert_eq!(render(1, &[]), "ww kernel: epoch 1, 0 capabilities\n");
    }
}
