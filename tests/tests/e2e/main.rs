//! End-to-end tests: the real `ww` binary, real guests, real providers.
//! Built artefacts come from scripts/test.sh; `ww_tests` (tests/src) is the
//! harness.

// Booting images: the kernel, layers, exit statuses.
mod boot;
// Identity: signing a challenge, verified outside ww.
mod identity;
// Providers as plugins: .so loading, fingerprints, panics, replacement.
mod plugins;
// Provider configuration: refused values exit 2, the node key is chosen by --identity.
mod config;
// Writing a provider: `ww init --provider`, cargo, `ww providers`, `ww run --provider`.
mod authoring;
// Providers as processes: Rust and Python, handshake, SIGKILL mid-call, restart.
mod process_providers;
// Epochs: revocation of top-level and returned capabilities, re-graft.
mod epoch;
// `ww build`: a guest crate becomes an image.
mod build;
// The executor: child cells, attenuation, limits, statuses.
mod executor;
// Bad input: never a host panic, always a clear error and status.
mod bad_input;
// Compilation: a compile bomb and a compile flood stay within their bounds.
mod compile;
// The sandbox: what a cell cannot reach.
mod sandbox;
// The libp2p host: two nodes on loopback connect and see each other.
mod host;
// The kernel's Glia shell: capabilities as values, PATH, init.d, services.
mod shell;
// `ww run --mcp`, driven by the Python MCP SDK.
mod mcp;
// `ww shell <multiaddr>`: the kernel's shell over libp2p, behind the terminal's login.
mod remote_shell;
// The shell on a real terminal (tmux): prompt, history, Ctrl-C, Ctrl-D.
mod terminal;
// The typed WIT door: same results as the vat, typed stale-epoch, examples, `ww init`.
mod wit;
// The WIT worlds against what built guests really import.
mod worlds;
// IPFS: Kubo's CIDs, Bitswap between nodes, image layers from IPFS.
mod ipfs;
// Crash safety: adds killed at random points, then `ww check` and a restart.
mod crash;
// The stem: epochs follow an Atom contract on a real chain.
mod stem;
// Hostile cells: amplified messages, unread answers, capability and stream floods.
mod hostile;
// The node's memory budget: hostile children, pid0's limit, the flags.
mod memory;
// Native cells: any executable as pid0 or child, its vat on fd 3.
mod native;
// A native cell in Python with pycapnp: jailed, grafts, identity, ipfs, epochs.
mod python_cell;
// Trimmed builds: the minimal ww boots, and names the features it lacks.
mod trimmed;
// Another architecture: the minimal ww and the identity library for aarch64, under qemu.
mod aarch64;
// Targets: code compiled for Pulley, Wasmtime's interpreter, and run in it.
mod pulley;
// Shell completions and the manual page, from the CLI's own definition.
mod cli_docs;
