//! What time slices cost a busy cell: the same compute loop on an engine
//! without epoch interruption, and on ww's engine (a ticker thread
//! advancing the epoch every tick, the cell yielding at each tick, every
//! poll measured and charged by the CPU scheduler, the budget checked).
//!
//! `cargo bench -p ww --bench time_slices`

use criterion::{criterion_group, criterion_main, Criterion};
use wasmtime::{Engine, Module, Store};
use ww_core::cpu::Scheduler;
use ww_core::limits::{time_slices, Limits};

/// `run(n)`: n rounds of a 64-bit LCG; the result depends on every round.
const LOOP: &str = r#"
(module
  (func (export "run") (param $n i64) (result i64)
    (local $x i64)
    (local.set $x (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005))
                               (i64.const 1442695040888963407)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $x)))
"#;

/// Rounds per call: ~20-40 ms of work, a few time slices.
const ROUNDS: i64 = 20_000_000;

/// One call of `run(ROUNDS)` in a fresh store (compiled beforehand: only
/// instantiation and the loop are timed), run by turns as a cell when
/// `sliced`.
fn run(module: &Module, sliced: Option<(Limits, &Scheduler)>, rt: &tokio::runtime::Runtime) -> i64 {
    let mut store = Store::new(module.engine(), ());
    let share = sliced.map(|(limits, scheduler)| {
        let share = scheduler.top("loop");
        time_slices(&mut store, &limits, share.meter());
        share
    });
    let execution = async move {
        let instance = wasmtime::Instance::new_async(&mut store, module, &[])
            .await
            .expect("instantiates");
        let run = instance
            .get_typed_func::<i64, i64>(&mut store, "run")
            .expect("exports run");
        run.call_async(&mut store, ROUNDS).await.expect("runs")
    };
    let local = tokio::task::LocalSet::new();
    match share {
        Some(share) => local.block_on(rt, share.run(execution)),
        None => local.block_on(rt, execution),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut plain = wasmtime::Config::new();
    plain.concurrency_support(false);
    let plain = Engine::new(&plain).expect("an engine");
    // ww's engine: epoch interruption on, its ticker thread running.
    let ww = ww_core::engine::Engine::new(None).expect("ww's engine");
    let plain = Module::new(&plain, LOOP).expect("the loop compiles");
    let sliced = Module::new(ww.wasmtime(), LOOP).expect("the loop compiles");

    let mut group = c.benchmark_group("compute loop, 20M rounds");
    group.sample_size(20);
    group.bench_function("no time slices", |b| b.iter(|| run(&plain, None, &rt)));
    let scheduler = Scheduler::new();
    group.bench_function("ww time slices", |b| {
        b.iter(|| run(&sliced, Some((Limits::default(), &scheduler)), &rt))
    });
    let budget = Limits {
        cpu: Some(std::time::Duration::from_secs(3600)),
        ..Limits::default()
    };
    group.bench_function("ww time slices + CPU budget", |b| {
        b.iter(|| run(&sliced, Some((budget, &scheduler)), &rt))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
