use super::*;
use futures::future::LocalBoxFuture;
use ww_provider_sdk::error::Error;
use ww_provider_sdk::manifest::{ConfigKey, ExportDecl};

/// A provider that only has a manifest; starting it is never needed here.
struct Declared(Manifest);

impl Provider for Declared {
    fn manifest(&self) -> Manifest {
        self.0.clone()
    }
    fn start(&self, _: Context) -> LocalBoxFuture<'static, Result<Vec<Export>, Error>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

fn provider(name: &str, exports: &[&str], requires: &[&str]) -> Box<dyn Provider> {
    Box::new(Declared(Manifest {
        name: name.into(),
        version: "0.1.0".into(),
        exports: exports
            .iter()
            .map(|x| ExportDecl {
                name: x.to_string(),
                audience: Audience::Guests,
            })
            .collect(),
        requires: requires.iter().map(|r| r.to_string()).collect(),
        config: vec![ConfigKey {
            key: format!("{name}.key"),
            help: "for tests".into(),
            required: false,
        }],
    }))
}

fn names(plan: &Plan) -> Vec<String> {
    plan.entries()
        .iter()
        .map(|e| e.manifest.name.clone())
        .collect()
}

#[test]
fn starts_in_dependency_order() {
    let plan = Plan::new(
        vec![
            provider("ipfs", &["ipfs"], &["host", "routing"]),
            provider("routing", &["routing"], &["host"]),
            provider("host", &["host"], &[]),
        ],
        vec![],
    )
    .unwrap();
    assert_eq!(names(&plan), ["host", "routing", "ipfs"]);
}

#[test]
fn missing_requirement_is_named() {
    let err = Plan::new(vec![provider("routing", &["routing"], &["host"])], vec![])
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(matches!(err, RegistryError::Missing { .. }));
    assert!(text.contains("`routing` requires `host`"), "{text}");
}

#[test]
fn cycle_is_named() {
    let err = Plan::new(
        vec![
            provider("a", &["a"], &["b"]),
            provider("b", &["b"], &["c"]),
            provider("c", &["c"], &["a"]),
        ],
        vec![],
    )
    .err()
    .unwrap();
    let RegistryError::Cycle { cycle } = &err else {
        panic!("{err}")
    };
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{err}");
}

#[test]
fn duplicate_builtin_exports_are_refused() {
    let err = Plan::new(
        vec![provider("a", &["x"], &[]), provider("b", &["x"], &[])],
        vec![],
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, RegistryError::DuplicateExport { .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn missing_required_config_is_refused_before_start() {
    let mut manifest = provider("p", &["p"], &[]).manifest();
    manifest.config[0].required = true;
    let plan = Plan::new(vec![Box::new(Declared(manifest))], vec![]).unwrap();
    let err = plan.start(&BTreeMap::new()).await.err().unwrap();
    assert!(err.to_string().contains("--config p.key=VALUE"), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn exports_must_match_the_manifest() {
    let plan = Plan::new(vec![provider("p", &["p"], &[])], vec![]).unwrap();
    let err = plan.start(&BTreeMap::new()).await.err().unwrap();
    assert!(matches!(err, RegistryError::Undeclared { .. }), "{err}");
}
