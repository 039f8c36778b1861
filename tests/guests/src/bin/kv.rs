//! A provider process written in Python (`tests/providers/python`), called
//! from a Wasm guest through its own schema: stopped while a call is in
//! flight, that call fails naming the provider; after its restart, a new
//! graft reaches the new process.

use std::process::ExitCode;

use ww_test_guests::kv_capnp::kv;
use ww_test_guests::ready_then_wait;

async fn get(kv: &kv::Client, key: &str) -> Result<Option<String>, capnp::Error> {
    let mut request = kv.get_request();
    request.get().set_key(key);
    let reply = request.send().promise.await?;
    let reply = reply.get()?;
    Ok(match reply.get_found() {
        true => Some(reply.get_value()?.to_string()?),
        false => None,
    })
}

async fn set(kv: &kv::Client, key: &str, value: &str) -> Result<(), capnp::Error> {
    let mut request = kv.set_request();
    request.get().set_key(key);
    request.get().set_value(value);
    request.send().promise.await?;
    Ok(())
}

async fn pid(kv: &kv::Client) -> Result<u32, capnp::Error> {
    Ok(kv.pid_request().send().promise.await?.get()?.get_pid())
}

fn main() -> ExitCode {
    ww_guest::run(|membrane| async move {
        let caps = ww_guest::graft(&membrane).await?;
        let old: kv::Client = caps.get("kv")?;
        set(&old, "a", "1").await?;
        println!("get: {}", get(&old, "a").await?.unwrap_or_default());
        println!("pid: {}", pid(&old).await?);

        // The test stops the provider while this call is in flight.
        match old.hang_request().send().promise.await {
            Err(e) => println!("hang: error ({e})"),
            Ok(_) => println!("hang: NO ERROR"),
        }
        match get(&old, "a").await {
            Err(e) if ww_guest::provider_down(&e) => println!("old: down"),
            Err(e) => println!("old: error ({e})"),
            Ok(v) => println!("old: NO ERROR ({v:?})"),
        }

        // The test lets go once the node says the provider restarted.
        ready_then_wait()?;
        let caps = ww_guest::graft(&membrane).await?;
        let new: kv::Client = caps.get("kv")?;
        let before = get(&new, "a").await?;
        println!("after: {}", before.as_deref().unwrap_or("(none)"));
        set(&new, "b", "2").await?;
        println!("after-get: {}", get(&new, "b").await?.unwrap_or_default());
        println!("new-pid: {}", pid(&new).await?);
        Ok(())
    })
}
