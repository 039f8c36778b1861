@0xbbc0aa8cbd30f1d6;
# The kernel's shell, exported by pid0 to its host so that front ends the
# host runs (a terminal with line editing, an MCP server for agents) can
# drive it.

interface Shell {
  eval @0 (source :Text) -> (output :Text, outcome :Outcome, cwd :Text);
  # Evaluates Glia source. `output` is what it printed; `cwd` the working
  # directory afterwards (for a prompt).

  interrupt @1 ();
  # Interrupts the evaluation made through this Shell (Ctrl-C), running
  # or waiting for its turn: it fails with "interrupted"; the shell goes
  # on. Another front end's evaluation is not touched.

  session @2 () -> (shell :Shell);
  # A Shell of one's own over the same interpreter, for one front end (the
  # node's terminal, each remote `ww shell`): evaluations still take turns
  # and share definitions, but its `interrupt` reaches only its own.

  struct Outcome {
    union {
      value @0 :Text;
      # The last form's value, printed readably ("nil" for none).

      error @1 :Text;
      # What went wrong (a parse error, a failed call, ...).

      incomplete @2 :Void;
      # The source ends inside a form: send it again with more lines.

      exit @3 :Int32;
      # `(exit n)` was evaluated: the session asks to end with status n.
    }
  }
}
