@0xbbc0aa8cbd30f1d6;
# The kernel's shell, exported by pid0 to its host so that front ends the
# host runs (a terminal with line editing, an MCP server for agents) can
# drive it.

interface Shell {
  eval @0 (source :Text) -> (output :Text, outcome :Outcome, cwd :Text, forms :List(Form));
  # Evaluates Glia source. `output` is what it printed; `cwd` the working
  # directory afterwards (for a prompt).
  #
  # Source holding several top-level forms (a pasted block) is evaluated
  # form by form, like a REPL reading the paste, and stops at the first
  # form that fails (or exits). `forms` then holds each form evaluated, in
  # order, with what it printed and its outcome; `output` is all of it and
  # `outcome` the last evaluated form's (the error where it stopped).
  # `forms` is empty for one form, or source that does not read.

  interrupt @1 ();
  # Interrupts the evaluation made through this Shell (Ctrl-C), running
  # or waiting for its turn: it fails with "interrupted"; the shell goes
  # on. Another front end's evaluation is not touched.

  session @2 () -> (shell :Shell);
  # A Shell of one's own over the same interpreter, for one front end (the
  # node's terminal, each remote `ww shell`): evaluations still take turns
  # and share definitions, but its `interrupt` reaches only its own.

  graft @3 () -> (epoch :UInt64);
  # Grafts the shell's capabilities again now, instead of after a call
  # fails with staleEpoch, and returns the new epoch's seq: a front end
  # that learns the node's epoch ended (the MCP server) calls it so the
  # next call it makes uses the new epoch's capabilities. Waits for the
  # evaluation in progress, like an evaluation.

  struct Form {
    # One top-level form of a multi-form `eval`, as it was evaluated.

    source @0 :Text;
    # The form's text.

    output @1 :Text;
    # What it printed.

    outcome @2 :Outcome;
  }

  struct Outcome {
    union {
      value @0 :Text;
      # The (last) form's value, printed readably ("nil" for none).

      error @1 :Text;
      # What went wrong (a parse error, a failed call, ...).

      incomplete @2 :Void;
      # The source ends inside a form: send it again with more lines.

      exit @3 :Int32;
      # `(exit n)` was evaluated: the session asks to end with status n.
    }
  }
}
