//! `ww completions SHELL` and `ww man`: generated from the CLI's own
//! definition, so they cannot fall behind it. Bash's completion is
//! exercised for real: the script is sourced and asked to complete.

use std::process::Command;

use ww_tests::*;

/// What bash's completion of `words` (the cursor at the end of the last
/// one) offers, with ww's script sourced.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let script = format!(
        "source <(\"$WW\" completions bash) || exit 3\n\
         COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT={point}\n\
         _ww ww '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = words.join(" "),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = output(Command::new("bash").arg("-c").arg(script).env("WW", ww()));
    assert_exit(&out, 0);
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    assert_eq!(bash_completes(&["ww", "ru"]), ["run"]);
    let flags = bash_completes(&["ww", "run", "--max-c"]);
    for flag in [
        "--max-cells",
        "--max-calls-in-flight",
        "--max-call-bytes",
        "--max-caps",
    ] {
        assert!(flags.iter().any(|f| f == flag), "{flag} in {flags:?}");
    }
    assert!(bash_completes(&["ww", "compile", "--tar"]).contains(&"--target".to_string()));
}

#[test]
fn other_shells_get_their_own_scripts_and_an_unknown_one_is_refused() {
    let zsh = output(Command::new(ww()).args(["completions", "zsh"]));
    assert_exit(&zsh, 0);
    assert!(
        text(&zsh.stdout).starts_with("#compdef ww"),
        "{}",
        text(&zsh.stdout)
    );
    let fish = output(Command::new(ww()).args(["completions", "fish"]));
    assert_exit(&fish, 0);
    assert!(text(&fish.stdout).contains("complete -c ww"));
    let unknown = output(Command::new(ww()).args(["completions", "tcsh"]));
    assert_exit(&unknown, 2);
    let stderr = text(&unknown.stderr);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
    assert!(stderr.contains("bash"), "the choices are listed: {stderr}");
}

#[test]
fn the_manual_page_names_every_command() {
    let out = output(Command::new(ww()).arg("man"));
    assert_exit(&out, 0);
    let page = text(&out.stdout);
    assert!(page.contains(".TH ww 1"), "{page}");
    for command in ["run", "providers", "compile", "keygen", "completions"] {
        assert!(
            page.contains(&format!("ww\\-{command}")),
            "{command} in:\n{page}"
        );
    }
    assert!(
        !page.contains("compile\\-worker"),
        "hidden commands stay hidden"
    );
}

#[test]
fn each_command_has_its_own_page_and_an_unknown_one_is_refused() {
    let out = output(Command::new(ww()).args(["man", "run"]));
    assert_exit(&out, 0);
    let page = text(&out.stdout);
    assert!(page.contains(".TH ww-run 1"), "{page}");
    assert!(page.contains("\\-\\-max\\-cells"), "its flags: {page}");
    let out = output(Command::new(ww()).args(["man", "compile-worker"]));
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("`compile-worker` is not a ww command"),
        "{}",
        text(&out.stderr)
    );
}
